//! What a consent covers. A consent is given under one published version of the notice; it covers
//! only the categories each purpose had in that version (re-consent on widening) and, of those,
//! only what the policy in force still lets the purpose use (narrowing applies at once).
//!
//! Published versions are parsed once and kept as, per purpose of the policy in force, the set of
//! its categories that version already named. The cache is reloaded when a consent names a
//! version it has not seen, so a `mamori policy publish` run by another process is picked up.

use std::sync::{Arc, RwLock};

use mamori_policy::{IdSet, Policy, Purpose};
use mamori_store::Store;

use crate::error::Result;

/// One published version, seen from the policy in force.
struct Scope {
    version: i64,
    published_ms: i64,
    hash: [u8; 32],
    /// Indexed by purpose id of the policy in force: the categories that version's purpose of
    /// the same name covered (empty when the version did not have the purpose).
    covers: Vec<IdSet>,
}

/// Every published version, oldest first.
#[derive(Default)]
pub struct Scopes {
    versions: Vec<Scope>,
}

impl Scopes {
    fn load(policy: &Policy, published: &[mamori_store::PolicyVersion]) -> Scopes {
        let versions = published
            .iter()
            .map(|v| Scope {
                version: v.version,
                published_ms: v.published_ms,
                hash: v.hash,
                covers: covers_in(policy, &v.policy, v.version),
            })
            .collect();
        Scopes { versions }
    }

    /// The latest published version with this text hash, and when it was published.
    pub fn published_as(&self, hash: &[u8; 32]) -> Option<(i64, i64)> {
        let scope = self.versions.iter().rev().find(|s| &s.hash == hash)?;
        Some((scope.version, scope.published_ms))
    }

    fn knows(&self, version: i64) -> bool {
        self.versions.iter().any(|s| s.version == version)
    }

    /// The version a consent was given under: the one it names (`v<N>`), else the one in force
    /// when it was given, else the first (a consent older than every published version).
    fn scope_of(&self, notice_version: Option<&str>, given_ms: i64) -> Option<&Scope> {
        let named = notice_version.and_then(parse_version);
        named
            .and_then(|n| self.versions.iter().find(|s| s.version == n))
            .or_else(|| {
                self.versions
                    .iter()
                    .rev()
                    .find(|s| s.published_ms <= given_ms)
            })
            .or_else(|| self.versions.first())
    }

    /// The categories of `purpose` (policy in force) that a consent given under
    /// `notice_version` at `given_ms` covers. With nothing published there is no older notice
    /// to compare with, so the consent covers the purpose as it stands.
    pub fn covered(&self, purpose: &Purpose, notice_version: Option<&str>, given_ms: i64) -> IdSet {
        match self.scope_of(notice_version, given_ms) {
            None => purpose.categories,
            Some(scope) => {
                let then = scope.covers.get(purpose.id).copied().unwrap_or_default();
                IdSet(then.0 & purpose.categories.0)
            }
        }
    }

    /// Whether `version` (`v<N>`) is published and had `purpose`: a consent can only be given
    /// under a notice that described the purpose.
    pub fn described(&self, purpose: &Purpose, version: &str) -> Option<bool> {
        let n = parse_version(version)?;
        let scope = self.versions.iter().find(|s| s.version == n)?;
        Some(
            !scope
                .covers
                .get(purpose.id)
                .copied()
                .unwrap_or_default()
                .is_empty(),
        )
    }
}

pub fn parse_version(text: &str) -> Option<i64> {
    text.strip_prefix('v')?.parse().ok().filter(|n| *n > 0)
}

/// Per purpose in force, the categories `text` (an older policy) let the same-named purpose use.
fn covers_in(policy: &Policy, text: &str, version: i64) -> Vec<IdSet> {
    let Ok(then) = Policy::parse("published", text) else {
        // It was valid when published; if this build can no longer read it, nothing it said
        // can be relied on, so its consents cover nothing (denied until given again).
        tracing::warn!(version, "a published policy version no longer parses");
        return vec![IdSet::EMPTY; policy.purposes.len()];
    };
    policy
        .purposes
        .iter()
        .map(|now| match then.purpose(&now.name) {
            None => IdSet::EMPTY,
            // Agreeing to a purpose that did not sell or share is no agreement to one that does.
            Some(old) if now.sale_or_share && !old.sale_or_share => IdSet::EMPTY,
            Some(old) => old
                .categories
                .iter()
                .filter_map(|c| policy.category(&then.categories[c].name))
                .fold(IdSet::EMPTY, |set, c| set.with(c.id)),
        })
        .collect()
}

/// The consent-based purposes of `new` that a consent given under `old` no longer covers whole
/// (categories added, or sale/sharing added), with the categories added.
pub fn widened_consents<'p>(old: &Policy, new: &'p Policy) -> Vec<(&'p Purpose, Vec<String>)> {
    new.purposes
        .iter()
        .filter(|p| p.legal_basis == mamori_policy::LegalBasis::Consent)
        .filter_map(|p| {
            let before = old.purpose(&p.name)?;
            let added: Vec<String> = new
                .category_names(p.categories)
                .into_iter()
                .filter(|c| !old.category_names(before.categories).contains(c))
                .collect();
            let shares = p.sale_or_share && !before.sale_or_share;
            (shares || !added.is_empty()).then_some((p, added))
        })
        .collect()
}

/// The parsed versions, shared by every clone of the vault.
#[derive(Default)]
pub struct ScopeCache {
    loaded: RwLock<Option<Arc<Scopes>>>,
}

impl ScopeCache {
    /// The scopes, (re)loaded if never loaded or if `wanted` names a version not yet seen.
    pub async fn get(
        &self,
        policy: &Policy,
        store: &dyn Store,
        wanted: impl IntoIterator<Item = Option<i64>>,
    ) -> Result<Arc<Scopes>> {
        let current = self
            .loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(scopes) = current {
            let mut wanted = wanted.into_iter().flatten();
            if wanted.all(|n| scopes.knows(n)) {
                return Ok(scopes);
            }
        }
        let published = store.policy_versions().await?;
        let scopes = Arc::new(Scopes::load(policy, &published));
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = Some(scopes.clone());
        Ok(scopes)
    }

    /// Forgets the loaded versions (after a publish through this process).
    pub fn invalidate(&self) {
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = include_str!("../../../examples/policy.toml");

    fn version(n: i64, ms: i64, text: &str) -> mamori_store::PolicyVersion {
        mamori_store::PolicyVersion {
            version: n,
            hash: [0; 32],
            published_ms: ms,
            actor: "test".into(),
            policy: text.into(),
        }
    }

    #[test]
    fn nothing_published_covers_the_purpose_as_it_stands() {
        let policy = Policy::parse("p", BASE).unwrap();
        let scopes = Scopes::load(&policy, &[]);
        for p in &policy.purposes {
            assert_eq!(scopes.covered(p, None, 0), p.categories);
            assert_eq!(scopes.covered(p, Some("v3"), 0), p.categories);
        }
    }

    #[test]
    fn a_version_parses_only_as_v_and_a_positive_number() {
        assert_eq!(parse_version("v12"), Some(12));
        for bad in ["12", "v0", "v-1", "vx", "", "V1", "v1.0"] {
            assert_eq!(parse_version(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_consent_covers_only_what_its_version_described_and_the_policy_still_allows() {
        let narrow = BASE.replace(
            "legal_basis = \"consent\"\ncategories = [\"preferences\", \"orders\"]",
            "legal_basis = \"consent\"\ncategories = [\"preferences\"]",
        );
        assert_ne!(
            narrow, BASE,
            "the fixture must change the personalisation purpose"
        );
        let policy = Policy::parse("p", BASE).unwrap();
        let scopes = Scopes::load(
            &policy,
            &[version(1, 1_000, &narrow), version(2, 2_000, BASE)],
        );
        let personalisation = policy.purpose("personalisation").unwrap();
        let preferences = IdSet::EMPTY.with(policy.category("preferences").unwrap().id);
        // Named version wins over the time it was given.
        assert_eq!(
            scopes.covered(personalisation, Some("v1"), 5_000),
            preferences
        );
        assert_eq!(
            scopes.covered(personalisation, Some("v2"), 0),
            personalisation.categories
        );
        // Unnamed or unknown: the version in force then; before any: the first.
        assert_eq!(scopes.covered(personalisation, None, 1_500), preferences);
        assert_eq!(
            scopes.covered(personalisation, Some("2019-a"), 2_500),
            personalisation.categories
        );
        assert_eq!(scopes.covered(personalisation, None, 10), preferences);
        assert_eq!(scopes.described(personalisation, "v1"), Some(true));
        assert_eq!(scopes.described(personalisation, "v9"), None);
    }

    #[test]
    fn an_unreadable_version_covers_nothing() {
        let policy = Policy::parse("p", BASE).unwrap();
        let scopes = Scopes::load(&policy, &[version(1, 1_000, "not a policy")]);
        for p in &policy.purposes {
            assert!(scopes.covered(p, Some("v1"), 0).is_empty());
            assert_eq!(scopes.described(p, "v1"), Some(false));
        }
    }
}

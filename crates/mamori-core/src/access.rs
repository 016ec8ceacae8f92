//! The one access decision. Every read or write of personal data, from the API, the CLI or an
//! import, is decided here and nowhere else; the caller ledgers the result, allowed or denied.

use mamori_policy::{Action, AdminPermission, IdSet, LegalBasis, Policy, SurveyPermission};

/// Why an access was refused. The code is stable: it appears in API errors and ledger events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    UnknownPurpose,
    PurposeNotAllowedForRole,
    ActionNotAllowedForRole,
    PurposeDoesNotCoverCategory,
    ConsentRequired,
    ReconsentRequired,
    NothingToView,
    NotOwnRecord,
    KeptUnderLegalHold,
    PermissionNotGranted,
    /// The role's people act only with a second factor, which an API key cannot carry.
    MfaRequired,
    /// The role's people act only with current training, which an API key cannot hold.
    TrainingRequired,
    /// The person's training for the role has expired (or the role's access widened since).
    TrainingExpired,
    /// A sensitive action (erasure, keys, policy, exports) needs a factor proved again lately.
    ReauthenticationRequired,
    /// A disclosure named a vendor the policy's register does not declare.
    UnknownVendor,
    /// The role may not disclose to this vendor (`disclose = [...]`).
    VendorNotAllowedForRole,
    /// The vendor does not serve this purpose, or may not receive one of the categories.
    VendorDoesNotServe,
    /// The vendor's contract is not current, or its last security review failed.
    VendorNotContracted,
    /// A vendor's confirmation is not signed with its secret, or not lately.
    VendorSignatureInvalid,
    /// A vendor confirmed another vendor's task.
    VendorTaskOtherVendor,
}

impl Denial {
    pub fn code(self) -> mamori_proto::ErrorCode {
        use mamori_proto::ErrorCode;
        match self {
            Denial::UnknownPurpose => ErrorCode::UnknownPurpose,
            Denial::PurposeNotAllowedForRole => ErrorCode::PurposeNotAllowedForRole,
            Denial::ActionNotAllowedForRole => ErrorCode::ActionNotAllowedForRole,
            Denial::PurposeDoesNotCoverCategory => ErrorCode::PurposeDoesNotCoverCategory,
            Denial::ConsentRequired => ErrorCode::ConsentRequired,
            Denial::ReconsentRequired => ErrorCode::ReconsentRequired,
            Denial::NothingToView => ErrorCode::NothingToView,
            Denial::NotOwnRecord => ErrorCode::NotOwnRecord,
            Denial::KeptUnderLegalHold => ErrorCode::KeptUnderLegalHold,
            Denial::PermissionNotGranted => ErrorCode::PermissionNotGranted,
            Denial::MfaRequired => ErrorCode::MfaRequired,
            Denial::TrainingRequired => ErrorCode::TrainingRequired,
            Denial::TrainingExpired => ErrorCode::TrainingExpired,
            Denial::ReauthenticationRequired => ErrorCode::ReauthenticationRequired,
            Denial::UnknownVendor => ErrorCode::UnknownVendor,
            Denial::VendorNotAllowedForRole => ErrorCode::VendorNotAllowedForRole,
            Denial::VendorDoesNotServe => ErrorCode::VendorDoesNotServe,
            Denial::VendorNotContracted => ErrorCode::VendorNotContracted,
            Denial::VendorSignatureInvalid => ErrorCode::VendorSignatureInvalid,
            Denial::VendorTaskOtherVendor => ErrorCode::VendorTaskOtherVendor,
        }
    }

    pub fn explain(self) -> &'static str {
        match self {
            Denial::UnknownPurpose => {
                "the purpose named in Mamori-Purpose is not declared in the policy"
            }
            Denial::PurposeNotAllowedForRole => {
                "your role may not use this purpose; see the roles section of the policy"
            }
            Denial::ActionNotAllowedForRole => {
                "your role may not perform this action on every category the request touches"
            }
            Denial::PurposeDoesNotCoverCategory => {
                "the purpose does not cover every category the request touches"
            }
            Denial::ConsentRequired => {
                "this purpose needs the person's consent, and none is recorded"
            }
            Denial::ReconsentRequired => {
                "the policy widened this purpose after the person consented; the categories added \
                 since need their agreement again"
            }
            Denial::NothingToView => {
                "your role may view none of the categories this purpose covers"
            }
            Denial::NotOwnRecord => {
                "a person signed in to the privacy center acts on their own record only"
            }
            Denial::KeptUnderLegalHold => {
                "this person was erased; what a legal obligation requires is kept until the hold \
                 ends and may be read only for a purpose of that kind"
            }
            Denial::PermissionNotGranted => {
                "your role is not granted this administrative permission; see `admin = [...]` in \
                 the roles section of the policy"
            }
            Denial::MfaRequired => {
                "people of this role act only with a second factor (require_mfa), which an API \
                 key cannot carry: sign in to the console, or use a role declared `machine = true`"
            }
            Denial::TrainingRequired => {
                "this role acts only with current training (require_training): complete the \
                 role's training in the console; API keys need a role declared `machine = true`"
            }
            Denial::TrainingExpired => {
                "your training for this role has expired or the role's access has widened since: \
                 take the role's training again in the console"
            }
            Denial::ReauthenticationRequired => {
                "this action is sensitive: enter a code from your authenticator app (or a \
                 recovery code) to confirm it is you"
            }
            Denial::UnknownVendor => "the vendor is not declared in the policy's [vendors]",
            Denial::VendorNotAllowedForRole => {
                "your role may not disclose to this vendor; see `disclose = [...]` in the roles \
                 section of the policy"
            }
            Denial::VendorDoesNotServe => {
                "the vendor does not serve this purpose, or may not receive every category asked for"
            }
            Denial::VendorNotContracted => {
                "the vendor has no current contract (or its last security review failed): nothing \
                 may be disclosed to it"
            }
            Denial::VendorSignatureInvalid => {
                "sign the request with the vendor's secret in the Standard Webhooks form \
                 (webhook-id, webhook-timestamp within 5 minutes, webhook-signature v1)"
            }
            Denial::VendorTaskOtherVendor => "this task is another vendor's to confirm",
        }
    }
}

/// Consent as the decision sees it: for a purpose, the categories the person's consent covers
/// (empty when not granted). A consent covers only the categories the purpose had in the notice
/// the person saw, so a purpose widened since then is allowed only for the older part.
pub trait ConsentView {
    fn covered(&self, purpose: usize) -> IdSet;
}

/// No consent recorded: the privacy-by-default answer.
pub struct NoConsent;

impl ConsentView for NoConsent {
    fn covered(&self, _purpose: usize) -> IdSet {
        IdSet::EMPTY
    }
}

/// What was allowed: for views, the categories that may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed {
    pub purpose: usize,
    pub categories: IdSet,
}

/// Decides whether `role` may perform `action` on `categories` for `purpose`.
///
/// For `View`, `categories` is what the caller would like to see; the answer narrows it to what
/// the purpose covers and the role may view (a purpose-scoped view). For every other action all
/// of `categories` must be permitted, or nothing is.
pub fn decide(
    policy: &Policy,
    role_name: &str,
    purpose_name: &str,
    action: Action,
    categories: IdSet,
    consent: &dyn ConsentView,
) -> Result<Allowed, Denial> {
    let purpose = policy.purpose(purpose_name).ok_or(Denial::UnknownPurpose)?;
    let role = policy
        .role(role_name)
        .ok_or(Denial::PurposeNotAllowedForRole)?;
    if !role.purposes.contains(purpose.id) {
        return Err(Denial::PurposeNotAllowedForRole);
    }
    let granted = match action {
        Action::View => {
            let visible = IdSet(categories.0 & purpose.categories.0 & role.view.0);
            if visible.is_empty() {
                return Err(Denial::NothingToView);
            }
            visible
        }
        _ => {
            if !purpose.categories.is_superset_of(categories) {
                return Err(Denial::PurposeDoesNotCoverCategory);
            }
            if !role.may(action).is_superset_of(categories) {
                return Err(Denial::ActionNotAllowedForRole);
            }
            categories
        }
    };
    let granted = if purpose.legal_basis == LegalBasis::Consent {
        within_consent(action, granted, consent.covered(purpose.id))?
    } else {
        granted
    };
    Ok(Allowed {
        purpose: purpose.id,
        categories: granted,
    })
}

/// A permission that is not about a person's data: what a role may do to Mamori itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Admin(AdminPermission),
    Surveys(SurveyPermission),
}

/// Decides whether `role_name` holds `permission`. The built-in `self` role (a person signed in
/// to the privacy center) holds none, and a role the policy does not declare holds none.
pub fn permits(policy: &Policy, role_name: &str, permission: Permission) -> Result<(), Denial> {
    let role = policy
        .role(role_name)
        .filter(|r| r.name != mamori_policy::SELF_ROLE);
    match (role, permission) {
        (Some(r), Permission::Admin(p)) if r.admin.contains(p) => Ok(()),
        (_, Permission::Admin(_)) => Err(Denial::PermissionNotGranted),
        (Some(r), Permission::Surveys(SurveyPermission::Manage)) if r.surveys.manage => Ok(()),
        (Some(r), Permission::Surveys(SurveyPermission::Results)) if r.surveys.results => Ok(()),
        // Survey refusals keep the code they have always had.
        (_, Permission::Surveys(_)) => Err(Denial::ActionNotAllowedForRole),
    }
}

/// Narrows a view to what the consent covers; any other action must be covered whole.
fn within_consent(action: Action, wanted: IdSet, covered: IdSet) -> Result<IdSet, Denial> {
    if covered.is_empty() {
        return Err(Denial::ConsentRequired);
    }
    let within = IdSet(wanted.0 & covered.0);
    let whole = within == wanted;
    match action {
        Action::View if !within.is_empty() => Ok(within),
        _ if whole => Ok(within),
        _ => Err(Denial::ReconsentRequired),
    }
}

/// The actor id of a person signed in to the privacy center: the only identity [`SELF_ROLE`]
/// can act under, and only on this record.
///
/// [`SELF_ROLE`]: mamori_policy::SELF_ROLE
pub fn self_actor_id(subject: &[u8; 16]) -> String {
    format!("subject:{}", crate::format_id(subject))
}

/// A person may act only on their own record; every other role is bound by the decision alone.
pub fn owns(role_name: &str, actor_id: &str, subject: Option<&[u8; 16]>) -> bool {
    role_name != mamori_policy::SELF_ROLE || subject.is_some_and(|s| actor_id == self_actor_id(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::parse("policy.toml", include_str!("../../../examples/policy.toml")).unwrap()
    }

    fn cats(p: &Policy, names: &[&str]) -> IdSet {
        names
            .iter()
            .fold(IdSet::EMPTY, |s, n| s.with(p.category(n).unwrap().id))
    }

    struct AllConsent;
    impl ConsentView for AllConsent {
        fn covered(&self, _: usize) -> IdSet {
            IdSet(u64::MAX)
        }
    }

    /// A consent given when the purpose covered only `0`.
    struct OlderConsent(IdSet);
    impl ConsentView for OlderConsent {
        fn covered(&self, _: usize) -> IdSet {
            self.0
        }
    }

    #[test]
    fn a_consent_covers_only_the_categories_it_was_given_for() {
        let p = policy();
        let older = OlderConsent(cats(&p, &["preferences"]));
        let both = cats(&p, &["orders", "preferences"]);
        let view = decide(&p, "service", "personalisation", Action::View, both, &older);
        assert_eq!(view.unwrap().categories, cats(&p, &["preferences"]));
        let orders = cats(&p, &["orders"]);
        let d = |action, c| decide(&p, "service", "personalisation", action, c, &older);
        assert_eq!(d(Action::View, orders), Err(Denial::ReconsentRequired));
        assert_eq!(d(Action::Create, both), Err(Denial::ReconsentRequired));
        assert!(d(Action::Create, cats(&p, &["preferences"])).is_ok());
        let none = OlderConsent(IdSet::EMPTY);
        let d = decide(&p, "service", "personalisation", Action::View, both, &none);
        assert_eq!(d, Err(Denial::ConsentRequired));
    }

    #[test]
    fn purpose_scoped_view_narrows_to_purpose_and_role() {
        let p = policy();
        let all = p.all_categories();
        let ok = decide(
            &p,
            "support",
            "customer_support",
            Action::View,
            all,
            &NoConsent,
        )
        .unwrap();
        assert_eq!(
            ok.categories,
            cats(
                &p,
                &["contact", "orders", "support_tickets", "address", "payment"]
            )
        );
        let ok = decide(&p, "analyst", "analytics", Action::View, all, &NoConsent).unwrap();
        assert_eq!(ok.categories, cats(&p, &["orders", "preferences"]));
    }

    #[test]
    fn each_rule_denies_on_its_own() {
        let p = policy();
        let all = p.all_categories();
        let d = |role, purpose, action, c| {
            decide(&p, role, purpose, action, c, &NoConsent).unwrap_err()
        };
        assert_eq!(
            d("support", "nope", Action::View, all),
            Denial::UnknownPurpose
        );
        assert_eq!(
            d("analyst", "customer_support", Action::View, all),
            Denial::PurposeNotAllowedForRole
        );
        assert_eq!(
            d(
                "support",
                "customer_support",
                Action::Create,
                cats(&p, &["contact"])
            ),
            Denial::ActionNotAllowedForRole
        );
        assert_eq!(
            d(
                "service",
                "order_fulfilment",
                Action::Create,
                cats(&p, &["support_tickets"])
            ),
            Denial::PurposeDoesNotCoverCategory
        );
        assert_eq!(
            d("marketing", "marketing_email", Action::View, all),
            Denial::ConsentRequired
        );
        assert_eq!(
            d(
                "support",
                "customer_support",
                Action::View,
                cats(&p, &["preferences"])
            ),
            Denial::NothingToView
        );
        assert_eq!(
            d("ghost", "customer_support", Action::View, all),
            Denial::PurposeNotAllowedForRole
        );
    }

    #[test]
    fn consent_purposes_open_only_with_consent() {
        let p = policy();
        let c = cats(&p, &["contact", "preferences"]);
        assert!(
            decide(
                &p,
                "marketing",
                "marketing_email",
                Action::View,
                c,
                &NoConsent
            )
            .is_err()
        );
        assert!(
            decide(
                &p,
                "marketing",
                "marketing_email",
                Action::View,
                c,
                &AllConsent
            )
            .is_ok()
        );
    }

    #[test]
    fn a_person_may_use_only_the_rights_purpose_on_their_own_record() {
        let p = policy();
        let all = p.all_categories();
        let rights = mamori_policy::RIGHTS_PURPOSE;
        let view = decide(
            &p,
            mamori_policy::SELF_ROLE,
            rights,
            Action::View,
            all,
            &NoConsent,
        );
        assert_eq!(
            view.unwrap().categories,
            p.purpose(rights).unwrap().categories
        );
        let d = decide(
            &p,
            "self",
            "marketing_email",
            Action::View,
            all,
            &AllConsent,
        );
        assert_eq!(d, Err(Denial::PurposeNotAllowedForRole));
        let d = decide(
            &p,
            "self",
            rights,
            Action::Create,
            cats(&p, &["contact"]),
            &NoConsent,
        );
        assert_eq!(d, Err(Denial::ActionNotAllowedForRole));
        assert!(decide(&p, "self", rights, Action::Delete, all, &NoConsent).is_ok());
        let (me, other) = ([1u8; 16], [2u8; 16]);
        assert!(owns("self", &self_actor_id(&me), Some(&me)));
        assert!(!owns("self", &self_actor_id(&me), Some(&other)));
        assert!(!owns("self", &self_actor_id(&me), None));
        assert!(owns("support", "key:x", Some(&other)));
    }

    #[test]
    fn administrative_permissions_come_from_the_policy_alone() {
        let p = policy();
        let admin = |role, perm| permits(&p, role, Permission::Admin(perm));
        for (_, perm) in AdminPermission::ALL {
            assert_eq!(admin("privacy_officer", perm), Ok(()));
            for role in ["analyst", "support", "marketing", "self", "ghost"] {
                assert_eq!(admin(role, perm), Err(Denial::PermissionNotGranted));
            }
        }
        assert_eq!(admin("service", AdminPermission::Events), Ok(()));
        assert_eq!(
            admin("service", AdminPermission::Webhooks),
            Err(Denial::PermissionNotGranted)
        );
        let surveys = |role, perm| permits(&p, role, Permission::Surveys(perm));
        assert_eq!(surveys("analyst", SurveyPermission::Results), Ok(()));
        assert_eq!(
            surveys("analyst", SurveyPermission::Manage),
            Err(Denial::ActionNotAllowedForRole)
        );
    }

    #[test]
    fn erasure_needs_delete_on_everything() {
        let p = policy();
        let all = p.all_categories();
        assert!(
            decide(
                &p,
                "privacy_officer",
                "data_subject_rights",
                Action::Delete,
                all,
                &NoConsent
            )
            .is_ok()
        );
        assert_eq!(
            decide(
                &p,
                "privacy_officer",
                "legal_accounting",
                Action::Delete,
                all,
                &NoConsent
            )
            .unwrap_err(),
            Denial::PurposeDoesNotCoverCategory
        );
        assert_eq!(
            decide(
                &p,
                "support",
                "customer_support",
                Action::Delete,
                all,
                &NoConsent
            )
            .unwrap_err(),
            Denial::PurposeDoesNotCoverCategory
        );
        let covered = p.purpose("customer_support").unwrap().categories;
        assert_eq!(
            decide(
                &p,
                "support",
                "customer_support",
                Action::Delete,
                covered,
                &NoConsent
            )
            .unwrap_err(),
            Denial::ActionNotAllowedForRole
        );
    }
}

//! Staff training generated from the policy: for one role, in one language, what the role may
//! touch and why (its purposes and categories, by their labels), how to verify who is asking,
//! how to spot and report an incident, and what never to do — then a short quiz whose answers
//! come from the policy itself ("may the support role see payment details for marketing e-mails?").
//!
//! The role's `scope` (its grants, one per line) is kept with a passed training: a policy that
//! widens the role leaves the new grants outside it, and the person trains again.

use std::collections::BTreeSet;

use crate::Language;
use crate::model::{Action, LegalBasis, Policy, Role};

/// One page of the course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub paragraphs: Vec<String>,
}

/// One quiz question: its choices (value, words) and the right value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub choices: Vec<(&'static str, String)>,
    pub(crate) answer: &'static str,
}

/// The course for one role in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    pub role: String,
    pub sections: Vec<Section>,
    pub questions: Vec<Question>,
}

impl Question {
    /// The right choice's value (derived from the policy: nothing secret about it).
    pub fn answer(&self) -> &'static str {
        self.answer
    }
}

impl Course {
    /// The questions answered wrongly (or not at all), by id; empty means passed.
    pub fn wrong_answers<'a>(&self, answer_of: impl Fn(&str) -> Option<&'a str>) -> Vec<String> {
        (self.questions.iter())
            .filter(|q| answer_of(&q.id) != Some(q.answer))
            .map(|q| q.id.clone())
            .collect()
    }
}

/// The role's grants, one per line, in a stable order.
pub fn role_scope(policy: &Policy, role: &Role) -> String {
    let mut grants = BTreeSet::new();
    for p in role.purposes.iter() {
        grants.insert(format!("purpose:{}", policy.purposes[p].name));
    }
    for (action, name) in [
        (Action::View, "view"),
        (Action::Create, "create"),
        (Action::Modify, "modify"),
        (Action::Delete, "delete"),
    ] {
        for c in role.may(action).iter() {
            grants.insert(format!("{name}:{}", policy.categories[c].name));
        }
    }
    for a in role.admin.names() {
        grants.insert(format!("admin:{a}"));
    }
    if role.surveys.manage {
        grants.insert("surveys:manage".into());
    }
    if role.surveys.results {
        grants.insert("surveys:results".into());
    }
    grants.into_iter().collect::<Vec<_>>().join("\n")
}

/// Whether `current` grants nothing `trained` did not (a training still covers the role).
pub fn scope_covers(trained: &str, current: &str) -> bool {
    let trained: BTreeSet<&str> = trained.lines().collect();
    current.lines().all(|g| trained.contains(g))
}

/// The course for `role` in `lang`.
pub fn course(policy: &Policy, role: &Role, lang: Language) -> Course {
    let w = crate::training_words::words(lang);
    let purposes: Vec<String> = (role.purposes.iter())
        .map(|p| {
            let p = &policy.purposes[p];
            format!(
                "{}{}{}",
                p.label.get(lang),
                w.colon,
                p.description.get(lang)
            )
        })
        .collect();
    let labels = |action: Action| -> String {
        let names: Vec<&str> = (role.may(action).iter())
            .map(|c| policy.categories[c].label.get(lang))
            .collect();
        if names.is_empty() {
            w.nothing.to_string()
        } else {
            names.join(w.list_separator)
        }
    };
    let mut yours = vec![(w.role_intro)(&role.name, &role.description)];
    yours.push(w.purposes_intro.to_string());
    yours.extend(purposes);
    yours.push(format!("{}{}{}", w.may_view, w.colon, labels(Action::View)));
    yours.push(format!(
        "{}{}{}",
        w.may_change,
        w.colon,
        labels(Action::Modify)
    ));
    yours.push(format!(
        "{}{}{}",
        w.may_delete,
        w.colon,
        labels(Action::Delete)
    ));
    yours.push(w.refused_and_recorded.to_string());
    let section = |heading: &str, paragraphs: &[&str]| Section {
        heading: heading.to_string(),
        paragraphs: paragraphs.iter().map(|p| p.to_string()).collect(),
    };
    Course {
        role: role.name.clone(),
        sections: vec![
            Section {
                heading: w.your_role.to_string(),
                paragraphs: yours,
            },
            section(w.verify_heading, w.verify),
            section(w.incident_heading, w.incident),
            section(w.never_heading, w.never),
        ],
        questions: questions(policy, role, lang),
    }
}

/// Questions from the policy (one the role may answer yes to, one it must refuse) and two on
/// conduct.
fn questions(policy: &Policy, role: &Role, lang: Language) -> Vec<Question> {
    let w = crate::training_words::words(lang);
    let choices = || {
        vec![
            ("yes", w.yes.to_string()),
            ("consent", w.only_with_consent.to_string()),
            ("no", w.no.to_string()),
        ]
    };
    let mut out = vec![];
    let viewed = role.may(Action::View);
    let allowed = (role.purposes.iter())
        .map(|p| &policy.purposes[p])
        .find_map(|p| {
            (p.categories.minus(p.categories.minus(viewed)))
                .iter()
                .next()
                .map(|c| (p, c))
        });
    if let Some((p, c)) = allowed {
        out.push(Question {
            id: "allowed".into(),
            text: (w.may_question)(
                &role.name,
                policy.categories[c].label.get(lang),
                p.label.get(lang),
            ),
            choices: choices(),
            answer: if p.legal_basis == LegalBasis::Consent {
                "consent"
            } else {
                "yes"
            },
        });
    }
    let refused = (policy.purposes.iter())
        .filter(|p| !role.purposes.contains(p.id))
        .find_map(|p| p.categories.iter().next().map(|c| (p, c)));
    if let Some((p, c)) = refused {
        out.push(Question {
            id: "refused".into(),
            text: (w.may_question)(
                &role.name,
                policy.categories[c].label.get(lang),
                p.label.get(lang),
            ),
            choices: choices(),
            answer: "no",
        });
    }
    out.push(Question {
        id: "caller".into(),
        text: w.caller_question.to_string(),
        choices: vec![
            ("read", w.caller_read.to_string()),
            ("verify", w.caller_verify.to_string()),
            ("email", w.caller_email.to_string()),
        ],
        answer: "verify",
    });
    out.push(Question {
        id: "incident".into(),
        text: w.incident_question.to_string(),
        choices: vec![
            ("wait", w.incident_wait.to_string()),
            ("report", w.incident_report.to_string()),
            ("fix", w.incident_fix.to_string()),
        ],
        answer: "report",
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../examples/policy.toml");

    #[test]
    fn the_quiz_answers_come_from_the_policy() {
        let p = Policy::parse("policy.toml", EXAMPLE).unwrap();
        let support = p.role("support").unwrap();
        let c = course(&p, support, Language::En);
        assert_eq!(c.sections.len(), 4);
        assert!(
            c.sections[0]
                .paragraphs
                .iter()
                .any(|l| l.contains("Payment details")),
            "{c:#?}"
        );
        let refused = c.questions.iter().find(|q| q.id == "refused").unwrap();
        assert_eq!(
            refused.answer, "no",
            "support may not use a marketing purpose"
        );
        assert!(refused.text.contains("support"), "{}", refused.text);
        let right = |id: &str| c.questions.iter().find(|q| q.id == id).map(|q| q.answer);
        assert!(c.wrong_answers(right).is_empty());
        assert_eq!(c.wrong_answers(|_| Some("no")).len(), c.questions.len() - 1);
        let marketing = course(&p, p.role("marketing").unwrap(), Language::Ja);
        let allowed = marketing
            .questions
            .iter()
            .find(|q| q.id == "allowed")
            .unwrap();
        assert_eq!(
            allowed.answer, "consent",
            "marketing e-mail needs the person's consent"
        );
        for lang in [Language::En, Language::Ja, Language::Fr] {
            let c = course(&p, support, lang);
            assert!(
                c.questions
                    .iter()
                    .all(|q| q.choices.len() == 3 && !q.text.is_empty())
            );
        }
    }

    #[test]
    fn a_widened_role_is_not_covered_by_its_old_training() {
        let p = Policy::parse("policy.toml", EXAMPLE).unwrap();
        let before = role_scope(&p, p.role("support").unwrap());
        assert!(before.contains("view:payment") && before.contains("purpose:customer_support"));
        let widened = EXAMPLE.replacen(
            "create = [\"support_tickets\"]\nmodify = [\"contact\", \"address\", \"support_tickets\"]",
            "create = [\"support_tickets\"]\nmodify = [\"contact\", \"address\", \"orders\", \"support_tickets\"]",
            1,
        );
        assert_ne!(widened, EXAMPLE);
        let p2 = Policy::parse("policy.toml", &widened).unwrap();
        let after = role_scope(&p2, p2.role("support").unwrap());
        assert!(!scope_covers(&before, &after), "modify:orders is new");
        assert!(
            scope_covers(&after, &before),
            "narrowing needs no retraining"
        );
        assert!(scope_covers(&before, &before));
    }
}

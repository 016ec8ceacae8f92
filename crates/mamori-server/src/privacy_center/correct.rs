//! "Correct my data": one small form per field, validated by the policy's types. A new e-mail
//! address or phone number is only stored once the code sent to it is typed back
//! (mamori_core::correction explains why and how).

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::correction::{Correction, correctable};
use mamori_core::mail::{CodeMessage, Recipient};
use mamori_core::signin::CodeRefused;
use mamori_policy::{FieldType, Language, RIGHTS_PURPOSE};
use mamori_proto::ErrorCode;
use serde::Deserialize;

use crate::AppState;
use crate::privacy::{html_page, page_language};
use crate::privacy_center::{
    LangQuery, PageForm, SignedInForm, csrf_token, page_form, signed_in, with_cookie,
};

pub(crate) struct Strings {
    nav: &'static str,
    center: &'static str,
    my_data: &'static str,
    notice: &'static str,
    title: &'static str,
    intro: &'static str,
    save: &'static str,
    saved: &'static str,
    removed_hint: &'static str,
    ours: &'static str,
    invalid: &'static str,
    verify_title: &'static str,
    sent_email: &'static str,
    sent_phone: &'static str,
    code_label: &'static str,
    confirm: &'static str,
    confirmed: &'static str,
    wrong: &'static str,
    expired: &'static str,
    locked: &'static str,
    used: &'static str,
    not_sent: &'static str,
    slow_down: &'static str,
    yes: &'static str,
    no: &'static str,
    mail_subject: &'static str,
    mail_body: &'static str,
}

/// The words in English.
const EN: Strings = Strings {
    nav: "Privacy center",
    center: "Privacy center",
    my_data: "My data",
    notice: "Privacy notice",
    title: "Correct my data",
    intro: "Change what is wrong or out of date. Each change is saved on its own and recorded. A new e-mail address or phone number is saved once you confirm it with a code we send to it.",
    save: "Save",
    saved: "Saved. We have recorded the correction.",
    removed_hint: "Leave empty to remove it.",
    ours: "Set by us. Write to us to have it changed.",
    invalid: "This value does not fit this field. Check it and try again.",
    verify_title: "Confirm the new address",
    sent_email: "We have sent a 6-digit code to the new e-mail address. Type it here to save the change. It is valid for 10 minutes.",
    sent_phone: "We have sent a 6-digit code to the new phone number. Type it here to save the change. It is valid for 10 minutes.",
    code_label: "The 6-digit code",
    confirm: "Confirm",
    confirmed: "Confirmed and saved. We will use the new one from now on.",
    wrong: "That code is not right. Check it and try again.",
    expired: "This code has expired. Make the change again to get a new one.",
    locked: "Too many wrong tries for this code. Make the change again to get a new one.",
    used: "This code was already used.",
    not_sent: "We could not send a code just now. Please try again later.",
    slow_down: "Too many attempts in a short time. Please wait a few minutes and try again.",
    yes: "Yes",
    no: "No",
    mail_subject: "Confirm your new contact details",
    mail_body: "Your code to confirm this address in the privacy center is {code}. It is valid for 10 minutes. If you did not ask for it, ignore this message.",
};

/// The words in Japanese.
const JA: Strings = Strings {
    nav: "プライバシーセンター",
    center: "プライバシーセンター",
    my_data: "マイデータ",
    notice: "プライバシー通知",
    title: "データの訂正",
    intro: "誤っている情報や古い情報を変更できます。変更は項目ごとに保存され、記録されます。新しいメールアドレスや電話番号は、そこへお送りするコードで確認した時点で保存されます。",
    save: "保存",
    saved: "保存しました。訂正を記録しました。",
    removed_hint: "空欄にすると削除されます。",
    ours: "当社が設定する項目です。変更をご希望の場合はご連絡ください。",
    invalid: "この項目に合わない値です。確認してもう一度お試しください。",
    verify_title: "新しい連絡先の確認",
    sent_email: "新しいメールアドレスに6桁のコードを送信しました。ここに入力すると変更が保存されます。有効期間は10分です。",
    sent_phone: "新しい電話番号に6桁のコードを送信しました。ここに入力すると変更が保存されます。有効期間は10分です。",
    code_label: "6桁のコード",
    confirm: "確認する",
    confirmed: "確認して保存しました。今後は新しい連絡先を使用します。",
    wrong: "コードが正しくありません。確認してもう一度お試しください。",
    expired: "このコードは有効期限が切れています。もう一度変更して新しいコードを受け取ってください。",
    locked: "このコードでの誤入力が多すぎます。もう一度変更して新しいコードを受け取ってください。",
    used: "このコードはすでに使用されています。",
    not_sent: "現在コードを送信できません。しばらくしてからもう一度お試しください。",
    slow_down: "短時間に試行が多すぎます。数分待ってからもう一度お試しください。",
    yes: "はい",
    no: "いいえ",
    mail_subject: "新しい連絡先の確認",
    mail_body: "プライバシーセンターでこの連絡先を確認するためのコードは {code} です。有効期間は10分です。お心当たりがない場合は、このメッセージを無視してください。",
};

/// The words in French (a narrow no-break space before the colon).
const FR: Strings = Strings {
    nav: "Centre de confidentialité",
    center: "Centre de confidentialité",
    my_data: "Mes données",
    notice: "Avis de confidentialité",
    title: "Corriger mes données",
    intro: "Modifiez ce qui est faux ou dépassé. Chaque modification est enregistrée séparément et consignée. Une nouvelle adresse e-mail ou un nouveau numéro de téléphone est enregistré une fois confirmé par un code que nous y envoyons.",
    save: "Enregistrer",
    saved: "Enregistré. Nous avons consigné la correction.",
    removed_hint: "Laissez vide pour la supprimer.",
    ours: "Attribué par nous. Écrivez-nous pour le faire modifier.",
    invalid: "Cette valeur ne convient pas à ce champ. Vérifiez-la et réessayez.",
    verify_title: "Confirmer la nouvelle adresse",
    sent_email: "Nous avons envoyé un code à 6 chiffres à la nouvelle adresse e-mail. Saisissez-le ici pour enregistrer la modification. Il est valable 10 minutes.",
    sent_phone: "Nous avons envoyé un code à 6 chiffres au nouveau numéro de téléphone. Saisissez-le ici pour enregistrer la modification. Il est valable 10 minutes.",
    code_label: "Le code à 6 chiffres",
    confirm: "Confirmer",
    confirmed: "Confirmé et enregistré. Nous utiliserons désormais la nouvelle coordonnée.",
    wrong: "Ce code n'est pas le bon. Vérifiez-le et réessayez.",
    expired: "Ce code a expiré. Refaites la modification pour en recevoir un nouveau.",
    locked: "Trop d'essais erronés pour ce code. Refaites la modification pour en recevoir un nouveau.",
    used: "Ce code a déjà été utilisé.",
    not_sent: "Nous ne pouvons pas envoyer de code pour le moment. Veuillez réessayer plus tard.",
    slow_down: "Trop de tentatives en peu de temps. Patientez quelques minutes puis réessayez.",
    yes: "Oui",
    no: "Non",
    mail_subject: "Confirmez vos nouvelles coordonnées",
    mail_body: "Votre code pour confirmer cette coordonnée dans le centre de confidentialité est {code}. Il est valable 10 minutes. Si vous ne l'avez pas demandé, ignorez ce message.",
};

fn strings(lang: Language) -> Strings {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}

/// How a field is typed in: the HTML control for its policy type.
enum Control {
    Input {
        kind: &'static str,
        mode: &'static str,
    },
    TextArea,
    Choice(Vec<(String, String)>),
    /// Not changeable by the person.
    Fixed,
}

struct FieldForm {
    category: String,
    name: String,
    label: String,
    value: String,
    control: Control,
    /// The field this page's message is about.
    error: bool,
    saved: bool,
}

struct CategoryForms {
    label: String,
    fields: Vec<FieldForm>,
}

struct Verify {
    category: String,
    field: String,
    challenge: String,
    pending: String,
    sent: &'static str,
}

#[derive(Template)]
#[template(path = "correct.html")]
struct CorrectPage {
    lang: &'static str,
    s: Strings,
    organisation: String,
    csrf: String,
    categories: Vec<CategoryForms>,
    verify: Option<Verify>,
    status: Option<&'static str>,
    error: Option<&'static str>,
}

fn control(kind: &FieldType, lookup: bool, s: &Strings) -> Control {
    if !correctable(kind, lookup) {
        return Control::Fixed;
    }
    let input = |kind, mode| Control::Input { kind, mode };
    match kind {
        FieldType::Email => input("email", "email"),
        FieldType::Phone => input("tel", "tel"),
        FieldType::Date => input("date", "text"),
        FieldType::Number => input("text", "decimal"),
        FieldType::Address => Control::TextArea,
        FieldType::Bool => Control::Choice(vec![
            (String::new(), String::new()),
            ("true".into(), s.yes.into()),
            ("false".into(), s.no.into()),
        ]),
        FieldType::Enum(values) => Control::Choice(
            std::iter::once((String::new(), String::new()))
                .chain(values.iter().map(|v| (v.clone(), v.clone())))
                .collect(),
        ),
        FieldType::Text { .. } | FieldType::Country => input("text", "text"),
    }
}

/// What the page says after an action, and which field it concerns.
#[derive(Default)]
struct Outcome {
    status: Option<&'static str>,
    error: Option<&'static str>,
    field: Option<(String, String)>,
    verify: Option<Verify>,
    http: Option<StatusCode>,
}

async fn render(s: &AppState, headers: &HeaderMap, lang: Language, outcome: Outcome) -> Response {
    let (subject, actor) = match signed_in(s, headers, lang).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let view = match s.vault.read_subject(&actor, RIGHTS_PURPOSE, &subject).await {
        Ok(view) => view,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let policy = &s.vault.policy;
    let words = strings(lang);
    let categories = policy
        .categories
        .iter()
        // Categories the person has details in; records (orders, tickets) are not edited here.
        .filter(|c| view.data.contains_key(&c.name))
        .filter(|c| {
            policy
                .purpose(RIGHTS_PURPOSE)
                .is_some_and(|p| p.categories.contains(c.id))
        })
        .map(|c| CategoryForms {
            label: c.label.get(lang).to_string(),
            fields: c
                .fields
                .iter()
                .map(|f| {
                    let value = view
                        .data
                        .get(&c.name)
                        .and_then(|held| held.get(&f.name))
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        .unwrap_or_default();
                    let this = outcome.field.as_ref() == Some(&(c.name.clone(), f.name.clone()));
                    FieldForm {
                        category: c.name.clone(),
                        name: f.name.clone(),
                        label: f.label.get(lang).to_string(),
                        value,
                        control: control(&f.kind, f.lookup, &words),
                        error: this && outcome.error.is_some(),
                        saved: this && outcome.status.is_some(),
                    }
                })
                .collect(),
        })
        .collect();
    let (csrf, set) = csrf_token(s, headers);
    let page = CorrectPage {
        lang: lang.code(),
        s: words,
        organisation: policy.organisation.name.clone(),
        csrf,
        categories,
        verify: outcome.verify,
        status: outcome.status,
        error: outcome.error,
    };
    let mut r = with_cookie(html_page(page.render()), set);
    if let Some(status) = outcome.http {
        *r.status_mut() = status;
    }
    r
}

pub async fn correct_form(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    render(&s, &headers, lang, Outcome::default()).await
}

#[derive(Deserialize)]
pub struct CorrectForm {
    csrf: String,
    lang: Option<String>,
    category: String,
    field: String,
    value: String,
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: String,
    lang: Option<String>,
    category: String,
    field: String,
    challenge: String,
    pending: String,
    code: String,
}

page_form!(CorrectForm, ConfirmForm);

fn refused(error: &'static str, field: (String, String), http: StatusCode) -> Outcome {
    Outcome {
        error: Some(error),
        field: Some(field),
        http: Some(http),
        ..Outcome::default()
    }
}

/// Saves one field, or — for a new e-mail address or phone number — sends a code to it.
pub async fn correct(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    SignedInForm {
        form,
        lang,
        subject,
        actor,
    }: SignedInForm<CorrectForm>,
) -> Response {
    let words = strings(lang);
    let field = (form.category.clone(), form.field.clone());
    let outcome = match s
        .vault
        .correct_own(&actor, &subject, &form.category, &form.field, &form.value)
        .await
    {
        Ok(Correction::Applied) => Outcome {
            status: Some(words.saved),
            field: Some(field),
            ..Outcome::default()
        },
        // Already what we hold: said as saved, but not entered as a rectification.
        Ok(Correction::Unchanged) => Outcome {
            status: Some(words.saved),
            field: Some(field),
            ..Outcome::default()
        },
        Ok(Correction::NeedsVerification { .. }) if !s.limits.allow_signin(peer.ip()) => {
            refused(words.slow_down, field, StatusCode::TOO_MANY_REQUESTS)
        }
        Ok(Correction::NeedsVerification {
            challenge,
            pending,
            code,
            to,
        }) => {
            let by_phone = matches!(to, Recipient::Phone(_));
            let message = CodeMessage {
                subject: words.mail_subject.into(),
                body: words.mail_body.replace("{code}", &code),
                email_footer: None,
            };
            // The person is signed in: whether the code went out can be said.
            let sent = s.codes.send(to, message).await;
            match sent {
                Ok(()) => Outcome {
                    verify: Some(Verify {
                        category: form.category,
                        field: form.field,
                        challenge: mamori_core::format_id(&challenge),
                        pending,
                        sent: if by_phone {
                            words.sent_phone
                        } else {
                            words.sent_email
                        },
                    }),
                    ..Outcome::default()
                },
                Err(_) => refused(words.not_sent, field, StatusCode::SERVICE_UNAVAILABLE),
            }
        }
        Err(mamori_core::CoreError::Invalid { code, .. }) => {
            let error = if code == ErrorCode::NotCorrectable {
                words.ours
            } else {
                words.invalid
            };
            refused(error, field, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    render(&s, &headers, lang, outcome).await
}

/// What the page says when a code is refused.
fn refusal_text(words: &Strings, why: CodeRefused) -> &'static str {
    match why {
        CodeRefused::Wrong => words.wrong,
        CodeRefused::Expired => words.expired,
        CodeRefused::TooManyAttempts => words.locked,
        CodeRefused::AlreadyUsed => words.used,
    }
}

/// The code sent to a new identifier: saves it when right.
pub async fn confirm(
    State(s): State<AppState>,
    headers: HeaderMap,
    SignedInForm {
        form,
        lang,
        subject,
        actor,
    }: SignedInForm<ConfirmForm>,
) -> Response {
    let words = strings(lang);
    let field = (form.category.clone(), form.field.clone());
    let Some(challenge) = mamori_core::parse_id(&form.challenge) else {
        return render(
            &s,
            &headers,
            lang,
            refused(words.wrong, field, StatusCode::UNPROCESSABLE_ENTITY),
        )
        .await;
    };
    let answer = s
        .vault
        .confirm_own_correction(
            &actor,
            &subject,
            &form.category,
            &form.field,
            &challenge,
            &form.pending,
            form.code.trim(),
        )
        .await;
    let phone = s
        .vault
        .policy
        .category(&form.category)
        .and_then(|c| c.field(&form.field))
        .is_some_and(|(_, f)| matches!(f.kind, FieldType::Phone));
    let again = |error| Outcome {
        error: Some(error),
        field: Some(field.clone()),
        http: Some(StatusCode::UNPROCESSABLE_ENTITY),
        verify: Some(Verify {
            category: form.category.clone(),
            field: form.field.clone(),
            challenge: form.challenge.clone(),
            pending: form.pending.clone(),
            sent: if phone {
                words.sent_phone
            } else {
                words.sent_email
            },
        }),
        ..Outcome::default()
    };
    let outcome = match answer {
        Ok(Ok(())) => Outcome {
            status: Some(words.confirmed),
            field: Some(field.clone()),
            ..Outcome::default()
        },
        Ok(Err(CodeRefused::Wrong)) => again(words.wrong),
        // Expired, locked or used: a new code is needed, so the form is not offered again.
        Ok(Err(why)) => refused(
            refusal_text(&words, why),
            field.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(mamori_core::CoreError::Invalid { .. }) => refused(
            words.invalid,
            field.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    render(&s, &headers, lang, outcome).await
}

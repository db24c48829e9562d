//! `/settings/contacts`: the e-mail address and phone number, each verified with a one-time
//! code, after a fresh login; the server functions that send and check the codes.

use leptos::prelude::*;
use leptos_meta::Title;

use super::reauth::fresh_login;
use super::settings::{settings_overview, PendingView};
use crate::components::{form_error, ErrorSummary, Field, Submit};
use crate::error::ApiError;
use crate::i18n::{format_time, t, tr_args, use_lang};
use crate::keep_typed::{KeepTexts, KeepTyped};

use super::settings::{contact_state, load_failed};
#[cfg(feature = "ssr")]
use crate::ssr::{ctx, current_session, fail, request_info};

#[component]
pub fn ContactsPage() -> impl IntoView {
    view! {
        <Title text=t("contacts-title") />
        <h1>{t("contacts-title")}</h1>
        <p>{t("contacts-intro")}</p>
        <ContactsEditor />
        <p>
            <a href="/settings">{t("back-to-settings")}</a>
        </p>
    }
}

/// Plain forms in a `KeepTyped` (a refused code stays typed); after each step that succeeds
/// the page is loaded again, showing the code asked for or the address verified.
#[component]
fn ContactsEditor() -> impl IntoView {
    let data = Resource::new(|| (), |_| settings_overview());
    let fresh = Resource::new(|| (), |_| fresh_login());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                (!matches!(fresh.await, Ok(true))).then(|| view! { <LogInAgain /> })
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => load_failed(e),
                    Ok(s) => {
                        let c = s.contacts;
                        view! {
                            <KeepTyped texts=KeepTexts::here()>
                                <ContactSection
                                    kind="email"
                                    current=(c.email, c.email_verified_at)
                                    pending=c.pending_email
                                />
                                <ContactSection
                                    kind="phone"
                                    current=(c.phone, c.phone_verified_at)
                                    pending=c.pending_phone
                                />
                            </KeepTyped>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// Changing a contact needs a fresh login: said before anything is typed.
#[component]
fn LogInAgain() -> impl IntoView {
    view! {
        <p class="notice">{t("contacts-needs-login")}</p>
        <p><a class="button" href="/reauth?next=%2Fsettings%2Fcontacts">{t("contacts-log-in-again")}</a></p>
    }
}

/// Whether the refused post this page answers (if any) came from the section for `kind`:
/// both sections post to the same functions, and only that one says the error.
fn posted_from(kind: &str) -> bool {
    #[cfg(feature = "ssr")]
    {
        crate::ssr::kept_form_value("kind").is_none_or(|k| k == kind)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = kind;
        true
    }
}

/// One contact: its current state, a form to send a code to a new address, and — while a
/// code is pending — the form to enter it.
#[component]
fn ContactSection(
    kind: &'static str,
    current: (Option<String>, Option<i64>),
    pending: Option<PendingView>,
) -> impl IntoView {
    let lang = use_lang();
    let send = ServerAction::<SendCode>::new();
    let verify = ServerAction::<VerifyCode>::new();
    let here = posted_from(kind);
    let send_errors = match here {
        true => form_error(send.value()),
        false => Signal::derive(|| None),
    };
    let verify_errors = match here {
        true => form_error(verify.value()),
        false => Signal::derive(|| None),
    };
    let (title, new_label, code_label, code_field, hint) = match kind {
        "email" => (
            "contacts-email",
            "field-email-new",
            "field-email-code",
            "email_code",
            "field-email-hint",
        ),
        _ => (
            "contacts-phone",
            "field-phone-new",
            "field-phone-code",
            "phone_code",
            "field-phone-hint",
        ),
    };
    let (input_type, autocomplete, inputmode) = match kind {
        "email" => ("email", "email", "email"),
        _ => ("tel", "tel", "tel"),
    };
    let heading_id = format!("c-{kind}");
    let labelled_by = heading_id.clone();
    let state = contact_state(&current.0, current.1, lang);
    let pending_view = pending.map(|p| {
        let sent = tr_args(
            lang,
            "code-sent",
            &[
                ("address", p.address.clone().into()),
                ("time", format_time(p.expires_at).into()),
            ],
        );
        view! {
            <p class="notice">{sent}</p>
            <ActionForm action=verify attr:id=format!("{kind}-verify") attr:class="form inline" attr:novalidate=true>
                <ErrorSummary errors=verify_errors />
                <input type="hidden" name="kind" value=kind />
                <Field
                    name="code"
                    error_field=code_field
                    id_prefix=if kind == "email" { "ecode-" } else { "pcode-" }
                    label=code_label
                    hint="field-code-hint"
                    autocomplete="one-time-code"
                    inputmode="numeric"
                    errors=verify_errors
                />
                <Submit label="verify-code" pending=verify.pending() />
            </ActionForm>
        }
    });
    let step_up = move || matches!(send_errors.get(), Some(ApiError::StepUpRequired));
    view! {
        <section aria-labelledby=labelled_by class="card">
            <h2 id=heading_id>{t(title)}</h2>
            <p class="current">{state}</p>
            {pending_view}
            <ActionForm action=send attr:id=format!("{kind}-send") attr:class="form inline" attr:novalidate=true>
                <ErrorSummary errors=send_errors />
                {move || step_up().then(|| view! { <LogInAgain /> })}
                <input type="hidden" name="kind" value=kind />
                <Field
                    name="address"
                    error_field=kind
                    id_prefix=if kind == "email" { "email-" } else { "phone-" }
                    label=new_label
                    hint=hint
                    input_type=input_type
                    autocomplete=autocomplete
                    inputmode=inputmode
                    not_kept=!here
                    errors=send_errors
                />
                <Submit label="send-code" pending=send.pending() />
            </ActionForm>
        </section>
    }
}

#[cfg(feature = "ssr")]
fn contact_kind(kind: &str) -> Result<idp::account::contacts::ContactKind, ApiError> {
    match kind {
        "email" => Ok(idp::account::contacts::ContactKind::Email),
        "phone" => Ok(idp::account::contacts::ContactKind::Phone),
        _ => Err(ApiError::Forbidden),
    }
}

/// Sends a one-time code to a new e-mail address or phone number (`kind` = email | phone).
#[server(endpoint = "send_code")]
pub async fn send_code(kind: String, address: String) -> Result<PendingView, ApiError> {
    use crate::i18n::tr_args;
    let s = current_session().await?;
    let kind = contact_kind(&kind)?;
    let lang = crate::ssr::meta().lang;
    let compose = |code: &str| {
        let args = [("code", code.to_owned().into())];
        match kind {
            idp::account::contacts::ContactKind::Email => idp::outbox::Outgoing {
                subject: tr_args(lang, "message-email-code-subject", &[]),
                body: tr_args(lang, "message-email-code-body", &args),
            },
            idp::account::contacts::ContactKind::Phone => idp::outbox::Outgoing {
                subject: String::new(),
                body: tr_args(lang, "message-sms-code", &args),
            },
        }
    };
    let pending = ctx()?
        .idp
        .start_contact_verification(&s.caller(&request_info()), kind, &address, compose)
        .await
        .map_err(fail)?;
    Ok(pending.into())
}

/// Checks the code; answers with the address now verified.
#[server(endpoint = "verify_code")]
pub async fn verify_code(kind: String, code: String) -> Result<String, ApiError> {
    let s = current_session().await?;
    let kind = contact_kind(&kind)?;
    ctx()?
        .idp
        .verify_contact(s.account_id, &s.username, kind, &code, &request_info())
        .await
        .map_err(fail)
}

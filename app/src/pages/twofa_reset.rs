//! `/login/2fa-reset`: "Is your two factor authentication not working?" — the control code,
//! then PIN1 (e-mail), PIN2 (SMS) and the password, and "Remove".

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::components::{form_error, ErrorSummary, Field, PasswordField, Submit};
use crate::error::ApiError;
use crate::i18n::t;
use crate::keep_typed::{KeepTexts, KeepTyped};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlCode {
    pub ticket: String,
    pub code: String,
}

#[server(endpoint = "reset_control")]
pub async fn reset_control() -> Result<ControlCode, ApiError> {
    let (ticket, code) = crate::ssr::ctx()?
        .idp
        .new_control_code()
        .await
        .map_err(crate::ssr::fail)?;
    Ok(ControlCode { ticket, code })
}

#[server(endpoint = "reset_start")]
pub async fn reset_start(
    username: String,
    control_ticket: String,
    control: String,
) -> Result<String, ApiError> {
    crate::ssr::ctx()?
        .idp
        .start_2fa_reset(
            &username,
            &control_ticket,
            &control,
            &crate::ssr::request_info(),
        )
        .await
        .map_err(crate::ssr::fail)
        .and_then(|ticket| {
            crate::ssr::append_cookie(&ticket_cookie(&ticket, TICKET_SECS))?;
            crate::ssr::redirect_plain_form(PINS);
            Ok(ticket)
        })
}

/// Between the two steps the reset's ticket waits in a cookie (as long as the PINs are
/// valid); the second step's page reads it into its form.
#[cfg(feature = "ssr")]
const TICKET_COOKIE: &str = "reset_ticket";
#[cfg(feature = "ssr")]
const TICKET_SECS: i64 = 15 * 60;
/// The second step, and the end.
#[cfg(feature = "ssr")]
const PINS: &str = "/login/2fa-reset?step=pins";
#[cfg(feature = "ssr")]
const DONE: &str = "/login/2fa-reset?done=1";

#[cfg(feature = "ssr")]
fn ticket_cookie(ticket: &str, max_age: i64) -> String {
    let secure = crate::ssr::secure_cookies();
    let name = crate::ssr::site_cookie_name(TICKET_COOKIE, secure);
    crate::ssr::strict_cookie(&name, ticket, max_age, secure)
}

/// The `Set-Cookie` that clears the reset's ticket (at logout too: a shared computer).
#[cfg(feature = "ssr")]
pub fn ticket_cleared(secure: bool) -> String {
    let name = crate::ssr::site_cookie_name(TICKET_COOKIE, secure);
    crate::ssr::strict_cookie(&name, "", 0, secure)
}

/// This browser's reset between its steps, if one is pending.
fn pending_ticket() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let name = crate::ssr::site_cookie_name(TICKET_COOKIE, crate::ssr::secure_cookies());
        crate::ssr::request_cookie(&name).filter(|t| !t.is_empty())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

#[server(endpoint = "reset_finish")]
pub async fn reset_finish(
    ticket: String,
    pin1: String,
    pin2: String,
    password: String,
) -> Result<(), ApiError> {
    crate::ssr::ctx()?
        .idp
        .finish_2fa_reset(
            &ticket,
            &pin1,
            &pin2,
            &password,
            &crate::ssr::request_info(),
        )
        .await
        .map_err(crate::ssr::fail)?;
    crate::ssr::append_cookie(&ticket_cookie("", 0))?;
    crate::ssr::redirect_plain_form(DONE);
    Ok(())
}

#[component]
pub fn TwofaResetPage() -> impl IntoView {
    view! {
        <Title text=t("reset-title") />
        <h1>{t("reset-title")}</h1>
        <ResetForms />
        <section aria-labelledby="reset-paper">
            <h2 id="reset-paper">{t("reset-paper-title")}</h2>
            <p>{t("reset-paper-text")}</p>
            <ol>
                <li>{t("reset-paper-step1")}</li>
                <li>{t("reset-paper-step2")}</li>
                <li>{t("reset-paper-step3")}</li>
            </ol>
            <p><a href="/help/zadost-o-reset-hesla-v-mojeid.pdf" rel="external">{t("reset-paper-link")}</a></p>
        </section>
        <p><a href="/login">{t("login-title")}</a></p>
    }
}

/// The two steps (the control code and username, then both PINs and the password): plain
/// forms in a `KeepTyped` (a refusal keeps the PINs typed); the page shows the step the
/// browser is at.
#[component]
fn ResetForms() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let q = query.read_untracked();
    if q.get("done").is_some() {
        return view! {
            <p class="notice" role="status">{t("reset-done")}</p>
            <p><a href="/login">{t("login-title")}</a></p>
        }
        .into_any();
    }
    match pending_ticket().filter(|_| q.get("step").as_deref() == Some("pins")) {
        Some(ticket) => view! { <FinishForm ticket /> }.into_any(),
        None => view! { <StartForm /> }.into_any(),
    }
}

#[component]
fn StartForm() -> impl IntoView {
    // a new control code at every load (a refused one is used up)
    let control = Resource::new(|| (), |_| reset_control());
    let start = ServerAction::<ResetStart>::new();
    let errors = form_error(start.value());
    view! {
        <p>{t("reset-intro")}</p>
        <KeepTyped texts=KeepTexts::here()>
            <ActionForm action=start attr:class="form" attr:novalidate=true>
                <ErrorSummary errors />
                <Field name="username" label="field-username" autocomplete="username" required=true errors />
                <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match control.await {
                            Ok(c) => view! {
                                <input type="hidden" name="control_ticket" value=c.ticket.clone() />
                                <p>{t("reset-control-shown")} " " <strong class="code" id="control-code">{c.code.clone()}</strong></p>
                            }
                            .into_any(),
                            Err(e) => view! { <p class="alert" role="alert">{e.summary(crate::i18n::use_lang())}</p> }.into_any(),
                        }
                    })}
                </Suspense>
                <Field name="control" label="reset-control" autocomplete="off" required=true fresh=true errors />
                <Submit label="reset-send" pending=start.pending() />
            </ActionForm>
        </KeepTyped>
    }
}

#[component]
fn FinishForm(ticket: String) -> impl IntoView {
    let finish = ServerAction::<ResetFinish>::new();
    let errors = form_error(finish.value());
    view! {
        <p role="status">{t("reset-pins-sent")}</p>
        <KeepTyped texts=KeepTexts::here()>
            <ActionForm action=finish attr:class="form" attr:novalidate=true>
                <ErrorSummary errors />
                <input type="hidden" name="ticket" value=ticket />
                <Field name="pin1" error_field="pins" label="reset-pin1" inputmode="numeric" autocomplete="one-time-code" required=true errors />
                <Field name="pin2" error_field="pins" label="reset-pin2" inputmode="numeric" autocomplete="one-time-code" required=true errors />
                <PasswordField name="password" label="field-password" autocomplete="current-password" errors />
                <p>{t("reset-remove-text")}</p>
                <Submit label="reset-remove" pending=finish.pending() />
            </ActionForm>
        </KeepTyped>
        <p><a href="/login/2fa-reset">{t("reset-start-again")}</a></p>
    }
}

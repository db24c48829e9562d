//! `/login/2fa-reset`: "Is your two factor authentication not working?" — the control code,
//! then PIN1 (e-mail), PIN2 (SMS) and the password, and "Remove".

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::components::{form_error, ErrorSummary, Field, PasswordField, Submit};
use crate::error::ApiError;
use crate::i18n::t;

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
        .map_err(crate::ssr::fail)
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

/// The two steps (the control code and username, then both PINs and the password): an
/// island, so that the second step follows the first on the same page.
#[island]
fn ResetForms() -> impl IntoView {
    crate::components::mark_island();
    let control = Resource::new(|| (), |_| reset_control());
    let start = ServerAction::<ResetStart>::new();
    let finish = ServerAction::<ResetFinish>::new();
    let start_errors = form_error(start.value());
    let finish_errors = form_error(finish.value());
    // a wrong control code needs a new one
    Effect::new(move |_| {
        if matches!(start.value().get(), Some(Err(_))) {
            control.refetch();
        }
    });
    let ticket = move || start.value().get().and_then(|r| r.ok());
    let done = move || matches!(finish.value().get(), Some(Ok(())));
    view! {
        <Show when=move || !done() fallback=|| view! {
            <p class="notice" role="status">{t("reset-done")}</p>
            <p><a href="/login">{t("login-title")}</a></p>
        }>
            <Show when=move || ticket().is_none() fallback=move || view! {
                <p role="status">{t("reset-pins-sent")}</p>
                <ActionForm action=finish attr:class="form" attr:novalidate=true>
                    <ErrorSummary errors=finish_errors />
                    <input type="hidden" name="ticket" value=ticket().unwrap_or_default() />
                    <Field name="pin1" error_field="pins" label="reset-pin1" inputmode="numeric" autocomplete="one-time-code" required=true errors=finish_errors />
                    <Field name="pin2" error_field="pins" label="reset-pin2" inputmode="numeric" autocomplete="one-time-code" required=true errors=finish_errors />
                    <PasswordField name="password" label="field-password" autocomplete="current-password" errors=finish_errors />
                    <p>{t("reset-remove-text")}</p>
                    <Submit label="reset-remove" pending=finish.pending() />
                </ActionForm>
            }>
                <p>{t("reset-intro")}</p>
                <ActionForm action=start attr:class="form" attr:novalidate=true>
                    <ErrorSummary errors=start_errors />
                    <Field name="username" label="field-username" autocomplete="username" required=true errors=start_errors />
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
                    <Field name="control" label="reset-control" autocomplete="off" required=true errors=start_errors />
                    <Submit label="reset-send" pending=start.pending() />
                </ActionForm>
            </Show>
        </Show>
    }
}

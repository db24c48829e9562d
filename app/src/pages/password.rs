//! `/settings/password`: changing the password, after a fresh login (password, and a key
//! when the account has one). Every other session ends; the previous addresses are told.

use leptos::prelude::*;
use leptos_meta::Title;

use super::reauth::fresh_login;
use crate::components::{form_error, ErrorSummary, PasswordField, Submit};
use crate::error::ApiError;
use crate::i18n::t;
use crate::keep_typed::{KeepTexts, KeepTyped};

/// Where "Log in again" leads: the step-up, then back here.
const REAUTH: &str = "/reauth?next=%2Fsettings%2Fpassword";

#[server(endpoint = "change_password")]
pub async fn change_password(password: String, confirmation: String) -> Result<(), ApiError> {
    use crate::ssr::{ctx, current_session, fail, request_info, session_token};
    let s = current_session().await?;
    let token = session_token().ok_or(ApiError::NotAuthenticated)?;
    ctx()?
        .idp
        .change_password(&s.caller(&request_info()), &token, &password, &confirmation)
        .await
        .map_err(fail)?;
    crate::ssr::redirect_plain_form(DONE);
    Ok(())
}

/// Where a changed password leads: this page, saying so.
#[cfg(feature = "ssr")]
const DONE: &str = "/settings/password?done=1";

#[component]
pub fn PasswordPage() -> impl IntoView {
    let done = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("done")
        .is_some();
    view! {
        <Title text=t("password-title") />
        <h1>{t("password-title")}</h1>
        {match done {
            true => view! { <p class="notice" role="status">{t("password-done")}</p> }.into_any(),
            false => view! {
                <p>{t("password-intro")}</p>
                <PasswordForm />
            }
            .into_any(),
        }}
        <p><a href="/settings">{t("back-to-settings")}</a></p>
    }
}

/// A plain form in a `KeepTyped` (a refusal keeps both passwords typed), or "Log in again"
/// when the login is not fresh enough.
#[component]
fn PasswordForm() -> impl IntoView {
    let fresh = Resource::new(|| (), |_| fresh_login());
    let change = ServerAction::<ChangePassword>::new();
    let errors = form_error(change.value());
    let step_up = move || matches!(change.value().get(), Some(Err(ApiError::StepUpRequired)));
    view! {
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                let needs_login = !matches!(fresh.await, Ok(true)) || step_up();
                if needs_login {
                    return view! {
                        <p class="notice">{t("password-needs-login")}</p>
                        <p><a class="button" href=REAUTH>{t("password-log-in-again")}</a></p>
                    }
                    .into_any();
                }
                view! {
                    <KeepTyped texts=KeepTexts::here()>
                        <ActionForm action=change attr:class="form" attr:novalidate=true>
                            <ErrorSummary errors=errors />
                            <PasswordField name="password" label="password-new" hint="register-password-hint" autocomplete="new-password" errors=errors />
                            <PasswordField name="confirmation" label="password-confirmation" autocomplete="new-password" errors=errors />
                            <Submit label="password-submit" pending=change.pending() />
                        </ActionForm>
                    </KeepTyped>
                }
                .into_any()
            })}
        </Suspense>
    }
}

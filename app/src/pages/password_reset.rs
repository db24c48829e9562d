//! `/password-reset?token=…`: after the back office reset the login on a paper form, the
//! citizen sets a new password through the link sent to their verified e-mail.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{form_error, ErrorSummary, PasswordField, Submit};
use crate::error::ApiError;
use crate::i18n::{t, use_lang};
use crate::keep_typed::{KeepTexts, KeepTyped};

/// The account the link belongs to, while the link works.
#[server(endpoint = "password_link")]
pub async fn password_link(token: String) -> Result<String, ApiError> {
    crate::ssr::ctx()?
        .idp
        .password_link_account(&token)
        .await
        .map_err(crate::ssr::fail)
}

#[server(endpoint = "password_reset")]
pub async fn password_reset(
    token: String,
    password: String,
    confirmation: String,
) -> Result<(), ApiError> {
    crate::ssr::ctx()?
        .idp
        .finish_password_reset(
            &token,
            &password,
            &confirmation,
            &crate::ssr::request_info(),
        )
        .await
        .map_err(crate::ssr::fail)?;
    crate::ssr::redirect_plain_form(DONE);
    Ok(())
}

/// Where a new password leads: this page, saying so (the link is used up).
#[cfg(feature = "ssr")]
const DONE: &str = "/password-reset?done=1";

#[component]
pub fn PasswordResetPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let q = query.read_untracked();
    let token = q.get("token").unwrap_or_default();
    let done = q.get("done").is_some();
    view! {
        <Title text=t("pwreset-title") />
        <h1>{t("pwreset-title")}</h1>
        {match done {
            true => view! {
                <p class="notice" role="status">{t("pwreset-done")}</p>
                <p><a href="/login">{t("login-title")}</a></p>
            }
            .into_any(),
            false => view! { <PasswordResetForm token /> }.into_any(),
        }}
    }
}

/// The account the link is for and a plain form in a `KeepTyped` (a refusal keeps both
/// passwords typed); or why the link does not work.
#[component]
fn PasswordResetForm(token: String) -> impl IntoView {
    let lang = use_lang();
    let link = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        password_link,
    );
    let token = StoredValue::new(token);
    let set = ServerAction::<PasswordReset>::new();
    let errors = form_error(set.value());
    view! {
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match link.await {
                    Ok(username) => view! {
                        <p>{t("pwreset-intro")} " " <strong>{username.clone()}</strong></p>
                        <KeepTyped texts=KeepTexts::here()>
                            <ActionForm action=set attr:class="form" attr:novalidate=true>
                                <ErrorSummary errors=errors />
                                <input type="hidden" name="token" value=token.get_value() />
                                <input type="text" name="username" autocomplete="username" value=username hidden=true readonly=true />
                                <PasswordField name="password" label="pwreset-password" hint="register-password-hint" autocomplete="new-password" errors=errors />
                                <PasswordField name="confirmation" label="pwreset-confirmation" autocomplete="new-password" errors=errors />
                                <Submit label="pwreset-submit" pending=set.pending() />
                            </ActionForm>
                        </KeepTyped>
                    }
                    .into_any(),
                    Err(e) => {
                        let message = e
                            .field_message("token", lang)
                            .unwrap_or_else(|| e.summary(lang));
                        view! {
                            <p class="alert" role="alert">{message}</p>
                            <p>{t("pwreset-new-link")}</p>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

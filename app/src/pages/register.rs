//! `/register`: creating an account (username and password, checked together) and its
//! server function; the new account is logged in.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{form_error, ErrorSummary, Field, PasswordField, Submit};
use crate::error::ApiError;
use crate::i18n::t;
use crate::keep_typed::{KeepTexts, KeepTyped};
#[cfg(feature = "ssr")]
use crate::ssr::{ctx, fail, request_info};

#[component]
pub fn RegisterPage() -> impl IntoView {
    view! {
        <Title text=t("register-title") />
        <h1>{t("register-title")}</h1>
        <p>{t("register-intro")}</p>
        <RegisterForm />
        <p>
            {t("register-have-account")} " " <a href="/login">{t("nav-login")}</a>
        </p>
    }
}

/// A plain form in a `KeepTyped`: with script, a refused name or password is said beside
/// what was typed, the password included.
#[component]
fn RegisterForm() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let errors = form_error(action.value());
    view! {
        <KeepTyped texts=KeepTexts::here()>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <ErrorSummary errors />
                <Field
                    name="username"
                    label="field-username"
                    hint="register-username-hint"
                    autocomplete="username"
                    required=true
                    errors
                />
                <PasswordField
                    name="password"
                    label="field-password"
                    hint="register-password-hint"
                    autocomplete="new-password"
                    errors
                />
                <Submit label="register-submit" pending=action.pending() />
            </ActionForm>
        </KeepTyped>
    }
}

/// Creates the account and logs it in; answers with where to go next.
#[server(endpoint = "register")]
pub async fn register(username: String, password: String) -> Result<String, ApiError> {
    let c = ctx()?;
    let (_, session) = c
        .idp
        .create_account(&username, &password, &request_info())
        .await
        .map_err(fail)?;
    crate::ssr::set_session_cookie(&session.token, c.idp.policy.session_absolute_secs)?;
    let to = "/settings".to_owned();
    crate::ssr::redirect_plain_form(&to);
    Ok(to)
}

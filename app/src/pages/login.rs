//! `/login`: the password step (a plain form: no script on this page), then the security key
//! on `/login/key` when the account has one, and the two server functions behind them (with
//! `LoginReply`, which the step-up page uses too).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{form_error, ErrorSummary, Field, PasswordField, Submit};
use crate::error::ApiError;
use crate::i18n::t;
#[cfg(feature = "ssr")]
use crate::ssr::{ctx, fail, request_info};
use serde::{Deserialize, Serialize};

/// The password form: a plain post, whose refusals come back in the address and are said
/// beside the fields.
#[component]
fn LoginForm(next: String) -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let errors = form_error(action.value());
    view! {
        <ActionForm action=action attr:class="form" attr:novalidate=true>
            <ErrorSummary errors />
            <input type="hidden" name="next" value=next />
            <Field name="username" label="field-username" autocomplete="username" required=true errors />
            <PasswordField name="password" label="field-password" autocomplete="current-password" errors />
            <Submit label="login-submit" pending=action.pending() />
        </ActionForm>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let q = query.read_untracked();
    let next = q.get("next").unwrap_or_default();
    let notice = if q.get("logged_out").is_some() {
        Some(t("login-logged-out"))
    } else if q.get("next").is_some() {
        Some(t("login-again"))
    } else {
        None
    };
    view! {
        <Title text=t("login-title") />
        <h1>{t("login-title")}</h1>
        <p>{t("login-intro")}</p>
        {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
        <LoginForm next />
        <p>
            {t("login-no-account")} " " <a href="/register">{t("login-create")}</a>
        </p>
        <p>
            <a href="/login/2fa-reset">{t("reset-link")}</a>
        </p>
    }
}

/// The answer to the password step.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum LoginReply {
    /// Logged in: where to go next (a local path only).
    Done(String),
    /// The account has security keys: the browser must answer this challenge.
    Key {
        ticket: String,
        options: webauthn_rs_proto::RequestChallengeResponse,
    },
}

/// Password login, the first step.
#[server(endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: String,
) -> Result<LoginReply, ApiError> {
    let c = ctx()?;
    let previous = crate::ssr::session_token();
    let origin = crate::ssr::request_origin()?;
    let (_, step) = c
        .idp
        .login(
            &username,
            &password,
            previous.as_deref(),
            &origin,
            &request_info(),
        )
        .await
        .map_err(fail)?;
    match step {
        idp::keys::LoginStep::Done(session) => {
            crate::ssr::set_session_cookie(&session.token, c.idp.policy.session_absolute_secs)?;
            let to = crate::ssr::safe_next(&next);
            crate::ssr::redirect_plain_form(&to);
            Ok(LoginReply::Done(to))
        }
        idp::keys::LoginStep::KeyRequired { ticket, options } => {
            super::key_step::hand_to_key_step(
                super::key_step::KeyFor::Login,
                &ticket,
                &options,
                &next,
            )
            .await?;
            Ok(LoginReply::Key { ticket, options })
        }
    }
}

/// The second login step: the security key's answer (`PublicKeyCredential` as JSON text).
#[server(endpoint = "login_key")]
pub async fn login_key(
    ticket: String,
    assertion: String,
    next: String,
) -> Result<String, ApiError> {
    let c = ctx()?;
    let assertion: serde_json::Value =
        serde_json::from_str(&assertion).unwrap_or(serde_json::Value::Null);
    let previous = crate::ssr::session_token();
    let session = match c
        .idp
        .finish_key_login(&ticket, &assertion, previous.as_deref(), &request_info())
        .await
    {
        Ok(s) => s,
        // used or expired: the user starts again with the password
        Err(idp::Error::NotFound) => return Err(ApiError::NotAuthenticated),
        Err(e) => return Err(fail(e)),
    };
    crate::ssr::set_session_cookie(&session.token, c.idp.policy.session_absolute_secs)?;
    super::key_step::end_key_step()?;
    Ok(crate::ssr::safe_next(&next))
}

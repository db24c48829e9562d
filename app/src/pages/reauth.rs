//! `/reauth?next=`: step-up ("log in again") within a session: the password and, when the
//! account has keys, a security key. Removing a key and later NIA actions ask for it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::LoginReply;
use crate::components::{
    follow_login_reply, form_error, ErrorSummary, KeyStep, KeyStepPanel, PasswordField, Submit,
};
use crate::error::ApiError;
use crate::i18n::t;

/// Seconds since the epoch, for a cookie's Max-Age.
#[cfg(feature = "ssr")]
fn now() -> i64 {
    crate::ssr::ctx().map_or(0, |c| c.idp.clock.now())
}

#[server(endpoint = "reauth")]
pub async fn reauth(password: String, next: String) -> Result<LoginReply, ApiError> {
    let token = crate::ssr::session_token().ok_or(ApiError::NotAuthenticated)?;
    let origin = crate::ssr::request_origin()?;
    let step = crate::ssr::ctx()?
        .idp
        .start_reauth(&token, &password, &origin, &crate::ssr::request_info())
        .await
        .map_err(crate::ssr::fail)?;
    Ok(match step {
        idp::keys::StepUp::Done(session) => {
            // a step-up is a new login: the session gets a new token
            crate::ssr::set_session_cookie(&session.token, session.expires_at - now())?;
            LoginReply::Done(crate::ssr::safe_next(&next))
        }
        idp::keys::StepUp::KeyRequired { ticket, options } => LoginReply::Key {
            ticket,
            options: *options,
        },
    })
}

#[server(endpoint = "reauth_key")]
pub async fn reauth_key(
    ticket: String,
    assertion: String,
    next: String,
) -> Result<String, ApiError> {
    let token = crate::ssr::session_token().ok_or(ApiError::NotAuthenticated)?;
    let assertion: serde_json::Value =
        serde_json::from_str(&assertion).unwrap_or(serde_json::Value::Null);
    match crate::ssr::ctx()?
        .idp
        .finish_reauth(&token, &ticket, &assertion, &crate::ssr::request_info())
        .await
    {
        Ok(session) => {
            crate::ssr::set_session_cookie(&session.token, session.expires_at - now())?;
            Ok(crate::ssr::safe_next(&next))
        }
        Err(idp::Error::NotFound) => Err(ApiError::NotAuthenticated),
        Err(e) => Err(crate::ssr::fail(e)),
    }
}

#[component]
pub fn ReauthPage() -> impl IntoView {
    let action = ServerAction::<Reauth>::new();
    let errors = form_error(action.value());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let key_step = RwSignal::new(None::<KeyStep>);
    Effect::new(move |_| {
        let next = next();
        follow_login_reply(action.value().get(), key_step, move |ticket, assertion| {
            reauth_key(ticket, assertion, next)
        });
    });
    view! {
        <Title text=t("reauth-title") />
        <h1>{t("reauth-title")}</h1>
        <p>{t("reauth-intro")}</p>
        <Show when=move || key_step.get().is_none() fallback=move || view! { <KeyStepPanel state=key_step /> }>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <ErrorSummary errors />
                <input type="hidden" name="next" value=next />
                <PasswordField name="password" label="field-password" autocomplete="current-password" errors />
                <Submit label="reauth-submit" pending=action.pending() />
            </ActionForm>
        </Show>
    }
}

//! `/reauth?next=`: step-up ("log in again") within a session: the password and, when the
//! account has keys, a security key. With `action=` it is a login made for that action
//! (detaching from NIA, removing a key linked to NIA), which is carried out right after it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::login::LoginReply;
use crate::components::{form_error, ErrorSummary, PasswordField, Submit};
use crate::error::ApiError;
use crate::i18n::t;
#[cfg(feature = "ssr")]
use crate::ssr::{ctx, current_session, fail};

/// Seconds since the epoch, for a cookie's Max-Age.
#[cfg(feature = "ssr")]
fn now() -> i64 {
    crate::ssr::ctx().map_or(0, |c| c.idp.clock.now())
}

/// After a login made for an action: the action, and where the browser goes to see how it
/// went. A failure NIA causes is said on that page; other failures are the login's errors.
#[cfg(feature = "ssr")]
async fn carry_out(
    new_token: &str,
    proof: &idp::account::action_login::ActionLogin,
) -> Result<String, ApiError> {
    use crate::ssr::{ctx, fail, request_info};
    use idp::account::action_login::Action;
    let idp = ctx()?.idp;
    let s = idp.session(new_token).await.map_err(fail)?;
    match proof.action() {
        Action::Detach => {
            match idp
                .detach_nia(s.account_id, &s.username, Some(proof), &request_info())
                .await
            {
                Ok(()) => Ok("/settings/nia?nia=detached".into()),
                Err(idp::Error::CannotDisableAuthenticator) => {
                    Ok("/settings/nia?nia=cannot_disable".into())
                }
                Err(idp::Error::Conflict) => Ok("/settings/nia".into()),
                Err(e) => Err(fail(e)),
            }
        }
        Action::RemoveKey(id) => {
            match idp
                .remove_key(&s.caller(&request_info()), id, Some(proof))
                .await
            {
                Ok(_) => Ok("/settings/2fa/security-keys?removed=1".into()),
                Err(idp::Error::CannotDisableAuthenticator) => {
                    Ok(format!("/settings/2fa/security-keys?cannot_disable={id}"))
                }
                Err(idp::Error::NotFound) => Ok("/settings/2fa/security-keys".into()),
                Err(e) => Err(fail(e)),
            }
        }
    }
}

/// The password step; `action` (`detach`, `remove_key:<id>`, or empty) names what the login
/// is made for.
#[server(endpoint = "reauth")]
pub async fn reauth(
    password: String,
    next: String,
    action: String,
) -> Result<LoginReply, ApiError> {
    let token = crate::ssr::session_token().ok_or(ApiError::NotAuthenticated)?;
    let origin = crate::ssr::request_origin()?;
    let action = match action.as_str() {
        "" => None,
        a => Some(idp::account::action_login::Action::parse(a).ok_or(ApiError::Conflict)?),
    };
    let step = crate::ssr::ctx()?
        .idp
        .start_reauth(
            &token,
            &password,
            action,
            &origin,
            &crate::ssr::request_info(),
        )
        .await
        .map_err(crate::ssr::fail)?;
    Ok(match step {
        idp::keys::StepUp::Done(session, proof) => {
            // a step-up is a new login: the session gets a new token
            crate::ssr::set_session_cookie(&session.token, session.expires_at - now())?;
            let to = match proof {
                Some(p) => carry_out(&session.token, &p).await?,
                None => crate::ssr::safe_next(&next),
            };
            crate::ssr::redirect_plain_form(&to);
            LoginReply::Done(to)
        }
        idp::keys::StepUp::KeyRequired { ticket, options } => {
            super::key_step::hand_to_key_step(
                super::key_step::KeyFor::Reauth,
                &ticket,
                &options,
                &next,
            )
            .await?;
            LoginReply::Key {
                ticket,
                options: *options,
            }
        }
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
        Ok((session, proof)) => {
            crate::ssr::set_session_cookie(&session.token, session.expires_at - now())?;
            super::key_step::end_key_step()?;
            match proof {
                Some(p) => carry_out(&session.token, &p).await,
                None => Ok(crate::ssr::safe_next(&next)),
            }
        }
        Err(idp::Error::NotFound) => Err(ApiError::NotAuthenticated),
        Err(e) => Err(crate::ssr::fail(e)),
    }
}

#[component]
pub fn ReauthPage() -> impl IntoView {
    let query = use_query_map();
    let next = query.read_untracked().get("next").unwrap_or_default();
    let for_action = query.read_untracked().get("action").unwrap_or_default();
    // what the login is for, said before the password is asked; a key is named
    let wanted = for_action
        .strip_prefix("remove_key:")
        .and_then(|v| v.parse::<i64>().ok());
    let keys = Resource::new(
        move || wanted,
        |wanted| async move {
            match wanted {
                Some(_) => crate::pages::security_keys::security_keys()
                    .await
                    .unwrap_or_default(),
                None => Vec::new(),
            }
        },
    );
    let lang = crate::i18n::use_lang();
    let purpose = for_action.clone();
    let why = move || match purpose.split_once(':').map_or(purpose.as_str(), |(a, _)| a) {
        "detach" => t("reauth-for-detach"),
        "remove_key" => {
            let name = keys
                .get()
                .unwrap_or_default()
                .into_iter()
                .find(|k| Some(k.id) == wanted)
                .map(|k| k.name)
                .unwrap_or_default();
            crate::i18n::tr_args(lang, "reauth-for-remove-key", &[("name", name.into())])
        }
        _ => t("reauth-intro"),
    };
    view! {
        <Title text=t("reauth-title") />
        <h1>{t("reauth-title")}</h1>
        <Suspense fallback=|| ()>
            <p>{why}</p>
        </Suspense>
        <ReauthForm next action=for_action />
    }
}

/// The password form: a plain post; with keys, the key step follows on `/reauth/key`.
#[component]
fn ReauthForm(next: String, action: String) -> impl IntoView {
    let reauth = ServerAction::<Reauth>::new();
    let errors = form_error(reauth.value());
    view! {
        <ActionForm action=reauth attr:class="form" attr:novalidate=true>
            <ErrorSummary errors />
            <input type="hidden" name="next" value=next />
            <input type="hidden" name="action" value=action />
            <PasswordField name="password" label="field-password" autocomplete="current-password" errors />
            <Submit label="reauth-submit" pending=reauth.pending() />
        </ActionForm>
    }
}

/// Whether the session holds the fresh login that changing a contact or the password needs
/// (the page offers "Log in again" before anything is typed).
#[server(endpoint = "fresh_login")]
pub async fn fresh_login() -> Result<bool, ApiError> {
    let s = current_session().await?;
    match ctx()?.idp.require_fresh_login(s.account_id, &s.auth).await {
        Ok(()) => Ok(true),
        Err(idp::Error::StepUpRequired) => Ok(false),
        Err(e) => Err(fail(e)),
    }
}

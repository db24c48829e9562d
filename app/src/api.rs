//! Server functions: thin — parse, authorize, call the domain, map errors — and the plain
//! serde types that cross the wire.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

#[cfg(feature = "ssr")]
use crate::ssr::{ctx, current_session, fail, request_info};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    pub first_name: String,
    pub last_name: String,
    /// ISO `YYYY-MM-DD`, empty when not filled.
    pub birth_date: String,
    pub street: String,
    pub house_number: String,
    pub city: String,
    pub postcode: String,
    pub country: String,
    pub organization: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingView {
    pub address: String,
    pub expires_at: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsView {
    pub email: Option<String>,
    pub email_verified_at: Option<i64>,
    pub phone: Option<String>,
    pub phone_verified_at: Option<i64>,
    pub pending_email: Option<PendingView>,
    pub pending_phone: Option<PendingView>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub username: String,
    pub created_at: i64,
    pub profile: ProfileView,
    pub contacts: ContactsView,
    /// Linked to NIA: the register's fields are locked.
    pub nia_linked: bool,
    /// When the identity was verified (`None`: not validated)…
    pub validated_at: Option<i64>,
    /// …and how: `czech_point` or `eobcanka`.
    pub validated_by: Option<String>,
    /// How many security keys the account has.
    pub keys: usize,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

    impl From<idp::account::profile::Profile> for ProfileView {
        fn from(p: idp::account::profile::Profile) -> Self {
            Self {
                first_name: p.first_name.unwrap_or_default(),
                last_name: p.last_name.unwrap_or_default(),
                birth_date: p.birth_date.unwrap_or_default(),
                street: p.street.unwrap_or_default(),
                house_number: p.house_number.unwrap_or_default(),
                city: p.city.unwrap_or_default(),
                postcode: p.postcode.unwrap_or_default(),
                country: p.country.unwrap_or_default(),
                organization: p.organization.unwrap_or_default(),
            }
        }
    }

    impl From<idp::account::contacts::Pending> for PendingView {
        fn from(p: idp::account::contacts::Pending) -> Self {
            Self {
                address: p.address,
                expires_at: p.expires_at,
            }
        }
    }

    impl From<idp::account::contacts::Contacts> for ContactsView {
        fn from(c: idp::account::contacts::Contacts) -> Self {
            Self {
                email: c.email,
                email_verified_at: c.email_verified_at,
                phone: c.phone,
                phone_verified_at: c.phone_verified_at,
                pending_email: c.pending_email.map(Into::into),
                pending_phone: c.pending_phone.map(Into::into),
            }
        }
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
    Ok(crate::ssr::safe_next(&next))
}

/// The logged-in username, or `None`.
#[server(endpoint = "me")]
pub async fn me() -> Result<Option<String>, ApiError> {
    match current_session().await {
        Ok(s) => Ok(Some(s.username)),
        Err(ApiError::NotAuthenticated) => {
            // not an error for this question
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(http::StatusCode::OK);
            }
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[server(endpoint = "settings")]
pub async fn settings_overview() -> Result<SettingsView, ApiError> {
    let s = current_session().await?;
    let idp = ctx()?.idp;
    let account = idp.account(s.account_id).await.map_err(fail)?;
    let profile = idp.profile(s.account_id).await.map_err(fail)?;
    let contacts = idp.contacts(s.account_id).await.map_err(fail)?;
    let validation = idp.validation(s.account_id).await.map_err(fail)?;
    Ok(SettingsView {
        username: account.username,
        created_at: account.created_at,
        profile: profile.into(),
        contacts: contacts.into(),
        nia_linked: idp.nia_link(s.account_id).await.map_err(fail)?.is_some(),
        validated_at: validation.as_ref().map(|v| v.at),
        validated_by: validation.and_then(|v| v.method),
        keys: idp.security_keys(s.account_id).await.map_err(fail)?.len(),
    })
}

/// Saving the profile takes the form's fields one argument each, so that a plain HTML form
/// posts them as they are; the lint about many arguments is silenced for this one function.
#[allow(clippy::too_many_arguments)]
mod save {
    use super::*;

    #[server(endpoint = "save_profile")]
    pub async fn save_profile(
        first_name: String,
        last_name: String,
        birth_date: String,
        street: String,
        house_number: String,
        city: String,
        postcode: String,
        country: String,
        organization: String,
    ) -> Result<ProfileView, ApiError> {
        let s = current_session().await?;
        let input = idp::account::profile::ProfileInput {
            first_name,
            last_name,
            birth_date,
            street,
            house_number,
            city,
            postcode,
            country,
            organization,
        };
        let saved = ctx()?
            .idp
            .update_profile(s.account_id, &s.username, &input, &request_info())
            .await
            .map_err(fail)?;
        Ok(saved.into())
    }
}
pub use save::*;

#[cfg(feature = "ssr")]
fn contact_kind(kind: &str) -> Result<idp::account::contacts::ContactKind, ApiError> {
    match kind {
        "email" => Ok(idp::account::contacts::ContactKind::Email),
        "phone" => Ok(idp::account::contacts::ContactKind::Phone),
        _ => Err(ApiError::Forbidden),
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
        .start_contact_verification(
            s.account_id,
            &s.username,
            &s.auth,
            kind,
            &address,
            compose,
            &request_info(),
        )
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

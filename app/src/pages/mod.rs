//! One module per page.

pub mod admin;
pub mod certified;
pub mod contacts;
pub mod events;
pub mod help;
pub mod key_check;
pub mod login;
pub mod nia;
pub mod nia_login;
pub mod password;
pub mod password_reset;
pub mod profile;
pub mod reauth;
pub mod register;
pub mod security_keys;
pub mod sessions;
pub mod settings;
pub mod support;
pub mod support_console;
pub mod twofa_reset;

use leptos::prelude::*;

/// After a successful login or registration, load the next page in full so that every part
/// of it (the header included) reflects the new session.
pub(crate) fn go_to_when_done<V>(value: V)
where
    V: Get<Value = Option<Result<String, crate::error::ApiError>>> + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(Ok(to)) = value.get() {
            let _ = window().location().assign(&to);
        }
    });
}

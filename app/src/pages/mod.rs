//! One module per page.

pub mod admin;
pub mod certified;
pub mod contacts;
pub mod events;
pub mod help;
pub mod key_check;
pub mod key_step;
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

/// Whether the page at `path` has islands (parts hydrated in the browser): only such a page
/// loads the WASM. Every other page is plain HTML whose forms post without script.
pub fn has_islands(path: &str) -> bool {
    const EXACT: &[&str] = &[
        "/login/key",
        "/reauth/key",
        "/login/2fa-reset",
        "/register",
        "/password-reset",
        "/settings/profile",
        "/settings/contacts",
        "/settings/password",
        "/settings/2fa/security-keys/add",
        "/settings/nia",
        "/security-keys/check",
        "/admin",
    ];
    const UNDER: &[&str] = &["/nia-login/", "/settings/nia/document/"];
    let path = match path.len() {
        1 => path,
        _ => path.trim_end_matches('/'),
    };
    EXACT.contains(&path) || UNDER.iter().any(|p| path.starts_with(p))
}

/// Where the browser is: the request's path on the server, the address bar's in an island.
pub fn current_path() -> String {
    #[cfg(feature = "ssr")]
    {
        crate::ssr::request_path().unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        window().location().pathname().unwrap_or_default()
    }
}

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

#[cfg(test)]
mod tests {
    use super::has_islands;

    #[test]
    fn only_pages_with_islands_load_the_wasm() {
        for p in [
            "/login/key",
            "/reauth/key",
            "/settings/2fa/security-keys/add",
            "/nia-login/abc",
        ] {
            assert!(has_islands(p), "{p}");
        }
        for p in [
            "/",
            "/login",
            "/reauth",
            "/settings",
            "/settings/2fa",
            "/settings/2fa/security-keys",
            "/help",
            "/security-keys/certified",
            "/support",
            "/nope",
        ] {
            assert!(!has_islands(p), "{p}");
        }
    }
}

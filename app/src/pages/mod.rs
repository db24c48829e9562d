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

/// What script the page at `path` loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Script {
    /// None: plain HTML whose forms post without script.
    None,
    /// The forms' script (`frontend-forms`, about 27 KB brotli): plain forms that keep what was typed,
    /// "Show password", the print button, a form that goes on by itself.
    Forms,
    /// The islands' WASM (`frontend`): the WebAuthn ceremonies, the only parts hydrated.
    Islands,
}

/// The script of the page at `path` (see [`Script`]).
pub fn script_of(path: &str) -> Script {
    const ISLANDS: &[&str] = &[
        "/login/key",
        "/reauth/key",
        "/settings/2fa/security-keys/add",
        "/security-keys/check",
    ];
    const FORMS: &[&str] = &[
        "/login/2fa-reset",
        "/register",
        "/password-reset",
        "/settings/profile",
        "/settings/contacts",
        "/settings/password",
    ];
    let path = match path.len() {
        1 => path,
        _ => path.trim_end_matches('/'),
    };
    if ISLANDS.contains(&path) {
        return Script::Islands;
    }
    // `/nia-login/:token` and its key step `/nia-login/:token/key`
    if let Some(rest) = path.strip_prefix("/nia-login/") {
        return match rest.ends_with("/key") {
            true => Script::Islands,
            false => Script::Forms,
        };
    }
    if FORMS.contains(&path) || path.starts_with("/settings/nia/document/") {
        return Script::Forms;
    }
    Script::None
}

/// Where the browser is: the request's path on the server, the address bar's in an island.
pub fn current_path() -> String {
    #[cfg(feature = "ssr")]
    {
        crate::ssr::request_path().unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        leptos::prelude::window()
            .location()
            .pathname()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::{script_of, Script};

    #[test]
    fn only_the_key_ceremonies_load_the_islands_and_plain_forms_a_small_script() {
        for p in [
            "/login/key",
            "/reauth/key",
            "/settings/2fa/security-keys/add",
            "/nia-login/abc/key",
            "/security-keys/check",
            "/security-keys/check/",
        ] {
            assert_eq!(script_of(p), Script::Islands, "{p}");
        }
        for p in [
            "/register",
            "/settings/contacts",
            "/settings/profile",
            "/settings/password",
            "/password-reset",
            "/login/2fa-reset",
            "/nia-login/abc",
            "/settings/nia/document/7",
        ] {
            assert_eq!(script_of(p), Script::Forms, "{p}");
        }
        for p in [
            "/",
            "/login",
            "/reauth",
            "/settings",
            "/settings/2fa",
            "/settings/2fa/security-keys",
            "/settings/nia",
            "/help",
            "/security-keys/certified",
            "/support",
            "/nope",
        ] {
            assert_eq!(script_of(p), Script::None, "{p}");
        }
    }
}

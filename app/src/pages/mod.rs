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
        "/security-keys/check",
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
        leptos::prelude::window()
            .location()
            .pathname()
            .unwrap_or_default()
    }
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
            "/register",
            "/settings/contacts",
            "/security-keys/check",
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
            "/settings/nia",
            "/help",
            "/security-keys/certified",
            "/support",
            "/nope",
        ] {
            assert!(!has_islands(p), "{p}");
        }
    }
}

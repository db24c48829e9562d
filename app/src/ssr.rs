//! Server-only helpers for server functions: the domain handle, who is asking, the session
//! cookie, and the single mapping of domain errors to `ApiError` and HTTP status.

use http::header::{ACCEPT, COOKIE, RETRY_AFTER, SET_COOKIE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::error::{ApiError, FieldCode, FieldError};
use crate::i18n::Lang;

/// The session cookie's name over plain http (development on localhost).
pub const SESSION_COOKIE: &str = "mojeid_session";
/// Its name over https: the `__Host-` prefix makes the browser refuse it unless it is
/// `Secure`, host-only and for the whole site, so no subdomain can plant a session.
pub const SESSION_COOKIE_HOST: &str = "__Host-mojeid_session";
/// The nonce that binds NIA's answer to the browser that pressed "Verify". `SameSite=None`
/// because NIA's answer is a cross-site POST; `__Host-` and `Secure` always (browsers treat
/// `http://localhost` as secure for cookies).
pub const NIA_BROWSER_COOKIE: &str = "__Host-mojeid_nia";
/// The cookie that binds a login through NIA to the browser NIA sent to us (with the
/// `__Host-` prefix on https, so no sibling host and no plain-http answer can set it).
pub fn nia_login_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-mojeid_nia_login"
    } else {
        "mojeid_nia_login"
    }
}

/// The login-through-NIA cookie for flow `token` (`max_age` 0 clears it).
pub fn nia_login_cookie(token: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        nia_login_cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

/// The session cookie's name for this deployment.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SESSION_COOKIE_HOST
    } else {
        SESSION_COOKIE
    }
}

/// What the server gives every render and server function.
#[derive(Clone)]
/// Cloned at every `ctx()` (several times a page): shared, not copied.
pub struct ServerContext {
    pub idp: std::sync::Arc<idp::Idp>,
    /// `Secure` on cookies (everything but plain-http localhost).
    pub secure_cookies: bool,
    /// The address citizens reach the service at (links in e-mails start with it).
    pub public_url: std::sync::Arc<str>,
}

/// Facts about the request, put into the request's extensions by the server's middleware.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub ip: String,
    pub user_agent: String,
    pub lang: Lang,
    pub request_id: String,
}

pub fn ctx() -> Result<ServerContext, ApiError> {
    use_context::<ServerContext>().ok_or_else(|| {
        tracing::error!("server context missing");
        ApiError::Internal
    })
}

pub fn meta() -> RequestMeta {
    use_context::<Parts>()
        .and_then(|p| p.extensions.get::<RequestMeta>().cloned())
        .unwrap_or_default()
}

/// A cookie of ours by its name: over https with the `__Host-` prefix, so that no other host
/// (a sibling subdomain, plain http before HSTS) can plant or shadow it.
pub fn site_cookie_name(name: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// Whether our cookies are `Secure` (and `__Host-`): the site is served over https.
pub fn secure_cookies() -> bool {
    use_context::<ServerContext>().is_some_and(|c| c.secure_cookies)
}

/// Cookie `name` of the request being answered.
pub fn request_cookie(name: &str) -> Option<String> {
    use_context::<Parts>().and_then(|p| cookie_value(&p.headers, name))
}

/// The kept form of this request, if a refused plain post left one.
fn kept_form() -> Option<String> {
    request_cookie(&site_cookie_name(KEPT_FORM_COOKIE, secure_cookies()))
}

/// The cookie that brings back what a refused plain form held (the server's middleware sets
/// it on the redirect; secrets are never in it).
pub const KEPT_FORM_COOKIE: &str = "kept_form";

/// The kept form's cookie, as set or cleared (`max_age` 0).
pub fn kept_form_cookie(value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        site_cookie_name(KEPT_FORM_COOKIE, secure),
        if secure { "; Secure" } else { "" }
    )
}

/// The value the field `name` held in the plain form this page refused just now.
pub fn kept_form_value(name: &str) -> Option<String> {
    let kept = kept_form()?;
    url::form_urlencoded::parse(kept.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A page that showed the kept values clears them (they are read once).
pub fn clear_kept_form() {
    if kept_form().is_some() {
        let _ = append_cookie(&kept_form_cookie("", 0, secure_cookies()));
    }
}

/// The path of the request being answered.
pub fn request_path() -> Option<String> {
    use_context::<Parts>().map(|p| p.uri.path().to_owned())
}

pub fn request_info() -> idp::RequestInfo {
    let m = meta();
    idp::RequestInfo {
        ip: m.ip,
        user_agent: m.user_agent,
    }
}

/// The value of cookie `name` in a request's headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The page's origin (the Origin middleware has let only ours through).
pub fn request_origin() -> Result<String, ApiError> {
    use_context::<Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::ORIGIN)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .ok_or(ApiError::Forbidden)
}

pub fn session_token() -> Option<String> {
    request_cookie(session_cookie_name(secure_cookies()))
}

/// The logged-in session, or `ApiError::NotAuthenticated`.
/// The session the server's middleware already checked for this page request: a page asks
/// for its session once per resource, and each would otherwise be a query of its own.
#[derive(Clone, Debug)]
pub struct CheckedSession(pub idp::account::sessions::Session);

pub async fn current_session() -> Result<idp::account::sessions::Session, ApiError> {
    if let Some(checked) = use_context::<Parts>()
        .and_then(|p| p.extensions.get::<CheckedSession>().map(|c| c.0.clone()))
    {
        return Ok(checked);
    }
    let token = session_token().ok_or(ApiError::NotAuthenticated)?;
    ctx()?.idp.session(&token).await.map_err(fail)
}

pub fn session_cookie(token: &str, max_age: i64, secure: bool) -> String {
    lax_cookie(session_cookie_name(secure), token, max_age, secure)
}

/// A cookie of ours for the whole site, out of scripts' reach, sent on top-level navigation
/// from elsewhere but not on cross-site posts (`max_age` 0 clears it).
/// A cookie of ours that only our own pages' requests carry (`SameSite=Strict`).
pub fn strict_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn lax_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The NIA browser-binding cookie (`max_age` 0 clears it).
pub fn nia_browser_cookie(nonce: &str, max_age: i64) -> String {
    format!(
        "{NIA_BROWSER_COOKIE}={nonce}; Path=/; Secure; HttpOnly; SameSite=None; Max-Age={max_age}"
    )
}

/// Adds a `Set-Cookie` to the server function's response.
pub fn append_cookie(cookie: &str) -> Result<(), ApiError> {
    let value = HeaderValue::from_str(cookie).map_err(|_| ApiError::Internal)?;
    if let Some(res) = use_context::<ResponseOptions>() {
        res.append_header(SET_COOKIE, value);
    }
    Ok(())
}

pub fn set_session_cookie(token: &str, max_age: i64) -> Result<(), ApiError> {
    append_cookie(&session_cookie(token, max_age, ctx()?.secure_cookies))
}

/// After a plain HTML form post (no JavaScript yet), answer with a redirect; the hydrated
/// page navigates itself with the returned URL.
pub fn redirect_plain_form(to: &str) {
    if plain_form_post() {
        leptos_axum::redirect(to);
    }
}

/// A browser's own form submission (before hydration) asks for HTML; the hydrated app's
/// calls do not. Plain posts are answered with redirects (errors travel in the URL back to
/// the form, where the page shows them), so they get no error status.
pub fn plain_form_post() -> bool {
    use_context::<Parts>()
        .and_then(|p| {
            p.headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
}

/// A local path to go to after login, or `/settings`. Refuses anything that could leave the
/// site (`//host`, `https:`, backslashes).
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok {
        next.to_owned()
    } else {
        "/settings".to_owned()
    }
}

/// A strict Content-Security-Policy for an app page: scripts only from us or carrying this
/// response's nonce (Leptos puts it on its inline hydration scripts), WebAssembly allowed,
/// nothing inline otherwise, no framing.
pub fn content_security_policy() {
    if let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
    {
        // our answer to a login through NIA is a form posted to NIA's assertion consumer
        let nia = use_context::<ServerContext>()
            .and_then(|c| c.idp.nia())
            .and_then(|n| origin_of(&n.config.login_acs_url))
            .map(|o| format!(" {o}"))
            .unwrap_or_default();
        let csp = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
             object-src 'none'; base-uri 'self'; form-action 'self'{nia}"
        );
        if let Ok(v) = HeaderValue::from_str(&csp) {
            res.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
        }
    }
}

/// `scheme://host[:port]` of an address (for a CSP source), or `None`.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let ok = matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| format!("{scheme}://{host}"))
}

fn status(code: StatusCode, retry_after: Option<i64>) {
    if plain_form_post() {
        return;
    }
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(code);
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                res.insert_header(RETRY_AFTER, v);
            }
        }
    }
}

fn field_code(v: idp::Violation) -> FieldCode {
    use idp::Violation as V;
    match v {
        V::Required => FieldCode::Required,
        V::TooShort { min } => FieldCode::TooShort { min },
        V::TooLong { max } => FieldCode::TooLong { max },
        V::UsernameChars => FieldCode::UsernameChars,
        V::InvalidCharacters => FieldCode::InvalidCharacters,
        V::UsernameTaken => FieldCode::UsernameTaken,
        V::PasswordCommon => FieldCode::PasswordCommon,
        V::PasswordContainsUsername => FieldCode::PasswordContainsUsername,
        V::EmailInvalid => FieldCode::EmailInvalid,
        V::PhoneInvalid => FieldCode::PhoneInvalid,
        V::DateInvalid => FieldCode::DateInvalid,
        V::DateInFuture => FieldCode::DateInFuture,
        V::DateTooOld => FieldCode::DateTooOld,
        V::PostcodeInvalid => FieldCode::PostcodeInvalid,
        V::CountryInvalid => FieldCode::CountryInvalid,
        V::AddressIncomplete => FieldCode::AddressIncomplete,
        V::CodeWrong => FieldCode::CodeWrong,
        V::CodeExpired => FieldCode::CodeExpired,
        V::CodeMissing => FieldCode::CodeMissing,
        V::CodeAttemptsExhausted => FieldCode::CodeAttemptsExhausted,
        V::TooManyCodes { retry_after_secs } => FieldCode::TooManyCodes { retry_after_secs },
        V::KeyDataIncorrect => FieldCode::KeyDataIncorrect,
        V::KeyAlreadyRegistered => FieldCode::KeyAlreadyRegistered,
        V::LockedByNia => FieldCode::LockedByNia,
        V::LockedByCzechPoint => FieldCode::LockedByCzechPoint,
        V::FileType => FieldCode::FileType,
        V::FileTooLarge { max_mb } => FieldCode::FileTooLarge { max_mb },
        V::NoVerifiedEmail => FieldCode::NoVerifiedEmail,
        V::ReferenceTaken => FieldCode::ReferenceTaken,
        V::LinkInvalid => FieldCode::LinkInvalid,
        V::LinkExpired => FieldCode::LinkExpired,
        V::PasswordsDiffer => FieldCode::PasswordsDiffer,
        V::NotJson => FieldCode::NotJson,
        V::ImageType => FieldCode::ImageType,
        V::ImageTooLarge { max_mb } => FieldCode::ImageTooLarge { max_mb },
    }
}

/// Field problems as the client shows them (a stored draft's, or a refused form's).
pub fn field_errors(v: Vec<idp::FieldViolation>) -> Vec<FieldError> {
    v.into_iter()
        .map(|f| FieldError {
            field: f.field,
            code: field_code(f.violation),
        })
        .collect()
}

/// The one mapping from domain errors to what the client sees, with the HTTP status.
/// Internal details are logged here (with the request id) and never sent.
pub fn fail(e: idp::Error) -> ApiError {
    use idp::Error as E;
    match e {
        E::Invalid(v) => {
            status(StatusCode::UNPROCESSABLE_ENTITY, None);
            let retry = v.iter().find_map(|f| match f.violation {
                idp::Violation::TooManyCodes { retry_after_secs } => Some(retry_after_secs),
                _ => None,
            });
            if let Some(secs) = retry {
                status(StatusCode::TOO_MANY_REQUESTS, Some(secs));
            }
            ApiError::Invalid(field_errors(v))
        }
        E::BadCredentials => {
            status(StatusCode::UNAUTHORIZED, None);
            ApiError::BadCredentials
        }
        E::Throttled { retry_after_secs } => {
            status(StatusCode::TOO_MANY_REQUESTS, Some(retry_after_secs));
            ApiError::Throttled { retry_after_secs }
        }
        E::TooManyRegistrations { retry_after_secs } => {
            status(StatusCode::TOO_MANY_REQUESTS, Some(retry_after_secs));
            ApiError::TooManyRegistrations { retry_after_secs }
        }
        E::StepUpRequired => {
            status(StatusCode::FORBIDDEN, None);
            ApiError::StepUpRequired
        }
        E::StepUpWithSystemKey => {
            status(StatusCode::FORBIDDEN, None);
            ApiError::StepUpWithSystemKey
        }
        E::ActionLoginRequired => {
            status(StatusCode::FORBIDDEN, None);
            ApiError::ActionLoginRequired
        }
        E::BadSecurityKey => {
            status(StatusCode::UNAUTHORIZED, None);
            ApiError::BadSecurityKey
        }
        E::NotAuthenticated => {
            status(StatusCode::UNAUTHORIZED, None);
            ApiError::NotAuthenticated
        }
        E::AccountInactive => {
            status(StatusCode::FORBIDDEN, None);
            ApiError::AccountInactive
        }
        E::Forbidden => {
            status(StatusCode::FORBIDDEN, None);
            ApiError::Forbidden
        }
        E::Conflict => {
            status(StatusCode::CONFLICT, None);
            ApiError::Conflict
        }
        E::NotEligible => {
            status(StatusCode::FORBIDDEN, None);
            ApiError::NotEligible
        }
        E::NiaUnavailable => {
            status(StatusCode::SERVICE_UNAVAILABLE, Some(60));
            ApiError::NiaUnavailable
        }
        E::CannotDisableAuthenticator => {
            status(StatusCode::SERVICE_UNAVAILABLE, Some(60));
            ApiError::CannotDisableAuthenticator
        }
        E::NiaRefused(code) => {
            tracing::error!(%code, "NIA refused an action");
            status(StatusCode::BAD_GATEWAY, None);
            ApiError::CannotDisableAuthenticator
        }
        E::NiaResponseInvalid
        | E::NiaOtherBrowser
        | E::NiaPersonMismatch
        | E::NiaRequestInvalid => {
            status(StatusCode::BAD_REQUEST, None);
            ApiError::Forbidden
        }
        E::Overloaded => {
            status(StatusCode::SERVICE_UNAVAILABLE, Some(1));
            ApiError::Overloaded
        }
        E::NotFound | E::Db(_) | E::Migrate(_) | E::Internal(_) => {
            tracing::error!(error = %e, "request failed");
            status(StatusCode::INTERNAL_SERVER_ERROR, None);
            ApiError::Internal
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_the_site() {
        assert_eq!(safe_next("/settings/profile"), "/settings/profile");
        assert_eq!(safe_next("//evil.example/x"), "/settings");
        assert_eq!(safe_next("https://evil.example"), "/settings");
        assert_eq!(safe_next("/\\evil.example"), "/settings");
        assert_eq!(safe_next(""), "/settings");
    }

    #[test]
    fn session_cookie_is_http_only_and_lax() {
        let c = session_cookie("abc", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("; Secure"));
        assert!(c.starts_with("__Host-mojeid_session=abc; Path=/;"));
        assert!(!c.contains("Domain="));
        let plain = session_cookie("abc", 60, false);
        assert!(!plain.contains("Secure") && plain.starts_with("mojeid_session="));
    }

    #[test]
    fn the_nia_cookie_survives_nias_cross_site_post_and_nothing_else() {
        let c = nia_browser_cookie("n0nce", 1800);
        assert!(c.starts_with("__Host-mojeid_nia=n0nce; Path=/;"));
        assert!(c.contains("; Secure") && c.contains("; HttpOnly") && c.contains("SameSite=None"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("lang=en; mojeid_session=tok123; x=y"),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE).as_deref(), Some("tok123"));
        assert_eq!(cookie_value(&h, "nope"), None);
    }
}

//! Request middleware: who is asking (address, user agent, language, request id), the Origin
//! check on every state change, and the login guard for `/settings`.

use std::net::SocketAddr;

use app::i18n::Lang;
use app::ssr::{cookie_value, RequestMeta};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::header::{ACCEPT_LANGUAGE, ORIGIN, REFERER, SET_COOKIE, USER_AGENT};
use http::{HeaderValue, Method, StatusCode};

use crate::AppState;

pub const LANG_COOKIE: &str = "lang";

/// The span every log line of a request is written in: it carries the request id.
pub fn request_span(req: &http::Request<Body>) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", request_id, method = %req.method(), path = %req.uri().path())
}

fn client_ip(req: &Request, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for {
        // the last hop was added by our own proxy; earlier ones are the client's word
        if let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            return ip.to_owned();
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn query_lang(req: &Request) -> Option<Lang> {
    req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "lang")
            .and_then(|(_, v)| Lang::from_code(v))
    })
}

/// Puts `RequestMeta` into the request; remembers a `?lang=` choice in a cookie.
pub async fn request_meta(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let chosen = query_lang(&req);
    let lang = chosen
        .or_else(|| cookie_value(req.headers(), LANG_COOKIE).and_then(|c| Lang::from_code(&c)))
        .or_else(|| {
            req.headers()
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default();
    let meta = RequestMeta {
        ip: client_ip(&req, state.config.trust_forwarded_for),
        user_agent: req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        lang,
        request_id: req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
    };
    req.extensions_mut().insert(meta);
    let mut res = next.run(req).await;
    if let Some(lang) = chosen {
        let secure = if state.config.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
            lang.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(SET_COOKIE, v);
        }
    }
    res
}

/// The largest support request post (a 2 MB screenshot, a 64 KB key test, the text, the
/// multipart framing): a bigger one is refused before its body is read.
pub const SUPPORT_POST_MAX_BYTES: u64 = 3 * 1024 * 1024;

/// Refuses an over-long support request by its `Content-Length` at once (anyone may post
/// it, without an account); a body without a length is cut off where it passes the limit.
pub async fn limit_support_posts(req: Request, next: Next) -> Response {
    if req.uri().path() != "/api/support_draft" {
        return next.run(req).await;
    }
    let length = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|l| l > SUPPORT_POST_MAX_BYTES) {
        let lang = req
            .extensions()
            .get::<RequestMeta>()
            .map(|m| m.lang)
            .unwrap_or_default();
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            app::i18n::tr_args(lang, "err-image-too-large", &[("max", 2.into())]),
        )
            .into_response();
    }
    let (parts, body) = req.into_parts();
    let limited = Body::new(http_body_util::Limited::new(
        body,
        SUPPORT_POST_MAX_BYTES as usize,
    ));
    next.run(Request::from_parts(parts, limited)).await
}

/// The largest plain form whose values are kept for the page that says what was refused.
const KEPT_FORM_MAX_BYTES: usize = 16 * 1024;
/// At most what a cookie holds beside the others.
const KEPT_COOKIE_MAX_BYTES: usize = 3 * 1024;

/// Fields never kept: secrets go back to nobody, not even their owner's cookie jar.
fn secret_field(name: &str) -> bool {
    [
        "password",
        "confirmation",
        "pin",
        "ticket",
        "token",
        "code",
        "assertion",
        "credential",
    ]
    .iter()
    .any(|s| name.contains(s))
}

/// A plain form post (a page without script) that a server function refuses comes back to its
/// page with the error in the address; what was typed comes back in a one-minute cookie
/// (`kept_form`, read once by the page's fields), so that nothing but the secrets is typed
/// twice.
pub async fn keep_refused_form(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let plain_post = req.method() == Method::POST
        && req.uri().path().starts_with("/api/")
        && header_contains(&req, http::header::ACCEPT, "text/html")
        && req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    // a bigger form (or one of unknown length) is passed on as it is, its fields not kept
    let small = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|l| l <= KEPT_FORM_MAX_BYTES);
    if !plain_post || !small {
        return next.run(req).await;
    }
    // the page's KeepTyped island posts the form itself and wants to know where to go
    let asks_where = req.headers().contains_key(app::keep_typed::ASK_HEADER);
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, KEPT_FORM_MAX_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "").into_response();
    };
    // parsed and written again: only form-encoded text goes into the cookie
    let kept = {
        let mut kept = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in url::form_urlencoded::parse(&bytes) {
            if !name.is_empty() && !secret_field(&name.to_ascii_lowercase()) {
                kept.append_pair(&name, &value);
            }
        }
        kept.finish()
    };
    let mut res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let refused = res
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|l| l.contains("__err="));
    if refused && !kept.is_empty() && kept.len() <= KEPT_COOKIE_MAX_BYTES {
        let cookie = app::ssr::kept_form_cookie(&kept, 60, state.config.secure_cookies());
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(SET_COOKIE, v);
        }
    }
    if asks_where {
        say_where_instead(&mut res);
    }
    res
}

/// A redirect becomes `200` with the address in `x-go` (its cookies kept): a script that
/// follows a redirect cannot tell where it was sent first, and a refusal's address carries
/// the error. A custom header cannot come from another site's page without CORS (and the
/// Origin check still runs).
fn say_where_instead(res: &mut Response) {
    if !res.status().is_redirection() {
        return;
    }
    let Some(location) = res.headers_mut().remove(http::header::LOCATION) else {
        return;
    };
    *res.status_mut() = StatusCode::OK;
    res.headers_mut().insert(
        http::HeaderName::from_static(app::keep_typed::GO_HEADER),
        location,
    );
}

fn header_contains(req: &Request, name: http::header::HeaderName, needle: &str) -> bool {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(needle))
}

/// Refuses state changes that do not come from our own pages: the `Origin` header (or,
/// when a browser sends none, the `Referer`) must be our origin. With SameSite=Lax session
/// cookies this is the CSRF defence.
pub async fn check_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    // NIA posts its signed Response from its own origin; the signature, the request ID and
    // the one-time RelayState protect it
    // the register delivers server to server, signed; NIA posts its signed login request
    // (whose ID is accepted once) to our SSO endpoint
    if matches!(
        req.uri().path(),
        "/nia/acs" | "/intake/rob" | "/saml/idp/sso"
    ) {
        return next.run(req).await;
    }
    let (allowed, sent_origin) = origin_allowed(req.headers(), &state.config.allowed_origins());
    if allowed {
        next.run(req).await
    } else {
        tracing::warn!(
            origin = sent_origin.as_deref().unwrap_or("-"),
            "state change from a foreign origin refused"
        );
        let lang = req
            .extensions()
            .get::<RequestMeta>()
            .map(|m| m.lang)
            .unwrap_or_default();
        (StatusCode::FORBIDDEN, app::i18n::tr(lang, "err-forbidden")).into_response()
    }
}

fn origin_allowed(headers: &http::HeaderMap, origins: &[String]) -> (bool, Option<String>) {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let allowed = match (header(ORIGIN), header(REFERER)) {
        (Some(o), _) => origins.iter().any(|origin| o == origin),
        (None, Some(r)) => origins
            .iter()
            .any(|origin| r == origin || r.starts_with(&format!("{origin}/"))),
        (None, None) => false,
    };
    (allowed, header(ORIGIN).map(str::to_owned))
}

/// Pages under `/settings` need a live session; without one the browser goes to the login
/// page and comes back afterwards. The home page is the login form, or the settings for
/// someone already logged in.
pub async fn require_login(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let is_get = req.method() == Method::GET;
    let protected =
        is_get && (path == "/settings" || path.starts_with("/settings/") || path == "/reauth");
    let home = is_get && path == "/";
    if !protected && !home {
        return next.run(req).await;
    }
    let session = match cookie_value(req.headers(), state.session_cookie()) {
        Some(token) => state.idp.session(&token).await.ok(),
        None => None,
    };
    let live = session.is_some();
    // the page's own lookups of its session (one per resource) take this one
    if let Some(session) = session {
        req.extensions_mut()
            .insert(app::ssr::CheckedSession(session));
    }
    match (live, home) {
        (true, true) => Redirect::to("/settings").into_response(),
        (true, false) | (false, true) => next.run(req).await,
        (false, false) => {
            let next_path = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/settings".into());
            let encoded = percent_encoding::utf8_percent_encode(
                &next_path,
                percent_encoding::NON_ALPHANUMERIC,
            );
            Redirect::to(&format!("/login?next={encoded}")).into_response()
        }
    }
}

/// Nothing we answer may be kept by a browser or a proxy (pages show personal data, API
/// replies carry it), except the versioned static assets under `/pkg`.
pub async fn no_store(req: Request, next: Next) -> Response {
    let assets = req.uri().path().starts_with("/pkg/");
    let mut res = next.run(req).await;
    if !assets && !res.headers().contains_key(http::header::CACHE_CONTROL) {
        res.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    res
}

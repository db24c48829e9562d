//! Plain axum handlers beside the Leptos app: home redirect, logout, health, dev outbox.

use app::i18n::{format_date, format_time, tr, Lang};
use app::ssr::{cookie_value, nia_browser_cookie, session_cookie, RequestMeta, NIA_BROWSER_COOKIE};
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::header::SET_COOKIE;
use http::{HeaderValue, StatusCode};

use crate::AppState;
use idp::account::sessions::Session;

fn request_info(meta: &RequestMeta) -> idp::RequestInfo {
    idp::RequestInfo {
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
    }
}

/// Ends the session and clears the cookie. A plain form post, so it works without JavaScript.
pub async fn logout(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = cookie_value(&headers, state.session_cookie()) {
        if let Err(e) = state.idp.logout(&token, &request_info(&meta)).await {
            tracing::error!(error = %e, "logout failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                tr(meta.lang, "err-internal"),
            )
                .into_response();
        }
    }
    let mut res = Redirect::to("/login?logged_out=1").into_response();
    let secure = state.config.secure_cookies();
    // the session, and a support draft of the account (the next person at this computer
    // would not see it anyway: a draft is its account's only)
    let ceremonies = app::pages::key_step::cookies_cleared_at_logout(secure);
    for cookie in [
        session_cookie("", 0, secure),
        app::pages::support::draft_cookie("", 0, secure),
    ]
    .into_iter()
    .chain(ceremonies)
    {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(SET_COOKIE, v);
        }
    }
    res
}

/// `GET /logout` (a bookmark or a typed address) must not log anyone out: send them home.
pub async fn logout_page() -> Redirect {
    Redirect::to("/")
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// Prometheus text for operators, only with `Authorization: Bearer METRICS_TOKEN` (without
/// a configured token the address does not exist).
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let ok = given.is_some_and(|g| idp::constant_time_eq(g, expected));
    if !ok {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let c = state.idp.edge_counters();
    let mut text = String::from(
        "# HELP mojeid_public_edge_rejects_total Unauthenticated messages turned away at a public XML edge.\n\
         # TYPE mojeid_public_edge_rejects_total counter\n",
    );
    for edge in [
        idp::public_edge::Edge::NiaAcs,
        idp::public_edge::Edge::RobIntake,
        idp::public_edge::Edge::NiaSso,
    ] {
        text.push_str(&format!(
            "mojeid_public_edge_rejects_total{{edge=\"{}\"}} {}\n",
            edge.name(),
            c.rejected(edge)
        ));
    }
    match state.idp.metrics_text().await {
        Ok(t) => text.push_str(&t),
        Err(e) => {
            tracing::error!(error = %e, "reading the metrics' gauges failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    let m = state.idp.means_counters();
    text.push_str(&format!(
        "# HELP mojeid_nia_means_orphans_deactivated_total Means of ours at NIA that no link held, deactivated by the reconciliation job.\n\
         # TYPE mojeid_nia_means_orphans_deactivated_total counter\n\
         mojeid_nia_means_orphans_deactivated_total {}\n\
         # HELP mojeid_nia_means_missing_total Means a link holds that NIA did not list (each one is also in the audit log).\n\
         # TYPE mojeid_nia_means_missing_total counter\n\
         mojeid_nia_means_missing_total {}\n",
        m.orphans_deactivated(),
        m.missing_at_nia()
    ));
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
        .into_response()
}

/// Ready when the database answers.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.idp.db.ping().await {
        Ok(()) => match &state.idp.metadata().stale_since {
            Some(since) => (
                StatusCode::OK,
                format!("ready\nwarning: FIDO metadata is stale since {since}"),
            )
                .into_response(),
            None => (StatusCode::OK, "ready").into_response(),
        },
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Dev and test only: every e-mail and SMS the product has written, newest first.
pub async fn dev_outbox(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
) -> Response {
    let messages = match state.idp.outbox_recent(200).await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "reading the outbox failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                tr(meta.lang, "err-internal"),
            )
                .into_response();
        }
    };
    let lang = meta.lang;
    let (title, intro, when, channel, to, subject, body, empty) = match lang {
        Lang::Cs => ("Odchozí zprávy (vývoj)", "Zprávy, které by aplikace odeslala. Tato stránka existuje jen ve vývojovém a testovacím režimu.", "Čas", "Kanál", "Komu", "Předmět", "Text", "Zatím žádné zprávy."),
        Lang::En => ("Outbox (development)", "Messages the application would send. This page exists only in dev and test mode.", "Time", "Channel", "To", "Subject", "Body", "No messages yet."),
    };
    let rows: String = messages
        .iter()
        .map(|m| {
            format!(
                "<tr data-channel=\"{}\" data-to=\"{}\"><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
                escape(&m.channel),
                escape(&m.recipient),
                format_date(lang, m.created_at),
                format_time(m.created_at),
                escape(&m.channel),
                escape(&m.recipient),
                escape(&m.subject),
                escape(&m.body)
            )
        })
        .collect();
    let table = if messages.is_empty() {
        format!("<p>{empty}</p>")
    } else {
        format!("<table><caption>{title}</caption><thead><tr><th scope=\"col\">{when}</th><th scope=\"col\">{channel}</th><th scope=\"col\">{to}</th><th scope=\"col\">{subject}</th><th scope=\"col\">{body}</th></tr></thead><tbody>{rows}</tbody></table>")
    };
    Html(format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><link rel=\"stylesheet\" href=\"/pkg/mojeid.css\"></head><body><main id=\"main\"><h1>{title}</h1><p>{intro}</p>{table}</main></body></html>",
        lang.code()
    ))
    .into_response()
}

/// Our SAML metadata, which NIA registers (and the simulator reads).
pub async fn saml_metadata(State(state): State<AppState>) -> Response {
    match state.idp.nia() {
        Some(nia) => (
            [(http::header::CONTENT_TYPE, "application/samlmetadata+xml")],
            nia.sp_metadata(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(serde::Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

/// NIA's assertion consumer: verifies the Response and sends the browser back to the NIA
/// section, which shows the data or what went wrong. An answer brought by a browser that did
/// not press "Verify" (no binding cookie, or another one) gets a page of its own: it may be
/// a citizen whom somebody sent an NIA address to, and nothing of it reaches any account.
pub async fn nia_acs(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<AcsForm>,
) -> Response {
    let info = request_info(&meta);
    let browser = cookie_value(&headers, NIA_BROWSER_COOKIE);
    let outcome = state
        .idp
        .accept_nia_response(
            &form.saml_response,
            &form.relay_state,
            browser.as_deref(),
            &info,
        )
        .await;
    let mut res = match outcome {
        Ok(_) => Redirect::to("/settings/nia").into_response(),
        Err(idp::Error::NiaOtherBrowser) => {
            return (
                StatusCode::FORBIDDEN,
                [(http::header::CACHE_CONTROL, "no-store")],
                notice_page(
                    meta.lang,
                    "nia-other-browser-title",
                    &[
                        "nia-other-browser-1",
                        "nia-other-browser-2",
                        "nia-other-browser-3",
                    ],
                ),
            )
                .into_response()
        }
        Err(idp::Error::NiaPersonMismatch) => {
            Redirect::to("/settings/nia?nia=person_mismatch").into_response()
        }
        Err(idp::Error::NiaUnavailable) => {
            Redirect::to("/settings/nia?nia=unavailable").into_response()
        }
        Err(idp::Error::NiaResponseInvalid) => {
            Redirect::to("/settings/nia?nia=invalid").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "NIA response could not be processed");
            Redirect::to("/settings/nia?nia=error").into_response()
        }
    };
    // the nonce served its one answer
    if browser.is_some() {
        if let Ok(v) = HeaderValue::from_str(&nia_browser_cookie("", 0)) {
            res.headers_mut().append(SET_COOKIE, v);
        }
    }
    res
}

#[derive(serde::Deserialize)]
pub struct SsoForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

/// Our single sign-on service: NIA posts a signed AuthnRequest when a citizen chose mojeID
/// on its login page. A verified one opens a login flow bound to this browser by a cookie
/// and leads to its page; anything else gets a plain page and no redirect anywhere.
pub async fn nia_sso(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    axum::Form(form): axum::Form<SsoForm>,
) -> Response {
    let info = request_info(&meta);
    let relay = Some(form.relay_state.as_str()).filter(|r| !r.is_empty());
    match state
        .idp
        .receive_nia_login(&form.saml_request, relay, &info)
        .await
    {
        Ok(token) => {
            let mut res = Redirect::to(&format!("/nia-login/{token}")).into_response();
            let cookie = app::ssr::nia_login_cookie(
                &token,
                idp::nia::login::FLOW_SECS,
                state.config.secure_cookies(),
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(SET_COOKIE, v);
            }
            res
        }
        Err(idp::Error::NiaUnavailable) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(http::header::RETRY_AFTER, "60")],
            notice_page(
                meta.lang,
                "nia-sso-unavailable-title",
                &["nia-sso-unavailable-1"],
            ),
        )
            .into_response(),
        Err(idp::Error::NiaRequestInvalid) => nia_sso_refused(meta.lang),
        Err(e) => {
            tracing::error!(error = %e, "NIA login request could not be processed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                notice_page(meta.lang, "nia-sso-invalid-title", &["err-internal"]),
            )
                .into_response()
        }
    }
}

/// The SSO endpoint takes NIA's POST only; whatever else arrives gets the plain page.
pub async fn nia_sso_get(Extension(meta): Extension<RequestMeta>) -> Response {
    nia_sso_refused(meta.lang)
}

fn nia_sso_refused(lang: Lang) -> Response {
    (
        StatusCode::BAD_REQUEST,
        notice_page(
            lang,
            "nia-sso-invalid-title",
            &["nia-sso-invalid-1", "nia-sso-invalid-2"],
        ),
    )
        .into_response()
}

/// A page of plain text in the citizen's language, with a way home.
fn notice_page(lang: Lang, title_key: &str, paragraph_keys: &[&str]) -> Html<String> {
    let title = escape(&tr(lang, title_key));
    let body: String = paragraph_keys
        .iter()
        .map(|k| format!("<p>{}</p>", escape(&tr(lang, k))))
        .collect();
    let home = escape(&tr(lang, "nav-home"));
    Html(format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} – mojeID</title><link rel=\"stylesheet\" href=\"/pkg/mojeid.css\"></head><body><main id=\"main\"><h1>{title}</h1><div role=\"alert\">{body}</div><p><a href=\"/\">{home}</a></p></main></body></html>",
        lang.code()
    ))
}

/// The intake of population-register deliveries (our data box, in reality): the register's
/// signed message with a person's reference data and the office's "message for the
/// recipient".
pub async fn office_intake(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let info = request_info(&meta);
    // the data box's transport credential first: nothing else is read without it
    let presented = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !presented.is_some_and(|t| idp::constant_time_eq(t, &state.config.intake_token)) {
        if let Err(e) = state.idp.intake_unauthenticated(&info).await {
            tracing::error!(error = %e, "counting a refused delivery failed");
        }
        return (StatusCode::UNAUTHORIZED, "a data-box credential is needed").into_response();
    }
    match state.idp.accept_office_delivery(&body, &info).await {
        Ok(outcome) => axum::Json(serde_json::json!({ "outcome": outcome })).into_response(),
        Err(idp::Error::NiaResponseInvalid) => (
            StatusCode::BAD_REQUEST,
            "the delivery could not be verified",
        )
            .into_response(),
        Err(idp::Error::NiaUnavailable) => {
            (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "a delivery could not be stored");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again later").into_response()
        }
    }
}

/// `/settings/nia/document/{id}/pdf`: the Czech POINT document as a PDF.
pub async fn office_document_pdf(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = cookie_value(&headers, state.session_cookie()) else {
        return Redirect::to("/login").into_response();
    };
    let session = match state.idp.session(&token).await {
        Ok(s) => s,
        Err(_) => return Redirect::to("/login").into_response(),
    };
    let request = match state.idp.office_request(session.account_id, id).await {
        Ok(r) => r,
        Err(idp::Error::NotFound) => {
            return (StatusCode::NOT_FOUND, tr(meta.lang, "err-not-found")).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "document request failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                tr(meta.lang, "err-internal"),
            )
                .into_response();
        }
    };
    let code = request.code.clone();
    let lang = meta.lang;
    match tokio::task::spawn_blocking(move || {
        crate::document::office_pdf(lang, &code, request.expires_at)
    })
    .await
    {
        Ok(Ok(pdf)) => (
            [
                (http::header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    http::header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"mojeid-czech-point-{id}.pdf\""),
                ),
                (http::header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            pdf,
        )
            .into_response(),
        other => {
            tracing::error!(?other, "the document PDF could not be made");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                tr(meta.lang, "err-internal"),
            )
                .into_response()
        }
    }
}

/// A paper form's scan, for the back office and auditors (a key login with the role).
/// Sent as a download, never rendered in our origin.
pub async fn paper_form_scan(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    headers: HeaderMap,
) -> Response {
    let Some(session) = cookie_session(&state, &headers).await else {
        return Redirect::to("/login?next=%2Fadmin").into_response();
    };
    match state
        .idp
        .paper_form_scan(&session, id, &request_info(&meta))
        .await
    {
        Ok((reference, kind, scan)) => {
            let ext = match kind.as_str() {
                "application/pdf" => "pdf",
                "image/png" => "png",
                _ => "jpg",
            };
            let name: String = reference
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let mut res = held_file(kind, scan);
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"form-{name}.{ext}\""))
            {
                res.headers_mut()
                    .insert(http::header::CONTENT_DISPOSITION, v);
            }
            res
        }
        // the key login is too old for reading a citizen's document: log in again, back here
        Err(idp::Error::StepUpRequired) => Redirect::to(&format!(
            "/reauth?next=%2Fadmin%2Fpaper-forms%2F{id}%2Fscan"
        ))
        .into_response(),
        Err(e) => refusal(meta.lang, e, "reading a paper form's scan"),
    }
}

/// The paper form "Žádost o reset hesla v MojeID" to print (Czech only; public).
pub async fn reset_form_pdf(Extension(meta): Extension<RequestMeta>) -> Response {
    match tokio::task::spawn_blocking(crate::document::reset_form_pdf).await {
        Ok(Ok(pdf)) => (
            [
                (http::header::CONTENT_TYPE, "application/pdf"),
                (
                    http::header::CONTENT_DISPOSITION,
                    "inline; filename=\"zadost-o-reset-hesla-v-mojeid.pdf\"",
                ),
                (http::header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            pdf,
        )
            .into_response(),
        other => {
            tracing::error!(?other, "the reset form PDF could not be made");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                tr(meta.lang, "err-internal"),
            )
                .into_response()
        }
    }
}

/// A file we hold for someone (a paper form's scan, a support request's screenshot): never
/// cached, and sandboxed so that even a crafted file runs nothing.
fn held_file(kind: String, bytes: Vec<u8>) -> Response {
    (
        [
            (http::header::CONTENT_TYPE, kind),
            (http::header::CACHE_CONTROL, "no-store".to_owned()),
            (
                http::header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The citizen's own draft's screenshot, for the preview (the draft cookie is the key).
pub async fn support_draft_screenshot(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    headers: HeaderMap,
) -> Response {
    let secure = state.config.secure_cookies();
    let Some(token) = cookie_value(&headers, app::pages::support::draft_cookie_name(secure)) else {
        return (StatusCode::NOT_FOUND, tr(meta.lang, "err-not-found")).into_response();
    };
    let account = cookie_session(&state, &headers).await.map(|s| s.account_id);
    match state.idp.support_draft_screenshot(&token, account).await {
        Ok((kind, bytes)) => held_file(kind, bytes),
        Err(e) => refusal(meta.lang, e, "reading a support draft's screenshot"),
    }
}

/// A sent request's screenshot, for the support console (audited by the domain).
pub async fn support_screenshot(
    State(state): State<AppState>,
    Extension(meta): Extension<RequestMeta>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    headers: HeaderMap,
) -> Response {
    let Some(session) = cookie_session(&state, &headers).await else {
        return Redirect::to("/login?next=%2Fadmin%2Fsupport").into_response();
    };
    match state
        .idp
        .support_screenshot(&session, id, &request_info(&meta))
        .await
    {
        Ok((kind, bytes)) => held_file(kind, bytes),
        Err(e) => refusal(meta.lang, e, "reading a support request's screenshot"),
    }
}

/// The session the request's cookie names, while it is valid.
async fn cookie_session(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let token = cookie_value(headers, state.session_cookie())?;
    state.idp.session(&token).await.ok()
}

/// A document or image handler's refusal in the reader's language: not theirs to read (403),
/// not there (404), or a failure (500, logged with `what` was being done).
fn refusal(lang: Lang, e: idp::Error, what: &str) -> Response {
    match e {
        idp::Error::Forbidden => (StatusCode::FORBIDDEN, tr(lang, "err-forbidden")).into_response(),
        idp::Error::NotFound => (StatusCode::NOT_FOUND, tr(lang, "err-not-found")).into_response(),
        e => {
            tracing::error!(error = %e, "{what} failed");
            (StatusCode::INTERNAL_SERVER_ERROR, tr(lang, "err-internal")).into_response()
        }
    }
}

//! `/support`: a request to technical support, for a citizen who is logged in or cannot log
//! in. The form is pre-filled with what the server knows (the help page's list: username,
//! operating system and its version, browser and its version, the account's keys, the time)
//! and posts as plain multipart HTML (it works without JavaScript); what was posted becomes a
//! draft that `/support/preview` shows exactly as it will be sent, and "Send" turns it into a
//! request with a reference number (`/support/sent`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::{ErrorSummary, Field, FormError};
use crate::error::{ApiError, FieldError};
use crate::i18n::{t, tr_args, use_lang};

/// The cookie that holds the citizen's draft (its token, new at every write; the draft lives
/// an hour): `__Host-` over https, so no other host can set it.
pub fn draft_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-support_draft"
    } else {
        "support_draft"
    }
}

/// The form as it is shown: pre-filled, or the draft as it was posted with its problems.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SupportFormView {
    pub logged_in: bool,
    pub username: String,
    pub email: String,
    /// The account's verified e-mail is used: not editable here.
    pub email_from_account: bool,
    pub os: String,
    pub browser: String,
    pub key_type: String,
    pub description: String,
    pub happened_at: String,
    pub key_check: String,
    pub account_keys: String,
    pub has_screenshot: bool,
    pub problems: Vec<FieldError>,
    /// The browser is not Google Chrome (the help page recommends it for security keys).
    pub not_chrome: bool,
}

/// What the request will contain, as the preview shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SupportPreviewView {
    pub username: String,
    pub email: String,
    pub os: String,
    pub browser: String,
    pub key_type: String,
    pub account_keys: String,
    pub description: String,
    pub happened_at: String,
    pub key_check: Option<String>,
    pub has_screenshot: bool,
    pub ready: bool,
}

#[cfg(feature = "ssr")]
fn draft_token() -> Option<String> {
    crate::ssr::request_cookie(draft_cookie_name(crate::ssr::secure_cookies()))
        .filter(|t| !t.is_empty())
}

/// The draft cookie (`max_age` 0 clears it).
#[cfg(feature = "ssr")]
pub fn draft_cookie(token: &str, max_age: i64, secure: bool) -> String {
    crate::ssr::lax_cookie(draft_cookie_name(secure), token, max_age, secure)
}

/// The draft this browser holds, for the session's account (or for nobody logged in).
#[cfg(feature = "ssr")]
async fn own_draft(
    idp: &idp::Idp,
    session: Option<&idp::account::sessions::Session>,
) -> Result<Option<idp::support::SupportRequest>, ApiError> {
    let Some(token) = draft_token() else {
        return Ok(None);
    };
    match idp
        .support_draft(&token, session.map(|s| s.account_id))
        .await
    {
        Ok(d) => Ok(Some(d)),
        Err(idp::Error::NotFound) => Ok(None),
        Err(e) => Err(crate::ssr::fail(e)),
    }
}

/// The browser and system of this request (and asks Chromium to send its exact versions
/// next time, as User-Agent Client Hints).
#[cfg(feature = "ssr")]
pub fn request_client() -> Client {
    let parts = use_context::<http::request::Parts>();
    let header = |name: &str| {
        parts
            .as_ref()
            .and_then(|p| p.headers.get(name))
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(
            http::HeaderName::from_static("accept-ch"),
            http::HeaderValue::from_static(
                "Sec-CH-UA-Platform-Version, Sec-CH-UA-Full-Version-List",
            ),
        );
    }
    describe_client(
        &header("user-agent"),
        &header("sec-ch-ua-platform"),
        &header("sec-ch-ua-platform-version"),
        &header("sec-ch-ua-full-version-list"),
    )
}

/// Now, as the citizen would write it.
#[cfg(feature = "ssr")]
fn now_text(idp: &idp::Idp) -> String {
    crate::i18n::format_date_time(crate::ssr::meta().lang, idp.clock.now())
}

/// The form's content: the citizen's draft if there is one, else what the server knows.
#[server(endpoint = "support_form")]
pub async fn support_form() -> Result<SupportFormView, ApiError> {
    let c = crate::ssr::ctx()?;
    let session = crate::ssr::current_session().await.ok();
    let client = request_client();
    let account_email = match &session {
        Some(s) => c.idp.verified_email(s.account_id).await.ok().flatten(),
        None => None,
    };
    {
        if let Some(d) = own_draft(&c.idp, session.as_ref()).await? {
            return Ok(SupportFormView {
                logged_in: session.is_some(),
                email_from_account: account_email.is_some(),
                username: d.username,
                email: d.email,
                os: d.os,
                browser: d.browser,
                key_type: d.key_type,
                description: d.description,
                happened_at: d.happened_at,
                key_check: d.key_check.unwrap_or_default(),
                account_keys: d.account_keys,
                has_screenshot: d.screenshot_type.is_some(),
                problems: crate::ssr::field_errors(d.problems),
                not_chrome: client.not_chrome,
            });
        }
    }
    let (username, account_keys) = match &session {
        Some(s) => {
            let keys = c.idp.security_keys(s.account_id).await.unwrap_or_default();
            (s.username.clone(), idp::support::describe_keys(&keys))
        }
        None => (String::new(), String::new()),
    };
    Ok(SupportFormView {
        logged_in: session.is_some(),
        username,
        email: account_email.clone().unwrap_or_default(),
        email_from_account: account_email.is_some(),
        os: client.os,
        browser: client.browser,
        happened_at: now_text(&c.idp),
        account_keys,
        not_chrome: client.not_chrome,
        ..Default::default()
    })
}

/// The form's post (multipart: the screenshot is a file). Always answered with a redirect:
/// to the preview when the draft can be sent, else back to the form, which shows the draft
/// with what is wrong.
#[server(endpoint = "support_draft", input = server_fn::codec::MultipartFormData)]
pub async fn support_draft(data: server_fn::codec::MultipartData) -> Result<(), ApiError> {
    use idp::support::{SupportInput, KEY_CHECK_MAX_BYTES, SCREENSHOT_MAX_BYTES};
    let c = crate::ssr::ctx()?;
    let session = crate::ssr::current_session().await.ok();
    let unreadable =
        || crate::ssr::fail(idp::Error::invalid("description", idp::Violation::Required));
    let mut data = data.into_inner().ok_or_else(unreadable)?;
    let mut input = SupportInput::default();
    let mut from_key_check = false;
    while let Some(mut field) = data.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "screenshot" || name == "key_check_file" {
            // read up to one byte past the limit, the rest discarded
            let limit = if name == "screenshot" {
                SCREENSHOT_MAX_BYTES
            } else {
                KEY_CHECK_MAX_BYTES
            } + 1;
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
                let room = limit.saturating_sub(bytes.len());
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            if name == "screenshot" {
                input.screenshot = bytes;
            } else if !bytes.is_empty() {
                input.key_check = String::from_utf8_lossy(&bytes).into_owned();
            }
            continue;
        }
        let text: String = field
            .text()
            .await
            .map_err(|_| unreadable())?
            .chars()
            .take(70_000)
            .collect();
        match name.as_str() {
            "username" => input.username = text,
            "email" => input.email = text,
            "os" => input.os = text,
            "browser" => input.browser = text,
            "key_type" => input.key_type = text,
            "description" => input.description = text,
            "happened_at" => input.happened_at = text,
            "from" => from_key_check = text == "key-check",
            // a file chosen wins over the text field
            "key_check" if input.key_check.is_empty() => input.key_check = text,
            _ => {}
        }
    }
    if from_key_check {
        let client = request_client();
        input.os = client.os;
        input.browser = client.browser;
        input.happened_at = now_text(&c.idp);
    }
    let token = draft_token();
    match c
        .idp
        .write_support_draft(
            session.as_ref(),
            token.as_deref(),
            &input,
            &crate::ssr::request_info(),
        )
        .await
    {
        Ok((token, draft)) => {
            crate::ssr::append_cookie(&draft_cookie(&token, 3600, crate::ssr::secure_cookies()))?;
            leptos_axum::redirect(if from_key_check {
                // started from the key test's result: the citizen fills in the rest
                "/support?from=key-check#form"
            } else if draft.problems.is_empty() {
                "/support/preview"
            } else {
                "/support#form"
            });
            Ok(())
        }
        Err(idp::Error::Throttled { retry_after_secs }) => {
            leptos_axum::redirect(&format!("/support?throttled={retry_after_secs}"));
            Ok(())
        }
        Err(e) => Err(crate::ssr::fail(e)),
    }
}

/// The draft as it will be sent (`None`: there is none, or it expired).
#[server(endpoint = "support_preview")]
pub async fn support_preview() -> Result<Option<SupportPreviewView>, ApiError> {
    let c = crate::ssr::ctx()?;
    let session = crate::ssr::current_session().await.ok();
    let Some(d) = own_draft(&c.idp, session.as_ref()).await? else {
        return Ok(None);
    };
    Ok(Some(SupportPreviewView {
        ready: d.problems.is_empty(),
        username: d.username,
        email: d.email,
        os: d.os,
        browser: d.browser,
        key_type: d.key_type,
        account_keys: d.account_keys,
        description: d.description,
        happened_at: d.happened_at,
        key_check: d.key_check,
        has_screenshot: d.screenshot_type.is_some(),
    }))
}

/// Sends the draft (a plain form post): to `/support/sent` with the reference, or back to
/// the form or the preview with the reason.
#[server(endpoint = "support_send")]
pub async fn support_send() -> Result<(), ApiError> {
    let c = crate::ssr::ctx()?;
    let Some(token) = draft_token() else {
        leptos_axum::redirect("/support?expired=1");
        return Ok(());
    };
    let account = crate::ssr::current_session()
        .await
        .ok()
        .map(|s| s.account_id);
    match c
        .idp
        .send_support_request(&token, account, &crate::ssr::request_info())
        .await
    {
        Ok(reference) => {
            crate::ssr::append_cookie(&draft_cookie("", 0, crate::ssr::secure_cookies()))?;
            leptos_axum::redirect(&format!("/support/sent?reference={reference}"));
        }
        Err(idp::Error::Invalid(_)) => leptos_axum::redirect("/support#form"),
        Err(idp::Error::NotFound) => leptos_axum::redirect("/support?expired=1"),
        Err(idp::Error::Throttled { retry_after_secs }) => {
            leptos_axum::redirect(&format!("/support/preview?throttled={retry_after_secs}"))
        }
        Err(e) => return Err(crate::ssr::fail(e)),
    }
    Ok(())
}

/// The operating system and browser with their versions, as far as the request tells them:
/// User-Agent Client Hints when the browser sends them (Chromium), the User-Agent otherwise.
#[cfg(feature = "ssr")]
pub struct Client {
    pub os: String,
    pub browser: String,
    pub not_chrome: bool,
}

#[cfg(feature = "ssr")]
pub fn describe_client(ua: &str, platform: &str, platform_version: &str, brands: &str) -> Client {
    let unquote = |s: &str| s.trim().trim_matches('"').to_owned();
    let platform = unquote(platform);
    let platform_version = unquote(platform_version);
    let version_after = |marker: &str| -> Option<String> {
        let rest = &ua[ua.find(marker)? + marker.len()..];
        let v: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '_')
            .collect();
        Some(v.replace('_', ".")).filter(|v| !v.is_empty())
    };
    let os = if !platform.is_empty() && !platform_version.is_empty() {
        let major: u32 = platform_version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        match platform.as_str() {
            // Windows 11 reports platform version 13 and above
            "Windows" if major >= 13 => format!("Windows 11 ({platform_version})"),
            "Windows" if major > 0 => format!("Windows 10 ({platform_version})"),
            _ => format!("{platform} {platform_version}"),
        }
    } else if let Some(v) = version_after("Android ") {
        format!("Android {v}")
    } else if let Some(v) = version_after("iPhone OS ").or_else(|| version_after("CPU OS ")) {
        format!("iOS {v}")
    } else if ua.contains("Windows NT 10.0") {
        "Windows 10 / 11".to_owned()
    } else if let Some(v) = version_after("Windows NT ") {
        format!("Windows NT {v}")
    } else if let Some(v) = version_after("Mac OS X ") {
        format!("macOS {v}")
    } else if ua.contains("CrOS") {
        "ChromeOS".to_owned()
    } else if ua.contains("Ubuntu") {
        "Ubuntu Linux".to_owned()
    } else if ua.contains("Linux") {
        "Linux".to_owned()
    } else {
        String::new()
    };
    // brands: `"Chromium";v="131.0.6778.85", "Google Chrome";v="131.0.6778.85", "Not_A Brand";v="24"`
    let hinted: Vec<(String, String)> = brands
        .split(',')
        .filter_map(|b| {
            let (name, version) = b.split_once(";v=")?;
            Some((unquote(name), unquote(version)))
        })
        .filter(|(name, _)| !name.contains("Not") && !name.is_empty())
        .collect();
    let named = hinted
        .iter()
        .find(|(n, _)| n != "Chromium")
        .or_else(|| hinted.first());
    let browser = if let Some((name, version)) = named {
        format!("{name} {version}")
    } else if let Some(v) = version_after("Edg/") {
        format!("Microsoft Edge {v}")
    } else if let Some(v) = version_after("OPR/") {
        format!("Opera {v}")
    } else if let Some(v) = version_after("Firefox/") {
        format!("Firefox {v}")
    } else if let Some(v) = version_after("Chromium/") {
        format!("Chromium {v}")
    } else if let Some(v) = version_after("Chrome/") {
        format!("Google Chrome {v}")
    } else if let (Some(v), true) = (version_after("Version/"), ua.contains("Safari")) {
        format!("Safari {v}")
    } else {
        String::new()
    };
    let not_chrome = !browser.is_empty() && !browser.starts_with("Google Chrome");
    Client {
        os,
        browser,
        not_chrome,
    }
}

/// A labelled multi-line input, like `Field`.
#[component]
fn TextArea(
    name: &'static str,
    label: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(into)] value: String,
    #[prop(optional)] required: bool,
    #[prop(optional)] rows: Option<u32>,
    errors: FormError,
) -> impl IntoView {
    let lang = use_lang();
    let id = format!("f-{name}");
    let (error_id, hint_id) = (format!("{id}-error"), format!("{id}-hint"));
    let message = Memo::new(move |_| errors.get().and_then(|e| e.field_message(name, lang)));
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let mut ids: Vec<String> = hint.map(|_| hint_id.clone()).into_iter().collect();
            if message.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:invalid=move || message.get().is_some()>
            <label for=id.clone()>{t(label)}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{t(h)}</p> })}
            <textarea
                id=id.clone()
                name=name
                rows=rows.unwrap_or(6)
                required=required
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=described
            >
                {value}
            </textarea>
            {move || message.get().map(|m| view! { <p class="error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

/// The "before contacting support" list, filled in.
fn request_form(f: SupportFormView) -> impl IntoView {
    let lang = use_lang();
    let problems = f.problems.clone();
    let errors: FormError =
        Signal::derive(move || (!problems.is_empty()).then(|| ApiError::Invalid(problems.clone())));
    let shot_error = Memo::new(move |_| {
        errors
            .get()
            .and_then(|e| e.field_message("screenshot", lang))
    });
    view! {
        <form
            id="form"
            class="form"
            method="post"
            action="/api/support_draft"
            enctype="multipart/form-data"
            novalidate=true
        >
            <ErrorSummary errors />
            {if f.logged_in {
                view! {
                    <p>{tr_args(lang, "support-as", &[("username", f.username.clone().into())])}</p>
                }
                .into_any()
            } else {
                view! {
                    <Field name="username" label="support-username" hint="support-username-hint" value=f.username.clone() autocomplete="username" errors />
                }
                .into_any()
            }}
            {if f.email_from_account {
                view! {
                    <p>{tr_args(lang, "support-reply-to", &[("email", f.email.clone().into())])}</p>
                }
                .into_any()
            } else {
                view! {
                    <Field name="email" label="support-email" hint="support-email-hint" input_type="email" value=f.email.clone() autocomplete="email" required=true errors />
                }
                .into_any()
            }}
            <Field name="os" label="support-os" hint="support-os-hint" value=f.os.clone() errors />
            <Field name="browser" label="support-browser" hint="support-browser-hint" value=f.browser.clone() errors />
            {f.not_chrome.then(|| view! { <p class="notice">{t("support-not-chrome")}</p> })}
            <Field name="key_type" label="support-key-type" hint="support-key-type-hint" value=f.key_type.clone() errors />
            {(!f.account_keys.is_empty()).then(|| view! {
                <div class="field">
                    <p>{t("support-account-keys")}</p>
                    <pre class="sent-text">{f.account_keys.clone()}</pre>
                </div>
            })}
            <TextArea name="description" label="support-description" hint="support-description-hint" value=f.description.clone() required=true errors />
            <Field name="happened_at" label="support-happened-at" value=f.happened_at.clone() errors />
            <div class="field" class:invalid=move || shot_error.get().is_some()>
                <label for="f-screenshot">{t("support-screenshot")}</label>
                <p class="hint" id="f-screenshot-hint">
                    {t("support-screenshot-hint")}
                    {f.has_screenshot.then(|| view! { " " {t("support-screenshot-kept")} })}
                </p>
                <input
                    id="f-screenshot"
                    type="file"
                    name="screenshot"
                    accept="image/png,image/jpeg"
                    aria-invalid=move || shot_error.get().map(|_| "true")
                    aria-describedby=move || if shot_error.get().is_some() { "f-screenshot-hint f-screenshot-error" } else { "f-screenshot-hint" }
                />
                {move || shot_error.get().map(|m| view! { <p class="error" id="f-screenshot-error">{m}</p> })}
            </div>
            <TextArea name="key_check" label="support-key-check" hint="support-key-check-hint" value=f.key_check.clone() rows=4 errors />
            <div class="field">
                <label for="f-key-check-file">{t("support-key-check-file")}</label>
                <input id="f-key-check-file" type="file" name="key_check_file" accept="application/json,.json" />
            </div>
            <button type="submit">{t("support-preview")}</button>
        </form>
    }
}

#[component]
pub fn SupportPage() -> impl IntoView {
    let lang = use_lang();
    let form = Resource::new(|| (), |_| support_form());
    let query = use_query_map();
    let notice = move || {
        let q = query.read();
        if let Some(secs) = q
            .get("throttled")
            .and_then(|s| s.parse::<i64>().ok())
            .map(|s| s.clamp(1, 86_400))
        {
            Some(
                ApiError::Throttled {
                    retry_after_secs: secs,
                }
                .summary(lang),
            )
        } else if q.get("expired").is_some() {
            Some(t("support-expired"))
        } else {
            None
        }
    };
    view! {
        <Title text=t("support-title") />
        <h1>{t("support-title")}</h1>
        <p>{t("support-intro")}</p>
        <p>
            <a href="/help">{t("support-see-help")}</a>
            " · "
            <a href="/security-keys/check">{t("check-title")}</a>
        </p>
        {move || notice().map(|n| view! { <p class="alert" role="alert">{n}</p> })}
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(mut f) => {
                        // just begun from the key test: nothing is wrong yet
                        if query.read_untracked().get("from").as_deref() == Some("key-check") {
                            f.problems.clear();
                        }
                        request_form(f).into_any()
                    }
                    Err(e) => super::settings::load_failed(e),
                }
            })}
        </Suspense>
        <p>{t("support-contacts")}</p>
    }
}

#[component]
pub fn SupportPreviewPage() -> impl IntoView {
    let lang = use_lang();
    let preview = Resource::new(|| (), |_| support_preview());
    let query = use_query_map();
    let throttled = move || {
        query
            .read()
            .get("throttled")
            .and_then(|s| s.parse::<i64>().ok())
            .map(|s| s.clamp(1, 86_400))
            .map(|secs| {
                ApiError::Throttled {
                    retry_after_secs: secs,
                }
                .summary(lang)
            })
    };
    let row = |label: &'static str, value: String| {
        view! {
            <tr>
                <th scope="row">{t(label)}</th>
                <td class="sent-text">{if value.is_empty() { "–".to_owned() } else { value }}</td>
            </tr>
        }
    };
    view! {
        <Title text=t("support-preview-title") />
        <h1>{t("support-preview-title")}</h1>
        {move || throttled().map(|n| view! { <p class="alert" role="alert">{n}</p> })}
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match preview.await {
                    Err(e) => super::settings::load_failed(e),
                    Ok(None) => view! {
                        <p>{t("support-expired")}</p>
                        <p><a href="/support">{t("support-title")}</a></p>
                    }.into_any(),
                    Ok(Some(p)) => view! {
                        <p>{t("support-preview-intro")}</p>
                        <div class="table-wrap">
                            <table class="data">
                                <caption>{t("support-preview-caption")}</caption>
                                <tbody>
                                    {row("support-username", p.username)}
                                    {row("support-email", p.email)}
                                    {row("support-os", p.os)}
                                    {row("support-browser", p.browser)}
                                    {row("support-key-type", p.key_type)}
                                    {row("support-account-keys", p.account_keys)}
                                    {row("support-description", p.description)}
                                    {row("support-happened-at", p.happened_at)}
                                    {row("support-key-check", p.key_check.unwrap_or_default())}
                                </tbody>
                            </table>
                        </div>
                        {if p.has_screenshot {
                            view! {
                                <figure>
                                    <img class="screenshot" src="/support/draft/screenshot" alt=t("support-screenshot") />
                                    <figcaption>{t("support-screenshot")}</figcaption>
                                </figure>
                            }.into_any()
                        } else {
                            view! { <p>{t("support-no-screenshot")}</p> }.into_any()
                        }}
                        <div class="button-row">
                            <a href="/support#form">{t("support-edit")}</a>
                            {p.ready.then(|| view! {
                                <form method="post" action="/api/support_send">
                                    <button type="submit">{t("support-send")}</button>
                                </form>
                            })}
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn SupportSentPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    // only the shape of a reference is shown back, never other text from the address
    let reference = move || {
        query.read().get("reference").filter(|r| {
            r.len() == 13
                && r.starts_with("MID-")
                && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    view! {
        <Title text=t("support-sent-title") />
        <h1>{t("support-sent-title")}</h1>
        {move || reference().map(|r| view! {
            <p class="notice" role="status">
                {tr_args(lang, "support-sent", &[("reference", r.clone().into())])}
            </p>
            <p>{t("support-sent-email")}</p>
        })}
        <p><a href="/help">{t("help-title")}</a></p>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::describe_client;

    #[test]
    fn client_hints_name_windows_11_and_the_exact_chrome() {
        let c = describe_client(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "\"Windows\"",
            "\"15.0.0\"",
            "\"Google Chrome\";v=\"131.0.6778.86\", \"Chromium\";v=\"131.0.6778.86\", \"Not_A Brand\";v=\"24.0.0.0\"",
        );
        assert_eq!(c.os, "Windows 11 (15.0.0)");
        assert_eq!(c.browser, "Google Chrome 131.0.6778.86");
        assert!(!c.not_chrome);
    }

    #[test]
    fn without_hints_the_user_agent_is_read() {
        let firefox = describe_client(
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "",
            "",
            "",
        );
        assert_eq!(firefox.os, "Ubuntu Linux");
        assert_eq!(firefox.browser, "Firefox 133.0");
        assert!(firefox.not_chrome);
        let iphone = describe_client(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "",
            "",
            "",
        );
        assert_eq!(iphone.os, "iOS 17.1.2");
        assert_eq!(iphone.browser, "Safari 17.1");
        let edge = describe_client(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
            "",
            "",
            "",
        );
        assert_eq!(edge.os, "Windows 10 / 11");
        assert_eq!(edge.browser, "Microsoft Edge 131.0.2903.70");
        assert!(edge.not_chrome);
        let android = describe_client(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
            "",
            "",
            "",
        );
        assert_eq!(android.os, "Android 14");
        assert_eq!(android.browser, "Google Chrome 131.0.6778.81");
    }
}

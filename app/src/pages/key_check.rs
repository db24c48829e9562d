//! `/security-keys/check`: try a security key without an account. The browser creates a
//! throw-away credential with attestation `direct`; the page shows what the server concluded
//! and offers it as JSON for support (the same verdict `mojeid-server analyze` gives).

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::security_keys::{KeyKind, Level};
use crate::error::ApiError;
use crate::i18n::{t, use_lang};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyCheckTicket {
    pub ticket: String,
    /// The `CreationChallengeResponse` as JSON text (what the browser takes).
    pub options: String,
}

/// What the page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCheckView {
    pub format: Option<String>,
    pub aaguid: Option<String>,
    pub model: Option<String>,
    pub kind: KeyKind,
    /// The level counted.
    pub level: Level,
    pub certificate_sent: bool,
    pub chain_valid: Option<bool>,
    pub nia_eligible: bool,
    /// Catalog keys of the reasons, with an argument each (a level, a status and date, …).
    pub reasons: Vec<(String, String)>,
    pub refused: bool,
    /// The support document (raw response + verdict) as JSON text.
    pub download: String,
}

/// A reason's catalog key and its argument.
#[cfg(feature = "ssr")]
pub(crate) fn reason_message(r: &idp::keys::attestation::Reason) -> (String, String) {
    use idp::keys::attestation::Reason;
    match r {
        Reason::AttestationHidden => ("reason-attestation-hidden".into(), String::new()),
        Reason::SelfAttestation => ("reason-self-attestation".into(), String::new()),
        Reason::AppleAnonymous => ("reason-apple".into(), String::new()),
        Reason::SafetyNetUnsupported => ("reason-safetynet".into(), String::new()),
        Reason::UnknownModel => ("reason-unknown-model".into(), String::new()),
        Reason::ChainInvalid { detail } => ("reason-chain-invalid".into(), detail.clone()),
        Reason::LevelTooLow { level } => ("reason-level-too-low".into(), level.fido_name().into()),
        Reason::Problem { status, since } => (
            "reason-problem".into(),
            format!("{status} {}", since.clone().unwrap_or_default()),
        ),
    }
}

/// The start of a test: its challenge, or why there is none (said by the server).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum CheckStart {
    Ready(Box<KeyCheckTicket>),
    Refused(String),
}

#[server(endpoint = "key_check_start")]
pub async fn key_check_start() -> Result<CheckStart, ApiError> {
    match start_check().await {
        Ok(t) => Ok(CheckStart::Ready(Box::new(t))),
        Err(e) => {
            answered_in_words();
            Ok(CheckStart::Refused(e.summary(crate::ssr::meta().lang)))
        }
    }
}

/// A refusal said in words is an answer like any other: the status the error set (429, 422,
/// 503) would make the island's client read the words as an error it cannot decode.
#[cfg(feature = "ssr")]
fn answered_in_words() {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::OK);
    }
}

#[cfg(feature = "ssr")]
async fn start_check() -> Result<KeyCheckTicket, ApiError> {
    let parts = use_context::<http::request::Parts>().ok_or(ApiError::Internal)?;
    // the Origin middleware has already refused foreign origins
    let origin = parts
        .headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Forbidden)?
        .to_owned();
    let started = crate::ssr::ctx()?
        .idp
        .start_key_check(&origin, &crate::ssr::request_info())
        .await
        .map_err(crate::ssr::fail)?;
    Ok(KeyCheckTicket {
        ticket: started.ticket,
        options: crate::webauthn::options_text(&started.options)?,
    })
}

/// `credential` is the browser's `PublicKeyCredential` as JSON text. The answer is the
/// verdict rendered by the server (or why there is none), as HTML: the page's island shows
/// it as it is, and needs neither the view nor the catalog.
#[server(endpoint = "key_check_finish")]
pub async fn key_check_finish(ticket: String, credential: String) -> Result<String, ApiError> {
    use leptos::tachys::view::RenderHtml;
    let lang = crate::ssr::meta().lang;
    provide_context(lang);
    Ok(match finish_check(ticket, credential).await {
        Ok(v) => view! { <CheckResult v offer_support=true /> }.to_html(),
        Err(e) => {
            answered_in_words();
            let message = match e {
                ApiError::NotAuthenticated => crate::i18n::tr(lang, "check-expired"),
                e => e.summary(lang),
            };
            view! { <p class="alert">{message}</p> }.to_html()
        }
    })
}

#[cfg(feature = "ssr")]
async fn finish_check(ticket: String, credential: String) -> Result<KeyCheckView, ApiError> {
    let credential: serde_json::Value =
        serde_json::from_str(&credential).unwrap_or(serde_json::Value::Null);
    let finished = match crate::ssr::ctx()?
        .idp
        .finish_key_check(&ticket, &credential)
        .await
    {
        Ok(f) => f,
        // used, expired or unknown: start again
        Err(idp::Error::NotFound) => return Err(ApiError::NotAuthenticated),
        Err(e) => return Err(crate::ssr::fail(e)),
    };
    verdict_view(
        finished.verdict,
        serde_json::to_string_pretty(&finished.download).map_err(|_| ApiError::Internal)?,
    )
}

/// A verdict as the page shows it, with the support document to download.
#[cfg(feature = "ssr")]
pub(crate) fn verdict_view(
    v: idp::keys::attestation::Verdict,
    download: String,
) -> Result<KeyCheckView, ApiError> {
    let reasons = v.reasons.iter().map(reason_message).collect();
    Ok(KeyCheckView {
        format: v.format,
        aaguid: v.aaguid,
        model: v.model,
        kind: v.kind.into(),
        level: v.level.into(),
        certificate_sent: v.certificate_sent,
        chain_valid: v.chain_valid,
        nia_eligible: v.nia_eligible,
        reasons,
        refused: v.refused.is_some(),
        download,
    })
}

/// What the island says by itself, in the page's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckTexts {
    start: String,
    waiting: String,
    browser: super::key_step::CeremonyTexts,
    failed: String,
}

impl CheckTexts {
    fn here() -> Self {
        CheckTexts {
            start: t("check-start"),
            waiting: t("check-waiting"),
            browser: super::key_step::CeremonyTexts::here(),
            failed: ApiError::Internal.summary(use_lang()),
        }
    }
}

/// Runs the test: a challenge from the server, the key's answer, the server's verdict (as
/// HTML); or what to say instead.
#[cfg(feature = "hydrate")]
async fn run_check(texts: &CheckTexts) -> String {
    fn alert(text: &str) -> String {
        let p = leptos::prelude::document().create_element("p").map(|p| {
            p.set_class_name("alert");
            p.set_text_content(Some(text));
            p.outer_html()
        });
        p.unwrap_or_default()
    }
    let start = match key_check_start().await {
        Ok(CheckStart::Ready(t)) => t,
        Ok(CheckStart::Refused(m)) => return alert(&m),
        Err(_) => return alert(&texts.failed),
    };
    let credential = match crate::webauthn::create(&start.options).await {
        Ok(c) => c,
        Err(e) => return alert(&texts.browser.say(e)),
    };
    key_check_finish(start.ticket, credential)
        .await
        .unwrap_or_else(|_| alert(&texts.failed))
}

#[component]
pub fn KeyCheckPage() -> impl IntoView {
    view! {
        <Title text=t("check-title") />
        <h1>{t("check-title")}</h1>
        <p>{t("check-intro")}</p>
        <ol class="steps">
            <li>{t("check-step-insert")}</li>
            <li>{t("check-step-press")}</li>
            <li>{t("check-step-allow")}</li>
        </ol>
        <KeyCheck texts=CheckTexts::here() />
        <p class="hint">{t("check-privacy")}</p>
    }
}

/// The button that runs the test and the verdict: an island (the browser's WebAuthn). The
/// verdict comes rendered from the server; the island only places it.
#[island]
fn KeyCheck(texts: CheckTexts) -> impl IntoView {
    let answer = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let texts = StoredValue::new(texts);
    let start = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        answer.set(String::new());
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let html = run_check(&texts.get_value()).await;
            answer.set(html);
            busy.set(false);
        });
    };
    let label = move || match busy.get() {
        true => texts.with_value(|t| t.waiting.clone()),
        false => texts.with_value(|t| t.start.clone()),
    };
    view! {
        <button type="button" on:click=start aria-disabled=move || busy.get().then_some("true")>
            {label}
        </button>
        <div role="status" class="status-slot" inner_html=move || answer.get()></div>
    }
}

#[component]
pub(crate) fn CheckResult(
    v: KeyCheckView,
    /// Offer to send the result to technical support (the public test; not in the console).
    #[prop(optional)]
    offer_support: bool,
) -> impl IntoView {
    if v.refused {
        return view! { <p class="alert">{t("check-refused")}</p> }.into_any();
    }
    let none = || t("check-none");
    let chain = match (v.chain_valid, v.certificate_sent) {
        (Some(true), _) => t("check-chain-valid"),
        (Some(false), _) => t("check-chain-invalid"),
        (None, true) => t("check-chain-unchecked"),
        (None, false) => t("check-chain-none"),
    };
    let verdict = if v.nia_eligible {
        t("check-nia-yes")
    } else {
        t("check-nia-no")
    };
    let href = format!(
        "data:application/json;charset=utf-8,{}",
        percent_encoding::utf8_percent_encode(&v.download, percent_encoding::NON_ALPHANUMERIC)
    );
    view! {
        <section class="card" aria-labelledby="check-result">
            <h2 id="check-result">{t("check-result")}</h2>
            <dl>
                <dt>{t("check-format")}</dt>
                <dd>{v.format.unwrap_or_else(none)}</dd>
                <dt>"AAGUID"</dt>
                <dd>{v.aaguid.unwrap_or_else(none)}</dd>
                <dt>{t("check-model")}</dt>
                <dd>{v.model.unwrap_or_else(|| t("check-model-unknown"))}</dd>
                <dt>{t("check-kind")}</dt>
                <dd>{t(v.kind.label())}</dd>
                <dt>{t("certified-col-level")}</dt>
                <dd>{v.level.fido_name()}</dd>
                <dt>{t("check-chain")}</dt>
                <dd>{chain}</dd>
                <dt>{t("certified-col-nia")}</dt>
                <dd class:eligible=v.nia_eligible>{verdict}</dd>
            </dl>
            <super::security_keys::Reasons reasons=v.reasons />
            <p>
                <a href=href download="mojeid-key-check.json">{t("check-download")}</a>
            </p>
            {offer_support.then(|| view! {
                <form method="post" action="/api/support_draft" enctype="multipart/form-data">
                    <input type="hidden" name="from" value="key-check" />
                    <input type="hidden" name="key_check" value=v.download.clone() />
                    <button type="submit" class="secondary">{t("check-send-to-support")}</button>
                </form>
            })}
        </section>
    }
    .into_any()
}

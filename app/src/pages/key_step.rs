//! `/login/key`, `/reauth/key` and `/settings/2fa/security-keys/add`: the WebAuthn
//! ceremonies. The form before each (the password, the key's name) is a plain post; its
//! answer keeps the challenge's options with its ticket on the server, hands the ticket over
//! in a short-lived cookie and redirects here. These pages are the only ones of those flows
//! that need the browser's WebAuthn, so the only ones that load the WASM: one small island
//! asks the key and sends its answer. Its texts come from the server (no catalog in the
//! browser).

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::i18n::t;

/// Which login the key answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyFor {
    Login,
    Reauth,
    /// A login to a government service through NIA: what the cookie carries is the flow's
    /// token (not a place to go next).
    Nia,
}

impl KeyFor {
    #[cfg(feature = "ssr")]
    fn page(self, carry: &str) -> String {
        match self {
            KeyFor::Login => "/login/key".into(),
            KeyFor::Reauth => "/reauth/key".into(),
            KeyFor::Nia => format!("{}/key", super::nia_login::page_of(carry)),
        }
    }

    /// Where the password is asked again.
    fn again(self, next: &str) -> String {
        let encoded =
            percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC);
        match self {
            KeyFor::Login => format!("/login?next={encoded}"),
            KeyFor::Reauth => format!("/reauth?next={encoded}"),
            KeyFor::Nia => super::nia_login::page_of(next),
        }
    }
}

/// What a ceremony's cookie carries: its ticket, and where a login goes next or the name of
/// the key being added. The options the browser asks the key are kept with the ticket on
/// the server (a long list of keys would overflow a cookie).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Handed {
    ticket: String,
    carry: String,
}

/// The cookie that carries a pending key step (readable by us only; 5 minutes, like the
/// challenge). Nothing in it is trusted: the server checks the ticket.
const COOKIE: &str = "key_step";
#[cfg(feature = "ssr")]
const COOKIE_SECS: i64 = 300;

/// The cookie of a key being added (its ticket and the name typed).
const ADD_COOKIE: &str = "key_add";

/// Keeps the ticket's `options` with it, the ticket and `carry` in cookie `name` for the
/// ceremony page, and sends the plain form's post there.
#[cfg(feature = "ssr")]
async fn hand_over<T: Serialize>(
    name: &str,
    ticket: String,
    carry: &str,
    options: &T,
    page: &str,
) -> Result<(), ApiError> {
    use base64::Engine;
    let c = crate::ssr::ctx()?;
    let options = crate::webauthn::options_text(options)?;
    c.idp
        .keep_ticket_options(&ticket, &options)
        .await
        .map_err(crate::ssr::fail)?;
    let handed = Handed {
        ticket,
        carry: carry.to_owned(),
    };
    let json = serde_json::to_vec(&handed).map_err(|_| ApiError::Internal)?;
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let secure = c.secure_cookies;
    let name = crate::ssr::site_cookie_name(name, secure);
    crate::ssr::append_cookie(&crate::ssr::lax_cookie(&name, &value, COOKIE_SECS, secure))?;
    leptos_axum::redirect(page);
    Ok(())
}

/// This browser's pending ceremony of cookie `name`: its ticket, what it carries, and the
/// options kept with the ticket, as the JSON text the browser takes (none when the cookie or
/// the ticket is gone).
async fn pending(name: &'static str) -> Option<(String, String, String)> {
    #[cfg(feature = "ssr")]
    {
        let h = handed(name)?;
        let options = crate::ssr::ctx()
            .ok()?
            .idp
            .ticket_options(&h.ticket)
            .await
            .ok()?;
        Some((h.ticket, h.carry, options))
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = name;
        None
    }
}

/// What cookie `name` holds for this browser's ceremony, if anything.
#[cfg(feature = "ssr")]
fn handed(name: &str) -> Option<Handed> {
    use base64::Engine;
    let secure = crate::ssr::secure_cookies();
    let value = crate::ssr::request_cookie(&crate::ssr::site_cookie_name(name, secure))?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

#[cfg(feature = "ssr")]
fn end(name: &str) -> Result<(), ApiError> {
    crate::ssr::append_cookie(&ended_cookie(name, crate::ssr::secure_cookies()))
}

/// The `Set-Cookie` that clears ceremony cookie `name`.
#[cfg(feature = "ssr")]
fn ended_cookie(name: &str, secure: bool) -> String {
    crate::ssr::lax_cookie(&crate::ssr::site_cookie_name(name, secure), "", 0, secure)
}

/// What logout clears besides the session: a pending key step or key being added, and what a
/// refused form held (the next person at this computer sees none of it).
#[cfg(feature = "ssr")]
pub fn cookies_cleared_at_logout(secure: bool) -> Vec<String> {
    vec![
        ended_cookie(COOKIE, secure),
        ended_cookie(ADD_COOKIE, secure),
        crate::ssr::kept_form_cookie("", 0, secure),
        super::twofa_reset::ticket_cleared(secure),
    ]
}

/// After the password of a plain form's post: keep the challenge for the key step, and send
/// the browser there (it follows the redirect). A script's call gets the challenge in its
/// answer instead, and nothing is done here.
#[cfg(feature = "ssr")]
pub async fn hand_to_key_step(
    kind: KeyFor,
    ticket: &str,
    options: &webauthn_rs_proto::RequestChallengeResponse,
    next: &str,
) -> Result<(), ApiError> {
    if !crate::ssr::plain_form_post() {
        return Ok(());
    }
    let next = match kind {
        // the flow's token, which the key's answer is checked against (and its cookie)
        KeyFor::Nia => next.to_owned(),
        KeyFor::Login | KeyFor::Reauth => {
            let next = crate::ssr::safe_next(next);
            // the cookie holds at most 4 KB: a long `next` is not worth losing the login for
            match next.len() > 512 {
                true => "/settings".to_owned(),
                false => next,
            }
        }
    };
    hand_over(COOKIE, ticket.to_owned(), &next, options, &kind.page(&next)).await
}

/// The key step is over (the login went through): its cookie goes.
#[cfg(feature = "ssr")]
pub fn end_key_step() -> Result<(), ApiError> {
    end(COOKIE)
}

/// The list's add form: keep the challenge for `/add`, where the key answers it.
#[cfg(feature = "ssr")]
pub async fn hand_to_key_add(
    ticket: String,
    options: webauthn_rs_proto::CreationChallengeResponse,
    name: &str,
) -> Result<(), ApiError> {
    hand_over(ADD_COOKIE, ticket, name, &options, ADD_PAGE).await
}

/// The key is added: its cookie goes.
#[cfg(feature = "ssr")]
pub fn end_key_add() -> Result<(), ApiError> {
    end(ADD_COOKIE)
}

const KEYS_PAGE: &str = super::security_keys::HERE;
#[cfg(feature = "ssr")]
const ADD_PAGE: &str = "/settings/2fa/security-keys/add";

/// What the island says when the browser produced no answer, in the page's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CeremonyTexts {
    unsupported: String,
    cancelled: String,
    broken: String,
}

impl CeremonyTexts {
    pub(crate) fn here() -> Self {
        use crate::webauthn::CeremonyError;
        let say = |e: CeremonyError| match e.message_key() {
            Some(key) => t(key),
            None => ApiError::Internal.summary(crate::i18n::use_lang()),
        };
        CeremonyTexts {
            unsupported: say(CeremonyError::Unsupported),
            cancelled: say(CeremonyError::Cancelled),
            broken: say(CeremonyError::Broken),
        }
    }

    pub(crate) fn say(&self, e: crate::webauthn::CeremonyError) -> String {
        use crate::webauthn::CeremonyError;
        match e {
            CeremonyError::Unsupported => self.unsupported.clone(),
            CeremonyError::Cancelled => self.cancelled.clone(),
            CeremonyError::Broken => self.broken.clone(),
        }
    }
}

/// The texts the island may show, in the page's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyTexts {
    waiting: String,
    again: String,
    log_in_again: String,
    browser: CeremonyTexts,
    refused: String,
    expired: String,
    failed: String,
}

impl KeyTexts {
    fn here(kind: KeyFor) -> Self {
        let lang = crate::i18n::use_lang();
        KeyTexts {
            waiting: t(match kind {
                KeyFor::Nia => "nia-login-key-waiting",
                KeyFor::Login | KeyFor::Reauth => "login-key-waiting",
            }),
            again: t("login-key-again"),
            log_in_again: t("key-step-log-in-again"),
            browser: CeremonyTexts::here(),
            refused: ApiError::BadSecurityKey.summary(lang),
            expired: t("key-step-expired"),
            failed: ApiError::Internal.summary(lang),
        }
    }
}

#[component]
fn KeyStepPage(kind: KeyFor) -> impl IntoView {
    let step = Resource::new(|| (), |_| pending(COOKIE));
    // an expired step starts again where it began: a login for NIA at its flow's page
    let start_again = match kind {
        KeyFor::Nia => leptos_router::hooks::use_params_map()
            .read_untracked()
            .get("token")
            .unwrap_or_default(),
        KeyFor::Login | KeyFor::Reauth => String::new(),
    };
    let start_again = kind.again(&start_again);
    view! {
        <Title text=t("login-key-title") />
        <h1>{t("login-key-title")}</h1>
        <Suspense fallback=|| ()>
            {move || {
                let start_again = start_again.clone();
                Suspend::new(async move {
                match step.await {
                    Some((ticket, next, options)) => {
                        let again = kind.again(&next);
                        view! {
                            <KeyAnswer kind ticket options next again texts=KeyTexts::here(kind) />
                        }
                            .into_any()
                    }
                    None => view! {
                        <p class="alert" role="alert">{t("key-step-expired")}</p>
                        <p><a class="button" href=start_again>{t("key-step-log-in-again")}</a></p>
                    }
                        .into_any(),
                }
            })
            }}
        </Suspense>
    }
}

#[component]
pub fn LoginKeyPage() -> impl IntoView {
    view! { <KeyStepPage kind=KeyFor::Login /> }
}

#[component]
pub fn ReauthKeyPage() -> impl IntoView {
    view! { <KeyStepPage kind=KeyFor::Reauth /> }
}

/// `/nia-login/:token/key`: the key step of a login to a government service.
#[component]
pub fn NiaKeyPage() -> impl IntoView {
    view! { <KeyStepPage kind=KeyFor::Nia /> }
}

/// How the key step stands in the browser.
#[derive(Clone, Debug, PartialEq)]
enum Asking {
    Waiting,
    /// The browser got no answer: the same challenge can be asked again.
    NoAnswer(String),
    /// The server refused the answer or the challenge is gone: the password again.
    Refused(String),
}

/// Asks the key at once, sends its answer, and goes where the server says.
#[island]
fn KeyAnswer(
    kind: KeyFor,
    ticket: String,
    /// The `RequestChallengeResponse` as JSON text.
    options: String,
    next: String,
    again: String,
    texts: KeyTexts,
) -> impl IntoView {
    let state = RwSignal::new(Asking::Waiting);
    let attempt = RwSignal::new(0u32);
    let texts = StoredValue::new(texts);
    let pending = StoredValue::new((ticket, options, next));
    Effect::new(move |_| {
        attempt.track();
        let (ticket, options, next) = pending.get_value();
        state.set(Asking::Waiting);
        leptos::task::spawn_local(async move {
            let texts = texts.get_value();
            let assertion = match crate::webauthn::get(&options).await {
                Ok(a) => a,
                Err(e) => return state.set(Asking::NoAnswer(texts.browser.say(e))),
            };
            let outcome = match kind {
                KeyFor::Login => super::login::login_key(ticket, assertion, next).await,
                KeyFor::Reauth => super::reauth::reauth_key(ticket, assertion, next).await,
                KeyFor::Nia => super::nia_login::nia_login_key(next, ticket, assertion).await,
            };
            match outcome {
                Ok(to) => {
                    let _ = window().location().assign(&to);
                }
                Err(ApiError::BadSecurityKey) => state.set(Asking::Refused(texts.refused)),
                Err(ApiError::NotAuthenticated) => state.set(Asking::Refused(texts.expired)),
                Err(_) => state.set(Asking::Refused(texts.failed)),
            }
        });
    });
    let again = StoredValue::new(again);
    view! {
        <div class="card">
            <div role="status">
                {move || match state.get() {
                    Asking::Waiting => view! { <p>{texts.with_value(|t| t.waiting.clone())}</p> }.into_any(),
                    Asking::NoAnswer(m) | Asking::Refused(m) => view! { <p class="alert">{m}</p> }.into_any(),
                }}
            </div>
            {move || match state.get() {
                Asking::Waiting => None,
                Asking::NoAnswer(_) => Some(view! {
                    <button type="button" on:click=move |_| attempt.update(|n| *n += 1)>
                        {texts.with_value(|t| t.again.clone())}
                    </button>
                }.into_any()),
                Asking::Refused(_) => Some(view! {
                    <p><a class="button" href=again.get_value()>{texts.with_value(|t| t.log_in_again.clone())}</a></p>
                }.into_any()),
            }}
        </div>
    }
}

/// The texts of adding a key, in the page's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddTexts {
    waiting: String,
    again: String,
    back: String,
    browser: CeremonyTexts,
    incorrect_data: String,
    what_to_do: String,
    expired: String,
    failed: String,
}

/// `/settings/2fa/security-keys/add`: the key answers the challenge the list's form made.
#[component]
pub fn KeyAddPage() -> impl IntoView {
    let adding = Resource::new(|| (), |_| pending(ADD_COOKIE));
    let lang = crate::i18n::use_lang();
    let texts = AddTexts {
        waiting: t("keys-add-waiting"),
        again: t("login-key-again"),
        back: t("keys-add-back"),
        browser: CeremonyTexts::here(),
        incorrect_data: crate::error::FieldCode::KeyDataIncorrect.message(lang),
        what_to_do: t("keys-what-to-do"),
        expired: t("check-expired"),
        failed: ApiError::Internal.summary(lang),
    };
    view! {
        <Title text=t("keys-add-title") />
        <h1>{t("keys-add-title")}</h1>
        <Suspense fallback=|| ()>
            {move || {
                let texts = texts.clone();
                Suspend::new(async move {
                    match adding.await {
                        Some((ticket, name, options)) => {
                            view! { <KeyCreate ticket options name texts /> }.into_any()
                        }
                        None => view! {
                            <p class="alert" role="alert">{t("check-expired")}</p>
                            <p><a class="button" href=KEYS_PAGE>{t("keys-add-back")}</a></p>
                        }
                            .into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// How adding stands in the browser.
#[derive(Clone, Debug, PartialEq)]
enum Adding {
    Waiting,
    /// The browser got no answer: the same challenge can be asked again.
    NoAnswer(String),
    /// The server refused the answer: back to the list (with the help page's advice when the
    /// device sent data out of specification).
    Refused(String, bool),
}

/// Asks the key to make a credential, sends it, and shows the list with the key added.
#[island]
fn KeyCreate(
    ticket: String,
    /// The `CreationChallengeResponse` as JSON text.
    options: String,
    name: String,
    texts: AddTexts,
) -> impl IntoView {
    let state = RwSignal::new(Adding::Waiting);
    let attempt = RwSignal::new(0u32);
    let texts = StoredValue::new(texts);
    let pending = StoredValue::new((ticket, options, name));
    Effect::new(move |_| {
        attempt.track();
        let (ticket, options, name) = pending.get_value();
        state.set(Adding::Waiting);
        leptos::task::spawn_local(async move {
            let texts = texts.get_value();
            let credential = match crate::webauthn::create(&options).await {
                Ok(c) => c,
                Err(e) => return state.set(Adding::NoAnswer(texts.browser.say(e))),
            };
            match super::security_keys::add_key_finish(ticket, name, credential).await {
                Ok(to) => {
                    let _ = window().location().assign(&to);
                }
                Err(ApiError::Invalid(v)) => {
                    let incorrect = v
                        .iter()
                        .any(|f| f.code == crate::error::FieldCode::KeyDataIncorrect);
                    let message = if incorrect {
                        texts.incorrect_data
                    } else {
                        texts.failed
                    };
                    state.set(Adding::Refused(message, incorrect))
                }
                Err(ApiError::NotAuthenticated) => state.set(Adding::Refused(texts.expired, false)),
                Err(_) => state.set(Adding::Refused(texts.failed, false)),
            }
        });
    });
    view! {
        <div class="card">
            <div role="status">
                {move || match state.get() {
                    Adding::Waiting => view! { <p>{texts.with_value(|t| t.waiting.clone())}</p> }.into_any(),
                    Adding::NoAnswer(m) => view! { <p class="alert">{m}</p> }.into_any(),
                    Adding::Refused(m, incorrect) => view! {
                        <p class="alert">{m}</p>
                        {incorrect.then(|| view! {
                            <p><a href="/help#incorrect-data">{texts.with_value(|t| t.what_to_do.clone())}</a></p>
                        })}
                    }.into_any(),
                }}
            </div>
            {move || matches!(state.get(), Adding::NoAnswer(_)).then(|| view! {
                <button type="button" on:click=move |_| attempt.update(|n| *n += 1)>
                    {texts.with_value(|t| t.again.clone())}
                </button>
            })}
            <p><a href=KEYS_PAGE>{texts.with_value(|t| t.back.clone())}</a></p>
        </div>
    }
}

//! `/nia-login/:token`: logging into a government service with mojeID through NIA. NIA's
//! verified request (at `/saml/idp/sso`) leads here; the page says which service asks and
//! for which level, takes the password and then a fresh answer from a security key
//! registered at NIA (always, whatever session the browser has), and posts our signed
//! answer to NIA — or says why the account cannot log in and sends NIA the refusal.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::components::{form_error, ErrorSummary, Field, PasswordField, Submit};
use crate::error::ApiError;
use crate::i18n::{t, tr, tr_args, use_lang, Lang};

/// A level of assurance, as the page names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelOfAssurance {
    Substantial,
    High,
}

impl LevelOfAssurance {
    fn name(self, lang: Lang) -> String {
        tr(
            lang,
            match self {
                LevelOfAssurance::Substantial => "loa-substantial",
                LevelOfAssurance::High => "loa-high",
            },
        )
    }
}

#[cfg(feature = "ssr")]
impl From<idp::nia::loa::Loa> for LevelOfAssurance {
    fn from(l: idp::nia::loa::Loa) -> Self {
        match l {
            idp::nia::loa::Loa::Substantial => LevelOfAssurance::Substantial,
            idp::nia::loa::Loa::High => LevelOfAssurance::High,
        }
    }
}

/// One condition of high that the login does not meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HighGap {
    KeyLevel,
    ModelNotListed,
    NoUserVerification,
    NotValidated,
}

#[cfg(feature = "ssr")]
impl From<idp::nia::loa::HighGap> for HighGap {
    fn from(g: idp::nia::loa::HighGap) -> Self {
        use idp::nia::loa::HighGap as G;
        match g {
            G::KeyLevel => HighGap::KeyLevel,
            G::ModelNotListed => HighGap::ModelNotListed,
            G::NoUserVerification => HighGap::NoUserVerification,
            G::NotValidated => HighGap::NotValidated,
        }
    }
}

/// How the login ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Reached(LevelOfAssurance),
    Cancelled,
    AccountNotActive,
    NotLinked,
    KeyNotCertified,
    KeyNotAtNia,
    HighNeeds(Vec<HighGap>),
}

#[cfg(feature = "ssr")]
impl From<std::result::Result<idp::nia::loa::Loa, Option<idp::nia::loa::Refusal>>> for Outcome {
    fn from(r: std::result::Result<idp::nia::loa::Loa, Option<idp::nia::loa::Refusal>>) -> Self {
        use idp::nia::loa::Refusal as R;
        match r {
            Ok(l) => Outcome::Reached(l.into()),
            Err(None) => Outcome::Cancelled,
            Err(Some(R::AccountNotActive)) => Outcome::AccountNotActive,
            Err(Some(R::NotLinked)) => Outcome::NotLinked,
            Err(Some(R::KeyNotCertified)) => Outcome::KeyNotCertified,
            Err(Some(R::KeyNotAtNia)) => Outcome::KeyNotAtNia,
            Err(Some(R::HighNeeds { missing })) => {
                Outcome::HighNeeds(missing.into_iter().map(HighGap::from).collect())
            }
        }
    }
}

/// The answer the browser posts to NIA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerView {
    pub acs_url: String,
    pub saml_response: String,
    pub relay_state: Option<String>,
    pub outcome: Outcome,
    pub means_keys: Vec<String>,
}

#[cfg(feature = "ssr")]
impl From<idp::nia::login::Answer> for AnswerView {
    fn from(a: idp::nia::login::Answer) -> Self {
        AnswerView {
            acs_url: a.acs_url,
            saml_response: a.saml_response,
            relay_state: a.relay_state,
            outcome: a.result.into(),
            means_keys: a.means_keys,
        }
    }
}

/// The flow as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NiaLoginView {
    pub service: String,
    pub requested: LevelOfAssurance,
    pub answered: bool,
}

/// The answer to the password step.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum NiaLoginReply {
    Key {
        ticket: String,
        options: webauthn_rs_proto::RequestChallengeResponse,
    },
    Answer(AnswerView),
}

/// The flow named by `token`, for this browser only: the one that NIA sent here carries
/// its cookie (set at the SSO endpoint).
#[cfg(feature = "ssr")]
fn own_flow(token: &str) -> Result<(), ApiError> {
    let cookie = crate::ssr::request_cookie(crate::ssr::nia_login_cookie_name(
        crate::ssr::secure_cookies(),
    ));
    match cookie {
        Some(c) if idp::constant_time_eq(&c, token) => Ok(()),
        _ => Err(ApiError::NiaLoginGone),
    }
}

#[cfg(feature = "ssr")]
fn gone_or(e: idp::Error) -> ApiError {
    match e {
        idp::Error::NotFound => ApiError::NiaLoginGone,
        e => crate::ssr::fail(e),
    }
}

#[server(endpoint = "nia_login_info")]
pub async fn nia_login_info(token: String) -> Result<NiaLoginView, ApiError> {
    own_flow(&token)?;
    let v = crate::ssr::ctx()?
        .idp
        .nia_login(&token)
        .await
        .map_err(gone_or)?;
    Ok(NiaLoginView {
        service: v.service,
        requested: v.requested.into(),
        answered: v.answered,
    })
}

#[server(endpoint = "nia_login_password")]
pub async fn nia_login_password(
    token: String,
    username: String,
    password: String,
) -> Result<NiaLoginReply, ApiError> {
    own_flow(&token)?;
    let origin = crate::ssr::request_origin()?;
    let step = crate::ssr::ctx()?
        .idp
        .nia_login_password(
            &token,
            &username,
            &password,
            &origin,
            &crate::ssr::request_info(),
        )
        .await
        .map_err(gone_or)?;
    Ok(match step {
        idp::nia::login::PasswordStep::Key { ticket, options } => NiaLoginReply::Key {
            ticket,
            options: *options,
        },
        idp::nia::login::PasswordStep::Refused(a) => NiaLoginReply::Answer((*a).into()),
    })
}

#[server(endpoint = "nia_login_key")]
pub async fn nia_login_key(
    token: String,
    ticket: String,
    assertion: String,
) -> Result<AnswerView, ApiError> {
    own_flow(&token)?;
    let assertion: serde_json::Value =
        serde_json::from_str(&assertion).unwrap_or(serde_json::Value::Null);
    let answer = crate::ssr::ctx()?
        .idp
        .nia_login_key(&token, &ticket, &assertion, &crate::ssr::request_info())
        .await
        .map_err(|e| match e {
            // the challenge was used or expired: the password again
            idp::Error::NotFound => ApiError::BadSecurityKey,
            e => crate::ssr::fail(e),
        })?;
    Ok(answer.into())
}

#[server(endpoint = "nia_login_cancel")]
pub async fn nia_login_cancel(token: String) -> Result<AnswerView, ApiError> {
    own_flow(&token)?;
    let answer = crate::ssr::ctx()?
        .idp
        .nia_login_cancel(&token, &crate::ssr::request_info())
        .await
        .map_err(gone_or)?;
    Ok(answer.into())
}

/// Where the key step is.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Password,
    Key,
    KeyFailed(String),
}

#[component]
pub fn NiaLoginPage() -> impl IntoView {
    let params = use_params_map();
    let token = params.read_untracked().get("token").unwrap_or_default();
    let lang = use_lang();
    let info = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        nia_login_info,
    );
    view! {
        <Title text=t("nia-login-title") />
        <h1>{t("nia-login-title")}</h1>
        <Suspense fallback=|| ()>
            {move || {
                let token = token.clone();
                Suspend::new(async move {
                    match info.await {
                        Err(e) => view! { <p class="alert" role="alert">{e.summary(lang)}</p> }.into_any(),
                        Ok(info) => view! { <NiaLoginFlow token info /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The password, the key and the answer to NIA: an island (the key step is the browser's
/// WebAuthn, and the answer is posted to NIA by itself).
#[island]
fn NiaLoginFlow(token: String, info: NiaLoginView) -> impl IntoView {
    crate::components::mark_island();
    let lang = use_lang();
    let password = ServerAction::<NiaLoginPassword>::new();
    let cancel = ServerAction::<NiaLoginCancel>::new();
    let errors = form_error(password.value());
    let step = RwSignal::new(Step::Password);
    let answer = RwSignal::new(None::<AnswerView>);
    let key_token = token.clone();
    Effect::new(move |_| match password.value().get() {
        Some(Ok(NiaLoginReply::Answer(a))) => answer.set(Some(a)),
        Some(Ok(NiaLoginReply::Key { ticket, options })) => {
            step.set(Step::Key);
            let token = key_token.clone();
            leptos::task::spawn_local(async move {
                let outcome = match crate::webauthn::get(options).await {
                    Err(e) => Err(tr(lang, e.message_key())),
                    Ok(assertion) => nia_login_key(token, ticket, assertion)
                        .await
                        .map_err(|e| e.summary(lang)),
                };
                match outcome {
                    Ok(a) => answer.set(Some(a)),
                    Err(m) => step.set(Step::KeyFailed(m)),
                }
            });
        }
        _ => {}
    });
    Effect::new(move |_| {
        if let Some(Ok(a)) = cancel.value().get() {
            answer.set(Some(a));
        }
    });
    let service = if info.service.is_empty() {
        t("nia-login-unnamed-service")
    } else {
        info.service.clone()
    };
    let level = info.requested.name(lang);
    let high = info.requested == LevelOfAssurance::High;
    let answered = info.answered;
    let token = StoredValue::new(token);
    move || {
        if answered && answer.get().is_none() {
            return view! { <p class="alert" role="alert">{t("err-nia-login-gone")}</p> }
                .into_any();
        }
        let service = service.clone();
        view! {
            <p id="nia-login-asks">
                {tr_args(lang, "nia-login-asks", &[("service", service.clone().into()), ("level", level.clone().into())])}
            </p>
            {high.then(|| view! { <p>{t("nia-login-high-needs")}</p> })}
            {match answer.get() {
                Some(a) => view! { <AnswerPanel answer=a service=service.clone() /> }.into_any(),
                None => view! {
                    <LoginForm token=token.get_value() step password cancel errors />
                }.into_any(),
            }}
        }
        .into_any()
    }
}

#[component]
fn LoginForm(
    token: String,
    step: RwSignal<Step>,
    password: ServerAction<NiaLoginPassword>,
    cancel: ServerAction<NiaLoginCancel>,
    errors: crate::components::FormError,
) -> impl IntoView {
    let lang = use_lang();
    let cancel_token = token.clone();
    let form_token = StoredValue::new(token);
    let cancel_errors = move || {
        cancel
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="alert" role="alert">{e.summary(lang)}</p> })
    };
    view! {
        <p>{t("nia-login-how")}</p>
        {move || match step.get() {
            Step::Password => view! {
                <ActionForm action=password attr:class="form" attr:novalidate=true>
                    <ErrorSummary errors />
                    <input type="hidden" name="token" value=form_token.get_value() />
                    <Field name="username" label="field-username" autocomplete="username" required=true errors />
                    <PasswordField name="password" label="field-password" autocomplete="current-password" errors />
                    <Submit label="login-submit" pending=password.pending() />
                </ActionForm>
            }.into_any(),
            Step::Key => view! {
                <section class="card" aria-labelledby="key-step">
                    <h2 id="key-step">{t("login-key-title")}</h2>
                    <p role="status">{t("nia-login-key-waiting")}</p>
                </section>
            }.into_any(),
            Step::KeyFailed(m) => view! {
                <section class="card" aria-labelledby="key-step">
                    <h2 id="key-step">{t("login-key-title")}</h2>
                    <p class="alert" role="alert">{m}</p>
                    <button type="button" on:click=move |_| step.set(Step::Password)>{t("login-key-again")}</button>
                </section>
            }.into_any(),
        }}
        <ActionForm action=cancel attr:class="form">
            <input type="hidden" name="token" value=cancel_token />
            {cancel_errors}
            <button type="submit" class="secondary">{t("nia-login-cancel")}</button>
        </ActionForm>
    }
}

/// The outcome said in words, and the form that carries our answer to NIA (sent by itself
/// on success; on a refusal the citizen reads why first).
#[component]
fn AnswerPanel(answer: AnswerView, service: String) -> impl IntoView {
    let lang = use_lang();
    let keys = if answer.means_keys.is_empty() {
        t("nia-login-no-means-keys")
    } else {
        answer.means_keys.join(", ")
    };
    let success = matches!(answer.outcome, Outcome::Reached(_));
    let message = match &answer.outcome {
        Outcome::Reached(l) => view! {
            <p role="status">{tr_args(lang, "nia-login-done", &[("level", l.name(lang).into())])}</p>
        }
        .into_any(),
        Outcome::Cancelled => view! { <p role="status">{t("nia-login-cancelled")}</p> }.into_any(),
        Outcome::AccountNotActive => view! { <p class="alert" role="alert">{t("nia-login-inactive")}</p> }.into_any(),
        Outcome::NotLinked => view! {
            <div class="alert" role="alert">
                <p>{t("nia-login-not-linked")}</p>
                <p><a href="/settings/nia">{t("nia-login-link-now")}</a></p>
            </div>
        }
        .into_any(),
        Outcome::KeyNotCertified | Outcome::KeyNotAtNia => view! {
            <div class="alert" role="alert">
                <p>{t("nia-login-no-means")}</p>
                <p>{tr_args(lang, "nia-login-means-keys", &[("keys", keys.clone().into())])}</p>
            </div>
        }
        .into_any(),
        Outcome::HighNeeds(missing) => {
            let items: Vec<_> = missing
                .iter()
                .map(|g| {
                    let key = match g {
                        HighGap::KeyLevel => "nia-login-gap-key-level",
                        HighGap::ModelNotListed => "nia-login-gap-model",
                        HighGap::NoUserVerification => "nia-login-gap-uv",
                        HighGap::NotValidated => "nia-login-gap-validated",
                    };
                    view! { <li>{tr(lang, key)}</li> }
                })
                .collect();
            view! {
                <div class="alert" role="alert">
                    <p>{tr_args(lang, "nia-login-high-refused", &[("service", service.clone().into())])}</p>
                    <ul>{items}</ul>
                </div>
            }
            .into_any()
        }
    };
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if success {
            if let Some(f) = form.get() {
                let _ = f.submit();
            }
        }
    });
    let label = if success {
        "nia-login-continue"
    } else {
        "nia-login-return"
    };
    view! {
        {message}
        <form method="post" action=answer.acs_url.clone() node_ref=form id="nia-answer">
            <input type="hidden" name="SAMLResponse" value=answer.saml_response.clone() />
            {answer.relay_state.clone().map(|r| view! { <input type="hidden" name="RelayState" value=r /> })}
            <button type="submit">{t(label)}</button>
        </form>
    }
}

/// One entry of "Logins to government services".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NiaLoginRow {
    pub at: i64,
    pub service: String,
    pub level: LevelOfAssurance,
    pub key_name: String,
    pub ip: String,
    pub user_agent: String,
}

#[cfg(feature = "ssr")]
impl From<idp::nia::login::NiaLoginEntry> for NiaLoginRow {
    fn from(e: idp::nia::login::NiaLoginEntry) -> Self {
        NiaLoginRow {
            at: e.at,
            service: e.service,
            level: e.loa.into(),
            key_name: e.key_name,
            ip: e.ip,
            user_agent: e.user_agent,
        }
    }
}

/// How many logins the tables show.
#[cfg(feature = "ssr")]
const SHOWN: i64 = 20;

/// The citizen's own logins to government services, newest first.
#[server(endpoint = "my_nia_logins")]
pub async fn my_nia_logins() -> Result<Vec<NiaLoginRow>, ApiError> {
    let s = crate::ssr::current_session().await?;
    let rows = crate::ssr::ctx()?
        .idp
        .nia_logins_of(s.account_id, SHOWN)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// An account's logins to government services, for staff.
#[server(endpoint = "admin_nia_logins")]
pub async fn admin_nia_logins(account_id: i64) -> Result<Vec<NiaLoginRow>, ApiError> {
    use idp::staff::Role;
    let s = crate::ssr::current_session().await?;
    let idp = crate::ssr::ctx()?.idp;
    idp.staff(&s, &[Role::Helpdesk, Role::BackOffice, Role::Auditor])
        .await
        .map_err(crate::ssr::fail)?;
    let rows = idp
        .nia_logins_of(account_id, SHOWN)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// "Logins to government services": when, which service, the level, the key, from where.
#[component]
pub fn NiaLoginsTable(rows: Vec<NiaLoginRow>) -> impl IntoView {
    let lang = use_lang();
    if rows.is_empty() {
        return view! { <p>{t("nia-logins-none")}</p> }.into_any();
    }
    let rows = rows
        .into_iter()
        .map(|r| {
            let when = crate::i18n::format_date_time(lang, r.at);
            let from = format!(
                "{} ({})",
                crate::pages::sessions::device_of(&r.user_agent),
                r.ip
            );
            view! {
                <tr>
                    <td>{when}</td>
                    <th scope="row">{r.service}</th>
                    <td>{r.level.name(lang)}</td>
                    <td>{r.key_name}</td>
                    <td>{from}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="nia-logins">
            <caption>{t("nia-logins-title")}</caption>
            <thead>
                <tr>
                    <th scope="col">{t("nia-logins-when")}</th>
                    <th scope="col">{t("nia-logins-service")}</th>
                    <th scope="col">{t("nia-logins-level")}</th>
                    <th scope="col">{t("nia-logins-key")}</th>
                    <th scope="col">{t("nia-logins-from")}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

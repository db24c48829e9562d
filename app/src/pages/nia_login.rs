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
        idp::nia::login::PasswordStep::Key { ticket, options } => {
            super::key_step::hand_to_key_step(
                super::key_step::KeyFor::Nia,
                &ticket,
                &options,
                &token,
            )
            .await?;
            NiaLoginReply::Key {
                ticket,
                options: *options,
            }
        }
        idp::nia::login::PasswordStep::Refused(a) => {
            crate::ssr::redirect_plain_form(&page_of(&token));
            NiaLoginReply::Answer((*a).into())
        }
    })
}

/// The flow's page (which shows its answer once it has one).
pub fn page_of(token: &str) -> String {
    let token = percent_encoding::utf8_percent_encode(token, percent_encoding::NON_ALPHANUMERIC);
    format!("/nia-login/{token}")
}

/// The answer the flow was given, for its page (this browser's flow only).
#[server(endpoint = "nia_login_answer")]
pub async fn nia_login_answer(token: String) -> Result<AnswerView, ApiError> {
    own_flow(&token)?;
    let answer = crate::ssr::ctx()?
        .idp
        .nia_login_answer(&token)
        .await
        .map_err(gone_or)?;
    Ok(answer.into())
}

/// The key's answer (`PublicKeyCredential` as JSON text); answers with the flow's page,
/// which shows the answer to NIA (and posts it there on success).
#[server(endpoint = "nia_login_key")]
pub async fn nia_login_key(
    token: String,
    ticket: String,
    assertion: String,
) -> Result<String, ApiError> {
    own_flow(&token)?;
    let assertion: serde_json::Value =
        serde_json::from_str(&assertion).unwrap_or(serde_json::Value::Null);
    crate::ssr::ctx()?
        .idp
        .nia_login_key(&token, &ticket, &assertion, &crate::ssr::request_info())
        .await
        .map_err(|e| match e {
            // the challenge was used or expired: the password again
            idp::Error::NotFound => ApiError::BadSecurityKey,
            e => crate::ssr::fail(e),
        })?;
    super::key_step::end_key_step()?;
    Ok(page_of(&token))
}

#[server(endpoint = "nia_login_cancel")]
pub async fn nia_login_cancel(token: String) -> Result<AnswerView, ApiError> {
    own_flow(&token)?;
    let answer = crate::ssr::ctx()?
        .idp
        .nia_login_cancel(&token, &crate::ssr::request_info())
        .await
        .map_err(gone_or)?;
    crate::ssr::redirect_plain_form(&page_of(&token));
    Ok(answer.into())
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
    let password = ServerAction::<NiaLoginPassword>::new();
    let cancel = ServerAction::<NiaLoginCancel>::new();
    let token = StoredValue::new(token);
    // the answer was posted to NIA already (from this page): not again by itself
    let posted = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("posted")
        .is_some();
    view! {
        <Title text=t("nia-login-title") />
        <h1>{t("nia-login-title")}</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let info = match info.await {
                    Err(e) => return view! { <p class="alert" role="alert">{e.summary(lang)}</p> }.into_any(),
                    Ok(info) => info,
                };
                let token = token.get_value();
                let answer = match info.answered {
                    true => match nia_login_answer(token.clone()).await {
                        Ok(a) => Some(a),
                        Err(_) => {
                            return view! { <p class="alert" role="alert">{t("err-nia-login-gone")}</p> }
                                .into_any()
                        }
                    },
                    false => None,
                };
                let service = if info.service.is_empty() {
                    t("nia-login-unnamed-service")
                } else {
                    info.service.clone()
                };
                let level = info.requested.name(lang);
                let high = info.requested == LevelOfAssurance::High;
                view! {
                    <p id="nia-login-asks">
                        {tr_args(lang, "nia-login-asks", &[("service", service.clone().into()), ("level", level.into())])}
                    </p>
                    {high.then(|| view! { <p>{t("nia-login-high-needs")}</p> })}
                    {match answer {
                        Some(a) => view! { <AnswerPanel answer=a service at_once=!posted /> }.into_any(),
                        None => view! { <LoginForm token password cancel /> }.into_any(),
                    }}
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// The password (a plain form: a refusal comes back in the address; with keys, the key step
/// is `/nia-login/…/key`), and "Cancel".
#[component]
fn LoginForm(
    token: String,
    password: ServerAction<NiaLoginPassword>,
    cancel: ServerAction<NiaLoginCancel>,
) -> impl IntoView {
    let lang = use_lang();
    let errors = form_error(password.value());
    let cancel_errors = move || {
        cancel
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="alert" role="alert">{e.summary(lang)}</p> })
    };
    let cancel_token = token.clone();
    view! {
        <p>{t("nia-login-how")}</p>
        <ActionForm action=password attr:class="form" attr:novalidate=true>
            <ErrorSummary errors />
            <input type="hidden" name="token" value=token />
            <Field name="username" label="field-username" autocomplete="username" required=true errors />
            <PasswordField name="password" label="field-password" autocomplete="current-password" errors />
            <Submit label="login-submit" pending=password.pending() />
        </ActionForm>
        <ActionForm action=cancel attr:class="form">
            <input type="hidden" name="token" value=cancel_token />
            {cancel_errors}
            <button type="submit" class="secondary">{t("nia-login-cancel")}</button>
        </ActionForm>
    }
}

/// Has the forms' script submit the form inside it as soon as the page has loaded (our
/// answer to NIA, on success; once: the address becomes `?posted=1`, so Back or a reload does
/// not post it again); without script the citizen presses its button.
#[component]
fn SubmitAtOnce(children: Children) -> impl IntoView {
    view! { <div data-submit-at-once>{children()}</div> }
}

/// The outcome said in words, and the form that carries our answer to NIA (sent by itself
/// on success; on a refusal the citizen reads why first).
#[component]
fn AnswerPanel(
    answer: AnswerView,
    service: String,
    /// Post a successful answer as soon as the page has loaded.
    at_once: bool,
) -> impl IntoView {
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
    let label = if success {
        "nia-login-continue"
    } else {
        "nia-login-return"
    };
    let form = view! {
        <form method="post" action=answer.acs_url.clone() id="nia-answer">
            <input type="hidden" name="SAMLResponse" value=answer.saml_response.clone() />
            {answer.relay_state.clone().map(|r| view! { <input type="hidden" name="RelayState" value=r /> })}
            <button type="submit">{t(label)}</button>
        </form>
    };
    view! {
        {message}
        {match success && at_once {
            true => view! { <SubmitAtOnce>{form}</SubmitAtOnce> }.into_any(),
            false => form.into_any(),
        }}
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

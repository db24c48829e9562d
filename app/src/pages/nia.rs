//! `/settings/nia`: linking the account to NIA ("Link to government services"): the
//! conditions, the fresh login, the choice of verification, the registry data table,
//! completing, and the linked state.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::i18n::{format_date, format_iso_date, t, tr, tr_args, use_lang, Lang};
use crate::pages::settings::load_failed;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionView {
    /// Catalog key of the condition.
    pub key: String,
    pub met: bool,
    /// Where to fix it.
    pub fix: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRow {
    pub item: String,
    pub register: String,
    pub account: String,
}

/// A pairing request's state as the pages see it: the domain's states, one for one (the
/// conversion below and the pages' matches are exhaustive, so a new state does not compile
/// until every page says what it shows for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairingState {
    Created,
    NiaLogin,
    AwaitingOffice,
    DataReceived,
    Completing,
    Completed,
    Cancelled,
    Failed,
}

#[cfg(feature = "ssr")]
impl From<idp::nia::pairing::State> for PairingState {
    fn from(s: idp::nia::pairing::State) -> Self {
        use idp::nia::pairing::State as S;
        match s {
            S::Created => Self::Created,
            S::NiaLogin => Self::NiaLogin,
            S::AwaitingOffice => Self::AwaitingOffice,
            S::DataReceived => Self::DataReceived,
            S::Completing => Self::Completing,
            S::Completed => Self::Completed,
            S::Cancelled => Self::Cancelled,
            S::Failed => Self::Failed,
        }
    }
}

/// What the NIA page shows for a request in each state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Screen {
    /// "Completing the connection to NIA… Wait a moment."
    Progress,
    /// The Czech POINT request with its code and document.
    Office,
    /// The register's data table with "Complete connection to NIA".
    Data,
    /// The conditions and the choice of verification; `outcome` says why the last one
    /// ended, `waiting` that NIA's answer is awaited.
    Start { outcome: bool, waiting: bool },
}

impl PairingState {
    fn screen(self) -> Screen {
        match self {
            Self::Completing => Screen::Progress,
            Self::AwaitingOffice => Screen::Office,
            Self::DataReceived => Screen::Data,
            Self::NiaLogin => Screen::Start {
                outcome: false,
                waiting: true,
            },
            Self::Created | Self::Cancelled | Self::Failed => Screen::Start {
                outcome: true,
                waiting: false,
            },
            Self::Completed => Screen::Start {
                outcome: false,
                waiting: false,
            },
        }
    }

    /// What the Settings page's NIA section says of a request in this state (`None`: the
    /// request is over and the section says "not linked").
    pub fn in_settings(self) -> Option<&'static str> {
        match self {
            Self::AwaitingOffice => Some("nia-state-awaiting-office"),
            Self::DataReceived => Some("nia-state-data-received"),
            Self::Completing => Some("nia-state-completing"),
            Self::NiaLogin => Some("nia-state-nia-login"),
            Self::Created | Self::Completed | Self::Cancelled | Self::Failed => None,
        }
    }
}

/// How identity is verified for NIA (the domain's `Method`, converted exhaustively).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PairingMethod {
    Eobcanka,
    CzechPoint,
}

impl PairingMethod {
    /// The catalog key of "validated … with eObčanka at NIA | at a Czech POINT office".
    pub fn validated_by(self) -> &'static str {
        match self {
            PairingMethod::Eobcanka => "validation-by-eobcanka",
            PairingMethod::CzechPoint => "validation-by-czech_point",
        }
    }
}

#[cfg(feature = "ssr")]
impl From<idp::nia::pairing::Method> for PairingMethod {
    fn from(m: idp::nia::pairing::Method) -> Self {
        use idp::nia::pairing::Method as M;
        match m {
            M::Eobcanka => PairingMethod::Eobcanka,
            M::CzechPoint => PairingMethod::CzechPoint,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestView {
    pub id: i64,
    pub method: PairingMethod,
    pub state: PairingState,
    pub outcome: Option<String>,
    pub rows: Vec<DataRow>,
    /// The Czech POINT pairing code.
    pub code: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NiaView {
    pub linked_at: Option<i64>,
    pub linked_keys: usize,
    pub conditions: Vec<ConditionView>,
    pub all_met: bool,
    pub request: Option<RequestView>,
    /// A password + key login in the last few minutes (linking needs it).
    pub fresh: bool,
}

#[server(endpoint = "nia_overview")]
pub async fn nia_overview() -> Result<NiaView, ApiError> {
    use crate::ssr::{ctx, current_session, fail};
    let s = current_session().await?;
    let idp = ctx()?.idp;
    let status = idp.nia_status(s.account_id).await.map_err(fail)?;
    let profile = idp.profile(s.account_id).await.map_err(fail)?;
    let e = &status.eligibility;
    let cond = |key: &str, met: bool, fix: &str| ConditionView {
        key: key.into(),
        met,
        fix: fix.into(),
    };
    let conditions = vec![
        cond("nia-cond-first-name", e.first_name, "/settings/profile"),
        cond("nia-cond-last-name", e.last_name, "/settings/profile"),
        cond("nia-cond-address", e.address, "/settings/profile"),
        cond("nia-cond-email", e.email, "/settings/contacts"),
        cond("nia-cond-phone", e.phone, "/settings/contacts"),
        cond(
            "nia-cond-key",
            e.certified_key,
            "/settings/2fa/security-keys",
        ),
        cond(
            "nia-cond-organization",
            e.no_organization,
            "/settings/profile",
        ),
    ];
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let address = |street: &str, number: &str, postcode: &str, city: &str| {
        if city.is_empty() {
            String::new()
        } else {
            format!("{street} {number}, {} {city}", postcode_shown(postcode))
        }
    };
    let request = status.request.map(|r| {
        let rows = r
            .registry
            .as_ref()
            .map(|d| {
                vec![
                    DataRow {
                        item: "nia-item-given".into(),
                        register: d.given_name.clone(),
                        account: opt(&profile.first_name),
                    },
                    DataRow {
                        item: "nia-item-family".into(),
                        register: d.family_name.clone(),
                        account: opt(&profile.last_name),
                    },
                    DataRow {
                        item: "nia-item-birth".into(),
                        register: d.birth_date.clone(),
                        account: opt(&profile.birth_date),
                    },
                    DataRow {
                        item: "nia-item-address".into(),
                        register: address(
                            &opt(&d.street),
                            &opt(&d.house_number),
                            &opt(&d.postcode),
                            &opt(&d.city),
                        ),
                        account: address(
                            &opt(&profile.street),
                            &opt(&profile.house_number),
                            &opt(&profile.postcode),
                            &opt(&profile.city),
                        ),
                    },
                ]
            })
            .unwrap_or_default();
        RequestView {
            id: r.id,
            method: r.method.into(),
            state: r.state.into(),
            outcome: r.outcome,
            rows,
            code: r.code,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }
    });
    Ok(NiaView {
        linked_at: status.link.as_ref().map(|l| l.linked_at),
        linked_keys: status.link.as_ref().map_or(0, |l| l.key_ids.len()),
        all_met: e.all(),
        conditions,
        request,
        fresh: idp::account::sessions::Freshness::PasswordAndKey.holds(&s.auth, idp.clock.now()),
    })
}

/// A Czech postcode as it is written ("602 00"), whichever way it was stored ("60200").
#[cfg(any(feature = "ssr", test))]
fn postcode_shown(postcode: &str) -> String {
    let digits: String = postcode.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 5 && digits.chars().all(|c| c.is_ascii_digit()) {
        format!("{} {}", &digits[..3], &digits[3..])
    } else {
        postcode.trim().to_owned()
    }
}

/// Whether the register's value and the account's are the same to a reader: spacing and
/// letter case aside.
fn same_to_a_reader(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String { s.split_whitespace().collect::<String>().to_lowercase() };
    norm(a) == norm(b)
}

/// "Verify": starts the chosen verification; returns where the browser goes.
#[server(endpoint = "nia_start")]
pub async fn nia_start(method: String) -> Result<String, ApiError> {
    use crate::ssr::{
        append_cookie, ctx, current_session, fail, nia_browser_cookie, redirect_plain_form,
        request_info,
    };
    let s = current_session().await?;
    let idp = ctx()?.idp;
    let info = request_info();
    let caller = s.caller(&info);
    let started = match method.as_str() {
        "eobcanka" => match idp.start_eobcanka(&caller).await {
            Ok(start) => {
                // NIA's answer is accepted only from the browser that carries this
                append_cookie(&nia_browser_cookie(
                    &start.browser_nonce,
                    idp::nia::pairing::LOGIN_TTL_SECS,
                ))?;
                Ok(start.url)
            }
            Err(e) => Err(e),
        },
        "czech_point" => idp
            .start_czech_point(&caller)
            .await
            .map(|_| "/settings/nia".to_owned()),
        _ => return Err(ApiError::Conflict),
    };
    // either way, a login that is not fresh enough goes to the step-up first
    let url = match started {
        Ok(url) => url,
        Err(idp::Error::StepUpRequired) => STEP_UP.to_owned(),
        Err(e) => return Err(fail(e)),
    };
    redirect_plain_form(&url);
    Ok(url)
}

/// "Complete connection to NIA".
#[server(endpoint = "nia_complete")]
pub async fn nia_complete(id: i64) -> Result<(), ApiError> {
    use crate::ssr::{ctx, current_session, fail, redirect_plain_form, request_info};
    let s = current_session().await?;
    ctx()?
        .idp
        .confirm_pairing(&s.caller(&request_info()), id)
        .await
        .map_err(fail)?;
    redirect_plain_form(COMPLETING);
    Ok(())
}

#[server(endpoint = "nia_cancel")]
pub async fn nia_cancel(id: i64) -> Result<(), ApiError> {
    use crate::ssr::{ctx, current_session, fail, redirect_plain_form, request_info};
    let s = current_session().await?;
    ctx()?
        .idp
        .cancel_pairing(s.account_id, &s.username, id, &request_info())
        .await
        .map_err(fail)?;
    redirect_plain_form("/settings/nia");
    Ok(())
}

fn outcome_message(lang: Lang, outcome: &str) -> String {
    let key = format!("nia-result-{outcome}");
    let text = tr(lang, &key);
    if text == key {
        tr_args(
            lang,
            "nia-result-other",
            &[("code", outcome.to_owned().into())],
        )
    } else {
        text
    }
}

#[component]
pub fn NiaPage() -> impl IntoView {
    let query = use_query_map();
    let banner = query.read_untracked().get("nia").map(|v| {
        if v == "detached" {
            return view! { <p class="notice" role="status">{t("nia-detached")}</p> }.into_any();
        }
        let key = match v.as_str() {
            "unavailable" => "nia-response-unavailable",
            "invalid" => "nia-response-invalid",
            "person_mismatch" => "nia-response-person-mismatch",
            "cannot_disable" => "err-cannot-disable",
            _ => "err-internal",
        };
        view! { <p class="alert" role="alert">{t(key)}</p> }.into_any()
    });
    let choose = query.read_untracked().get("step").as_deref() == Some("choose");
    view! {
        <Title text=t("nia-title") />
        <h1>{t("nia-title")}</h1>
        <p>{t("nia-intro")}</p>
        <p>{t("nia-who")}</p>
        {banner}
        <NiaPanel choose />
        <p><a href="/settings">{t("back-to-settings")}</a></p>
    }
}

/// Where a request that needs a fresh login first goes (then back to the choice).
#[cfg(feature = "ssr")]
const STEP_UP: &str = "/reauth?next=%2Fsettings%2Fnia%3Fstep%3Dchoose";
/// The page while NIA completes the link: it looks again every second (`completing`), and
/// once the link is made it goes on to Settings.
const COMPLETING: &str = "/settings/nia?completing=1";
/// How often the completing page looks again by itself (a screen reader starts the page
/// again at each load: not every second).
const REFRESH_SECS: u32 = 3;

/// The request to link and its steps: plain forms (each answered by loading the page
/// again); while NIA completes the link the page reloads itself every second, without
/// script.
#[component]
fn NiaPanel(choose: bool) -> impl IntoView {
    let lang = use_lang();
    let data = Resource::new(|| (), |_| nia_overview());
    let start = ServerAction::<NiaStart>::new();
    let complete = ServerAction::<NiaComplete>::new();
    let cancel = ServerAction::<NiaCancel>::new();
    // a request seen completing, or confirmed just now (the job may finish it before the
    // page looks), leads to Settings once linked
    let completing = use_query_map().read_untracked().get("completing").is_some();
    let action_error = move || {
        [
            start.value().get().map(|r| r.map(|_| ())),
            complete.value().get(),
            cancel.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(|r| r.err())
        .map(|e| view! { <p class="alert" role="alert">{e.summary(lang)}</p> })
    };
    view! {
        {action_error}
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => load_failed(e),
                    Ok(v) if v.linked_at.is_some() && completing => {
                        view! { <leptos_router::components::Redirect path="/settings?nia=complete" /> }.into_any()
                    }
                    Ok(v) => {
                        let progress = v
                            .request
                            .as_ref()
                            .is_some_and(|r| r.state.screen() == Screen::Progress);
                        view! {
                            {progress.then(|| view! {
                                <leptos_meta::Meta http_equiv="refresh" content=format!("{REFRESH_SECS}; url={COMPLETING}") />
                            })}
                            {body(lang, v, choose, Actions { start, complete, cancel })}
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

struct Actions {
    start: ServerAction<NiaStart>,
    complete: ServerAction<NiaComplete>,
    cancel: ServerAction<NiaCancel>,
}

fn body(lang: Lang, v: NiaView, choose: bool, actions: Actions) -> AnyView {
    let Actions {
        start,
        complete,
        cancel,
    } = actions;
    if let Some(at) = v.linked_at {
        return view! {
            <section class="card" aria-labelledby="nia-linked">
                <h2 id="nia-linked">{t("nia-linked-title")}</h2>
                <p role="status">{tr_args(lang, "nia-linked", &[("date", format_date(lang, at).into())])}</p>
                <p>{tr_args(lang, "nia-linked-keys", &[("count", (v.linked_keys as i64).into())])}</p>
                <p>{t("nia-locked-note")}</p>
                // the new login is the confirmation; the page before it says what detaching does
                <p>{t("nia-detach-confirm")}</p>
                <p><a class="button secondary" href="/reauth?action=detach&next=%2Fsettings%2Fnia">{t("nia-detach")}</a></p>
            </section>
        }
        .into_any();
    }
    let request = v.request.clone();
    let screen = request.as_ref().map(|r| r.state.screen());
    if let Some(r) = request.clone().filter(|_| screen == Some(Screen::Progress)) {
        let _ = r;
        return view! {
            <section class="card" aria-labelledby="nia-progress">
                <h2 id="nia-progress">{t("nia-complete")}</h2>
                <p role="status" aria-live="polite" class="progress">{t("nia-completing")}</p>
                <p><a href=COMPLETING>{t("nia-completing-check")}</a></p>
            </section>
        }
        .into_any();
    }
    if let Some(r) = request.clone().filter(|_| screen == Some(Screen::Office)) {
        let id = r.id;
        let code = r.code.clone().unwrap_or_default();
        return view! {
            <section class="card" aria-labelledby="nia-office">
                <h2 id="nia-office">{t("cp-waiting-title")}</h2>
                <dl>
                    <dt>{t("cp-state")}</dt>
                    <dd>{t("cp-state-waiting")}</dd>
                    <dt>{t("cp-created")}</dt>
                    <dd>{format_date(lang, r.created_at)}</dd>
                    <dt>{t("cp-code")}</dt>
                    <dd><strong class="code">{code}</strong></dd>
                    <dt>{t("cp-valid-until")}</dt>
                    <dd>{format_date(lang, r.expires_at)}</dd>
                </dl>
                <p>{t("cp-next")}</p>
                <p><a class="button" href=format!("/settings/nia/document/{id}")>{t("cp-print")}</a></p>
                <p>{t("cp-no-email")}</p>
                <ActionForm action=cancel>
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="secondary">{t("nia-cancel")}</button>
                </ActionForm>
            </section>
        }
        .into_any();
    }
    if let Some(r) = request.clone().filter(|_| screen == Some(Screen::Data)) {
        let outage = r.outcome.as_deref() == Some("nia_unavailable");
        let rows = r
            .rows
            .iter()
            .map(|row| {
                let differs = !same_to_a_reader(&row.register, &row.account);
                let shown = if row.item == "nia-item-birth" {
                    (format_iso_date(lang, &row.register), format_iso_date(lang, &row.account))
                } else {
                    (row.register.clone(), row.account.clone())
                };
                view! {
                    <tr class:differs=differs>
                        <th scope="row">{t(&row.item)}</th>
                        <td>{shown.0}</td>
                        <td>
                            {shown.1}
                            {differs.then(|| view! { " " <strong class="tag">{t("nia-differs")}</strong> })}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        let id = r.id;
        return view! {
            {outage.then(|| view! {
                <div class="alert" role="alert">
                    <p>{t("nia-outage")}</p>
                    <p>{t("nia-outage-hint")}</p>
                </div>
            })}
            <section class="card" aria-labelledby="nia-data">
                <h2 id="nia-data">{t("nia-data-title")}</h2>
                <p>{t("nia-data-intro")}</p>
                <table class="data">
                    <thead>
                        <tr>
                            <th scope="col">{t("nia-col-item")}</th>
                            <th scope="col">{t("nia-col-register")}</th>
                            <th scope="col">{t("nia-col-account")}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
                <div class="button-row">
                    <ActionForm action=complete>
                        <input type="hidden" name="id" value=id />
                        <button type="submit">{t("nia-complete")}</button>
                    </ActionForm>
                    <ActionForm action=cancel>
                        <input type="hidden" name="id" value=id />
                        <button type="submit" class="secondary">{t("nia-cancel")}</button>
                    </ActionForm>
                </div>
            </section>
        }
        .into_any();
    }
    let last_outcome = request
        .as_ref()
        .filter(|_| matches!(screen, Some(Screen::Start { outcome: true, .. })))
        .and_then(|r| r.outcome.clone())
        .filter(|o| o != "replaced" && o != "by_citizen");
    let waiting_login = request
        .as_ref()
        .filter(|_| matches!(screen, Some(Screen::Start { waiting: true, .. })))
        .map(|r| r.id);
    let conditions = v
        .conditions
        .iter()
        .map(|c| {
            let state = if c.met {
                t("nia-met")
            } else {
                t("nia-missing")
            };
            view! {
                <li class:met=c.met class:missing=!c.met>
                    {t(&c.key)} ": " <strong>{state}</strong>
                    {(!c.met).then(|| view! { " " <a href=c.fix.clone()>{t("nia-fix")}</a> })}
                </li>
            }
        })
        .collect_view();
    let can_choose = v.all_met && v.fresh && (choose || waiting_login.is_some());
    view! {
        {last_outcome.map(|o| view! { <p class="alert" role="alert">{outcome_message(lang, &o)}</p> })}
        {waiting_login.map(|_| view! { <p role="status">{t("nia-waiting-login")}</p> })}
        <section class="card" aria-labelledby="nia-conditions">
            <h2 id="nia-conditions">{t("nia-conditions")}</h2>
            <ul class="conditions">{conditions}</ul>
            {(v.all_met && !can_choose).then(|| view! {
                <p>{t("nia-relogin")}</p>
                <p><a class="button" href="/reauth?next=%2Fsettings%2Fnia%3Fstep%3Dchoose">{t("nia-link")}</a></p>
            })}
        </section>
        {can_choose.then(|| view! {
            <section class="card" aria-labelledby="nia-choose">
                <h2 id="nia-choose">{t("nia-choose")}</h2>
                <ActionForm action=start>
                    <fieldset>
                        <legend>{t("nia-choose")}</legend>
                        <label><input type="radio" name="method" value="eobcanka" checked /> {t("nia-eobcanka")}</label>
                        <label><input type="radio" name="method" value="czech_point" /> {t("nia-czech-point")}</label>
                    </fieldset>
                    <button type="submit">{t("nia-verify")}</button>
                </ActionForm>
                {waiting_login.map(|id| view! {
                    <ActionForm action=cancel>
                        <input type="hidden" name="id" value=id />
                        <button type="submit" class="secondary">{t("nia-cancel")}</button>
                    </ActionForm>
                })}
            </section>
        })}
    }
    .into_any()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentView {
    pub code: String,
    pub expires_at: i64,
    /// The code as a QR code (SVG).
    pub qr_svg: String,
}

#[server(endpoint = "nia_document")]
pub async fn nia_document(id: i64) -> Result<DocumentView, ApiError> {
    use crate::ssr::{ctx, current_session, fail};
    let s = current_session().await?;
    let r = ctx()?
        .idp
        .office_request(s.account_id, id)
        .await
        .map_err(fail)?;
    let qr_svg = qrcode::QrCode::new(r.code.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(180, 180)
                .quiet_zone(true)
                .build()
        })
        .map_err(|_| ApiError::Internal)?;
    Ok(DocumentView {
        code: r.code,
        expires_at: r.expires_at,
        qr_svg,
    })
}

/// "Print": the browser's print dialog, run by the forms' script, which unhides it (without
/// script the browser's own Print does it; the PDF link beside it needs no script).
#[component]
fn PrintButton(label: String) -> impl IntoView {
    view! { <button type="button" data-print hidden>{label}</button> }
}

/// `/settings/nia/document/:id`: what the citizen takes to the Czech POINT office.
#[component]
pub fn OfficeDocumentPage() -> impl IntoView {
    let lang = use_lang();
    let params = leptos_router::hooks::use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let data = Resource::new(id, nia_document);
    view! {
        <Title text=t("cp-doc-title") />
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => load_failed(e),
                    Ok(d) => view! {
                        <article class="office-document">
                            <h1>{t("cp-doc-title")}</h1>
                            <p class="doc-form"><strong>{t("cp-doc-form")}</strong></p>
                            <p>{t("cp-doc-recipient")}</p>
                            <p>{t("cp-doc-message")}</p>
                            <p class="doc-code" aria-label=t("cp-code")>{d.code.clone()}</p>
                            <figure class="doc-qr">
                                <div role="img" aria-label=t("cp-doc-qr") inner_html=d.qr_svg.clone()></div>
                            </figure>
                            <p>{t("cp-doc-bring")}</p>
                            <p>{tr_args(lang, "cp-doc-expiry", &[("date", format_date(lang, d.expires_at).into())])}</p>
                            <p>{t("cp-doc-steps")}</p>
                            <p class="doc-warning"><strong>{t("cp-doc-owner-only")}</strong></p>
                        </article>
                        <p class="no-print">
                            <PrintButton label=t("cp-doc-print") />
                            " "
                            <a href=format!("/settings/nia/document/{}/pdf", id())>{t("cp-doc-pdf")}</a>
                            " "
                            <a href="/settings/nia">{t("nia-settings-link")}</a>
                        </p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postcode_differs_only_when_its_digits_do() {
        assert_eq!(postcode_shown("60200"), "602 00");
        assert_eq!(postcode_shown("602 00"), "602 00");
        assert_eq!(postcode_shown(" 6 0200"), "602 00");
        assert_eq!(postcode_shown("SK-811"), "SK-811");
        assert!(same_to_a_reader(
            "Milešovská 5, 130 00 Praha",
            "Milešovská 5, 13000 Praha"
        ));
        assert!(!same_to_a_reader(
            "Milešovská 5, 130 00 Praha",
            "Milešovská 5, 130 01 Praha"
        ));
        assert!(!same_to_a_reader("Nováková", "Novákova"));
    }
}

//! `/admin/support`: the support console (the `support` role, logged in with a security key).
//! The queue of requests; one request with the verdict on its key test JSON (the same as
//! `mojeid-server analyze`), the account's keys and recent security events, the screenshot,
//! and the answer by e-mail. Every reading is audited by the domain.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::components::{form_error, ErrorSummary, Submit};
use crate::error::ApiError;
use crate::i18n::{format_date_time, t, use_lang};
use crate::pages::key_check::{CheckResult, KeyCheckView};
use crate::pages::security_keys::KeyView;

/// A request in the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRow {
    pub id: i64,
    pub reference: String,
    pub answered: bool,
    pub username: String,
    pub email: String,
    pub sent_at: i64,
}

/// The account's request to link to NIA, as support reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingView {
    pub method: String,
    pub state: String,
    /// Why it stopped or waits.
    pub outcome: Option<String>,
    /// The Czech POINT code.
    pub code: Option<String>,
    pub created_at: i64,
}

/// One request with what helps to answer it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    pub row: QueueRow,
    pub from_account: bool,
    pub os: String,
    pub browser: String,
    pub key_type: String,
    pub account_keys: String,
    pub description: String,
    pub happened_at: String,
    pub has_screenshot: bool,
    pub answer: Option<String>,
    /// The verdict on the attached key JSON, or why it could not be read.
    pub verdict: Option<Result<KeyCheckView, String>>,
    pub keys: Vec<KeyView>,
    /// Recent security events of the account: time, event, actor.
    pub events: Vec<(i64, String, String)>,
    pub pairing: Option<PairingView>,
    /// Deliveries from Czech POINT that could be the requester's: received, status, the code
    /// they came with, the person's name and birth date.
    pub deliveries: Vec<(i64, String, Option<String>, String)>,
}

#[cfg(feature = "ssr")]
fn row(r: &idp::support::SupportRequest) -> QueueRow {
    QueueRow {
        id: r.id,
        reference: r.reference.clone(),
        answered: r.state == idp::support::RequestState::Answered,
        username: r.username.clone(),
        email: r.email.clone(),
        sent_at: r.sent_at.unwrap_or(r.created_at),
    }
}

#[server(endpoint = "admin_support_queue")]
pub async fn admin_support_queue() -> Result<Vec<QueueRow>, ApiError> {
    let (s, idp, _) = super::admin::staff_as(&[idp::staff::Role::Support]).await?;
    let queue = idp
        .support_queue(&s, &crate::ssr::request_info())
        .await
        .map_err(crate::ssr::fail)?;
    Ok(queue.iter().map(row).collect())
}

#[server(endpoint = "admin_support_case")]
pub async fn admin_support_case(id: i64) -> Result<CaseView, ApiError> {
    let (s, idp, _) = super::admin::staff_as(&[idp::staff::Role::Support]).await?;
    let case = idp
        .support_case(&s, id, &crate::ssr::request_info())
        .await
        .map_err(crate::ssr::fail)?;
    let r = case.request;
    let verdict = match (case.verdict, &r.key_check) {
        (Some(Ok(v)), Some(text)) => {
            Some(Ok(crate::pages::key_check::verdict_view(v, text.clone())?))
        }
        (Some(Err(why)), _) => Some(Err(why)),
        _ => None,
    };
    Ok(CaseView {
        row: row(&r),
        from_account: r.account_id.is_some(),
        os: r.os,
        browser: r.browser,
        key_type: r.key_type,
        account_keys: r.account_keys,
        description: r.description,
        happened_at: r.happened_at,
        has_screenshot: r.screenshot_type.is_some(),
        answer: r.answer,
        verdict,
        keys: case.keys.into_iter().map(KeyView::from).collect(),
        events: case
            .events
            .into_iter()
            .map(|e| (e.at, e.event, e.actor))
            .collect(),
        pairing: case.pairing.map(|p| PairingView {
            method: p.method.as_str().to_owned(),
            state: p.state.as_str().to_owned(),
            outcome: p.outcome,
            code: p.code,
            created_at: p.created_at,
        }),
        deliveries: case
            .deliveries
            .into_iter()
            .map(|d| {
                let field = |k: &str| d.person[k].as_str().unwrap_or_default().to_owned();
                let person = format!(
                    "{} {}, {}",
                    field("given_name"),
                    field("family_name"),
                    field("birth_date")
                );
                (d.received_at, d.status, d.code, person)
            })
            .collect(),
    })
}

#[server(endpoint = "admin_support_answer")]
pub async fn admin_support_answer(id: i64, answer: String) -> Result<(), ApiError> {
    let (s, idp, _) = super::admin::staff_as(&[idp::staff::Role::Support]).await?;
    idp.answer_support_request(&s, id, &answer, &crate::ssr::request_info())
        .await
        .map_err(crate::ssr::fail)?;
    crate::ssr::redirect_plain_form(&format!("/admin/support/{id}?answered=1"));
    Ok(())
}

fn forbidden_or(e: ApiError) -> AnyView {
    match e {
        ApiError::Forbidden => {
            view! { <p class="alert" role="alert">{t("admin-forbidden")}</p> }.into_any()
        }
        e => crate::pages::settings::load_failed(e),
    }
}

#[component]
pub fn SupportQueuePage() -> impl IntoView {
    let lang = use_lang();
    let queue = Resource::new(|| (), |_| admin_support_queue());
    view! {
        <Title text=t("console-title") />
        <h1>{t("console-title")}</h1>
        <HealthPanel />
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match queue.await {
                    Err(e) => forbidden_or(e),
                    Ok(rows) if rows.is_empty() => view! { <p>{t("console-empty")}</p> }.into_any(),
                    Ok(rows) => view! {
                        <div class="table-wrap">
                            <table class="data">
                                <caption>{t("console-queue")}</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">{t("console-reference")}</th>
                                        <th scope="col">{t("console-state")}</th>
                                        <th scope="col">{t("support-username")}</th>
                                        <th scope="col">{t("support-email")}</th>
                                        <th scope="col">{t("console-sent")}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows.into_iter().map(|r| view! {
                                        <tr>
                                            <td><a href=format!("/admin/support/{}", r.id)>{r.reference.clone()}</a></td>
                                            <td>{if r.answered { t("console-answered") } else { t("console-open") }}</td>
                                            <td>{r.username.clone()}</td>
                                            <td>{r.email.clone()}</td>
                                            <td>{format_date_time(lang, r.sent_at)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn SupportCasePage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let answer = ServerAction::<AdminSupportAnswer>::new();
    let case = Resource::new(
        move || (id(), answer.version().get()),
        |(id, _)| admin_support_case(id),
    );
    let errors = form_error(answer.value());
    let answered_now = move || {
        matches!(answer.value().get(), Some(Ok(())))
            || leptos_router::hooks::use_query_map()
                .read()
                .get("answered")
                .is_some()
    };
    view! {
        <Title text=t("console-title") />
        <p><a href="/admin/support">{t("console-queue")}</a></p>
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match case.await {
                    Err(e) => forbidden_or(e),
                    Ok(c) => {
                        let row = |label: &'static str, value: String| view! {
                            <tr><th scope="row">{t(label)}</th><td class="sent-text">{value}</td></tr>
                        };
                        let id = c.row.id;
                        view! {
                            <h1>{format!("{} {}", t("console-request"), c.row.reference)}</h1>
                            <div class="table-wrap">
                                <table class="data">
                                    <caption>{t("support-preview-caption")}</caption>
                                    <tbody>
                                        {row("console-state", if c.row.answered { t("console-answered") } else { t("console-open") })}
                                        {row("support-username", format!("{}{}", c.row.username, if c.from_account { String::new() } else { format!(" ({})", t("console-not-logged-in")) }))}
                                        {row("support-email", c.row.email.clone())}
                                        {row("support-os", c.os.clone())}
                                        {row("support-browser", c.browser.clone())}
                                        {row("support-key-type", c.key_type.clone())}
                                        {row("support-account-keys", c.account_keys.clone())}
                                        {row("support-description", c.description.clone())}
                                        {row("support-happened-at", c.happened_at.clone())}
                                        {row("console-sent", format_date_time(lang, c.row.sent_at))}
                                    </tbody>
                                </table>
                            </div>
                            {c.has_screenshot.then(|| view! {
                                <figure>
                                    <img class="screenshot" src=format!("/admin/support/{id}/screenshot") alt=t("support-screenshot") />
                                    <figcaption>{t("support-screenshot")}</figcaption>
                                </figure>
                            })}
                            <section aria-labelledby="console-verdict">
                                <h2 id="console-verdict">{t("console-verdict")}</h2>
                                {match c.verdict.clone() {
                                    None => view! { <p>{t("console-no-key-check")}</p> }.into_any(),
                                    Some(Err(why)) => view! { <p class="alert">{format!("{}: {why}", t("console-key-check-unreadable"))}</p> }.into_any(),
                                    Some(Ok(v)) => view! { <CheckResult v /> }.into_any(),
                                }}
                            </section>
                            {c.from_account.then(|| view! {
                                <section aria-labelledby="console-keys">
                                    <h2 id="console-keys">{t("console-keys")}</h2>
                                    <ul>
                                        {c.keys.iter().map(|k| view! {
                                            <li>{format!("{} – {} – {} – {}", k.name, k.model.clone().unwrap_or_else(|| t("check-model-unknown")), t(k.kind.label()), k.level.fido_name())}</li>
                                        }).collect_view()}
                                    </ul>
                                    <h2>{t("console-pairing")}</h2>
                                    {match c.pairing.clone() {
                                        None => view! { <p>{t("console-no-pairing")}</p> }.into_any(),
                                        Some(p) => view! {
                                            <p>{format!(
                                                "{} – {}{}{} – {}",
                                                p.method,
                                                p.state,
                                                p.outcome.map(|o| format!(" ({o})")).unwrap_or_default(),
                                                p.code.map(|c| format!(" – {c}")).unwrap_or_default(),
                                                format_date_time(lang, p.created_at)
                                            )}</p>
                                        }.into_any(),
                                    }}
                                    <h2>{t("console-deliveries")}</h2>
                                    {if c.deliveries.is_empty() {
                                        view! { <p>{t("console-no-deliveries")}</p> }.into_any()
                                    } else {
                                        view! {
                                            <ul>
                                                {c.deliveries.iter().map(|(at, status, code, person)| view! {
                                                    <li>{format!("{} – {status} – {} – {person}", format_date_time(lang, *at), code.clone().unwrap_or_default())}</li>
                                                }).collect_view()}
                                            </ul>
                                        }.into_any()
                                    }}
                                    <h2>{t("console-events")}</h2>
                                    <ul>
                                        {c.events.iter().map(|(at, event, actor)| view! {
                                            <li>{format!("{} – {event} – {actor}", format_date_time(lang, *at))}</li>
                                        }).collect_view()}
                                    </ul>
                                </section>
                            })}
                            {c.answer.clone().map(|a| view! {
                                <section aria-labelledby="console-last-answer">
                                    <h2 id="console-last-answer">{t("console-last-answer")}</h2>
                                    <p class="sent-text">{a}</p>
                                </section>
                            })}
                            <section aria-labelledby="console-answer">
                                <h2 id="console-answer">{t("console-answer")}</h2>
                                <ActionForm action=answer attr:class="form">
                                    <ErrorSummary errors />
                                    <input type="hidden" name="id" value=id />
                                    <div class="field">
                                        <label for="f-answer">{t("console-answer-text")}</label>
                                        <textarea id="f-answer" name="answer" rows="6" required=true></textarea>
                                    </div>
                                    <Submit label="console-send-answer" pending=answer.pending() />
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
        {move || answered_now().then(|| view! { <p class="notice" role="status">{t("console-answer-sent")}</p> })}
    }
}

/// The operators' summary (any staff role): FIDO metadata freshness, NIA's last answer to
/// this server, the job queue and the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthView {
    pub mds_serial: u64,
    pub mds_next_update: String,
    pub mds_stale: bool,
    pub nia_last_call: Option<(String, i64)>,
    pub jobs_due: i64,
    pub jobs_failed: i64,
    pub outbox_pending: i64,
}

#[server(endpoint = "admin_health")]
pub async fn admin_health() -> Result<HealthView, ApiError> {
    use idp::staff::Role;
    let (_, idp, _) = super::admin::staff_as(&[
        Role::Helpdesk,
        Role::BackOffice,
        Role::Auditor,
        Role::Support,
    ])
    .await?;
    let h = idp.health().await.map_err(crate::ssr::fail)?;
    Ok(HealthView {
        mds_serial: h.mds_serial,
        mds_next_update: h.mds_next_update,
        mds_stale: h.mds_stale,
        nia_last_call: h.nia_last_call,
        jobs_due: h.jobs_due,
        jobs_failed: h.jobs_failed,
        outbox_pending: h.outbox_pending,
    })
}

/// The summary as a definition list; nothing for a visitor who is not staff.
#[component]
pub fn HealthPanel() -> impl IntoView {
    let lang = use_lang();
    let health = Resource::new(|| (), |_| admin_health());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                health.await.ok().map(|h| {
                    let nia = match &h.nia_last_call {
                        None => t("health-nia-none"),
                        Some((outcome, at)) => format!(
                            "{} ({})",
                            if outcome == "unavailable" { t("health-nia-down") } else { t("health-nia-up") },
                            format_date_time(lang, *at)
                        ),
                    };
                    view! {
                        <section class="card" aria-labelledby="health">
                            <h2 id="health">{t("health-title")}</h2>
                            <dl>
                                <dt>{t("health-mds")}</dt>
                                <dd class:alert=h.mds_stale>{format!("no. {} – nextUpdate {}{}", h.mds_serial, h.mds_next_update, if h.mds_stale { format!(" – {}", t("health-mds-stale")) } else { String::new() })}</dd>
                                <dt>"NIA"</dt>
                                <dd>{nia}</dd>
                                <dt>{t("health-jobs")}</dt>
                                <dd>{format!("{} / {}", h.jobs_due, h.jobs_failed)}</dd>
                                <dt>{t("health-outbox")}</dt>
                                <dd>{h.outbox_pending}</dd>
                            </dl>
                        </section>
                    }
                })
            })}
        </Suspense>
    }
}

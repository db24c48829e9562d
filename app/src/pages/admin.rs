//! `/admin`: the helpdesk console. Staff (an account with a role, logged in with a security
//! key) find an account, ask the identity questions — the console records which answers
//! matched and never shows the data — and unlink the account from NIA, or queue the unlink
//! while NIA is down.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::components::{form_error, ErrorSummary, Field, Submit};
use crate::error::ApiError;
use crate::i18n::{t, use_lang};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundView {
    pub id: i64,
    pub username: String,
    pub nia_linked: bool,
    pub unlink_queued: bool,
}

#[cfg(feature = "ssr")]
async fn staff() -> Result<(idp::sessions::Session, idp::Idp), ApiError> {
    use idp::staff::Role;
    let s = crate::ssr::current_session().await?;
    let idp = crate::ssr::ctx()?.idp;
    idp.staff(&s, &[Role::Helpdesk, Role::BackOffice])
        .await
        .map_err(crate::ssr::fail)?;
    Ok((s, idp))
}

#[server(endpoint = "admin_find")]
pub async fn admin_find(username: String) -> Result<Option<FoundView>, ApiError> {
    let (_, idp) = staff().await?;
    Ok(idp
        .helpdesk_find(&username)
        .await
        .map_err(crate::ssr::fail)?
        .map(|f| FoundView {
            id: f.id,
            username: f.username,
            nia_linked: f.nia_linked,
            unlink_queued: f.unlink_queued,
        }))
}

#[server(endpoint = "admin_access")]
pub async fn admin_access() -> Result<(), ApiError> {
    staff().await.map(|_| ())
}

#[allow(clippy::too_many_arguments)]
mod check {
    use super::*;

    #[server(endpoint = "admin_check")]
    pub async fn admin_check(
        account_id: i64,
        first_name: String,
        last_name: String,
        birth_date: String,
        street: String,
        house_number: String,
        city: String,
        postcode: String,
        email: String,
        phone: String,
    ) -> Result<Vec<(String, bool)>, ApiError> {
        let (s, idp) = staff().await?;
        let answers = idp::staff::IdentityAnswers {
            first_name,
            last_name,
            birth_date,
            street,
            house_number,
            city,
            postcode,
            email,
            phone,
        };
        let r = idp
            .check_identity(&s, account_id, &answers, &crate::ssr::request_info())
            .await
            .map_err(crate::ssr::fail)?;
        Ok(r.matched
            .into_iter()
            .map(|m| (m, true))
            .chain(r.missed.into_iter().map(|m| (m, false)))
            .collect())
    }
}
pub use check::{admin_check, AdminCheck};

#[server(endpoint = "admin_unlink")]
pub async fn admin_unlink(account_id: i64, queue: bool) -> Result<(), ApiError> {
    let (s, idp) = staff().await?;
    let info = crate::ssr::request_info();
    if queue {
        idp.queue_unlink(&s, account_id, &info).await
    } else {
        idp.helpdesk_unlink(&s, account_id, &info).await
    }
    .map_err(crate::ssr::fail)
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let lang = use_lang();
    let access = Resource::new(|| (), |_| admin_access());
    let find = ServerAction::<AdminFind>::new();
    let check = ServerAction::<AdminCheck>::new();
    let unlink = ServerAction::<AdminUnlink>::new();
    let find_errors = form_error(find.value());
    let check_errors = form_error(check.value());
    view! {
        <Title text=t("admin-title") />
        <h1>{t("admin-title")}</h1>
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match access.await {
                    Err(ApiError::Forbidden) => view! { <p class="alert" role="alert">{t("admin-forbidden")}</p> }.into_any(),
                    Err(e) => crate::pages::settings::load_failed(e),
                    Ok(()) => view! {
                        <ActionForm action=find attr:class="form">
                            <ErrorSummary errors=find_errors />
                            <Field name="username" label="field-username" required=true errors=find_errors />
                            <Submit label="admin-find" pending=find.pending() />
                        </ActionForm>
                        {move || match find.value().get() {
                            Some(Ok(None)) => Some(view! { <p role="status">{t("admin-not-found")}</p> }.into_any()),
                            Some(Ok(Some(f))) => {
                                let id = f.id;
                                Some(view! {
                                    <section class="card" aria-labelledby="admin-account">
                                        <h2 id="admin-account">{f.username.clone()}</h2>
                                        <p>{if f.nia_linked { t("nia-state-linked") } else { t("nia-state-not-linked") }}</p>
                                        {f.unlink_queued.then(|| view! { <p>{t("admin-queued")}</p> })}
                                        <h3>{t("admin-questions")}</h3>
                                        <ActionForm action=check attr:class="form">
                                            <ErrorSummary errors=check_errors />
                                            <input type="hidden" name="account_id" value=id />
                                            <Field name="first_name" label="field-first-name" errors=check_errors />
                                            <Field name="last_name" label="field-last-name" errors=check_errors />
                                            <Field name="birth_date" label="admin-birth-date" errors=check_errors />
                                            <Field name="street" label="field-street" errors=check_errors />
                                            <Field name="house_number" label="field-house-number" errors=check_errors />
                                            <Field name="city" label="field-city" errors=check_errors />
                                            <Field name="postcode" label="field-postcode" errors=check_errors />
                                            <Field name="email" label="contacts-email" errors=check_errors />
                                            <Field name="phone" label="contacts-phone" errors=check_errors />
                                            <Submit label="admin-check" pending=check.pending() />
                                        </ActionForm>
                                        {move || check.value().get().and_then(|r| r.ok()).map(|results| {
                                            let all = results.iter().all(|r| r.1);
                                            let items = results.into_iter().map(|(q, ok)| view! {
                                                <li>{t(&format!("admin-q-{q}"))} ": " <strong>{if ok { t("admin-match") } else { t("admin-no-match") }}</strong></li>
                                            }).collect_view();
                                            view! {
                                                <ul role="status">{items}</ul>
                                                {all.then(|| view! {
                                                    <ActionForm action=unlink>
                                                        <input type="hidden" name="account_id" value=id />
                                                        <input type="hidden" name="queue" value="false" />
                                                        <button type="submit">{t("admin-unlink")}</button>
                                                    </ActionForm>
                                                })}
                                            }
                                        })}
                                        {move || match unlink.value().get() {
                                            Some(Ok(())) => Some(view! { <p class="notice" role="status">{t("admin-unlinked")}</p> }.into_any()),
                                            Some(Err(ApiError::CannotDisableAuthenticator)) => Some(view! {
                                                <div class="alert" role="alert">
                                                    <p>{t("err-cannot-disable")}</p>
                                                    <p>{t("admin-queue-hint")}</p>
                                                </div>
                                                <ActionForm action=unlink>
                                                    <input type="hidden" name="account_id" value=id />
                                                    <input type="hidden" name="queue" value="true" />
                                                    <button type="submit">{t("admin-queue")}</button>
                                                </ActionForm>
                                            }.into_any()),
                                            Some(Err(e)) => Some(view! { <p class="alert" role="alert">{e.summary(lang)}</p> }.into_any()),
                                            None => None,
                                        }}
                                    </section>
                                }.into_any())
                            }
                            _ => None,
                        }}
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub at: i64,
    pub account: Option<String>,
    pub actor: String,
    pub event: String,
    pub ip: String,
    pub details: String,
}

#[server(endpoint = "admin_audit")]
pub async fn admin_audit(
    username: String,
    actor: String,
    event: String,
) -> Result<Vec<AuditView>, ApiError> {
    let s = crate::ssr::current_session().await?;
    let idp = crate::ssr::ctx()?.idp;
    let filter = idp::staff::AuditFilter {
        username: Some(username),
        actor: Some(actor),
        event: Some(event),
        from: None,
        to: None,
    };
    let rows = idp
        .audit_search(&s, &filter, 500)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(rows
        .into_iter()
        .map(|r| AuditView {
            at: r.at,
            account: r.account,
            actor: r.actor,
            event: r.event,
            ip: r.ip,
            details: r.details,
        })
        .collect())
}

/// `/admin/audit`: the whole audit log for auditors, filtered by account, actor and event.
#[component]
pub fn AuditPage() -> impl IntoView {
    let lang = use_lang();
    let query = leptos_router::hooks::use_query_map();
    let get = move |k: &str| query.read().get(k).unwrap_or_default();
    let data = Resource::new(
        move || (get("username"), get("actor"), get("event")),
        |(u, a, e)| admin_audit(u, a, e),
    );
    view! {
        <Title text=t("audit-title") />
        <h1>{t("audit-title")}</h1>
        <form method="get" action="/admin/audit" class="form">
            <label for="a-username">{t("field-username")}</label>
            <input id="a-username" name="username" value=get("username") />
            <label for="a-actor">{t("events-col-who")}</label>
            <input id="a-actor" name="actor" value=get("actor") />
            <label for="a-event">{t("audit-event")}</label>
            <input id="a-event" name="event" value=get("event") />
            <button type="submit">{t("audit-filter")}</button>
        </form>
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(ApiError::Forbidden) => view! { <p class="alert" role="alert">{t("audit-forbidden")}</p> }.into_any(),
                    Err(e) => crate::pages::settings::load_failed(e),
                    Ok(rows) => {
                        let rows = rows.into_iter().map(|r| view! {
                            <tr>
                                <td>{format!("{} {}", crate::i18n::format_date(lang, r.at), crate::i18n::format_time(r.at))}</td>
                                <td>{r.account.unwrap_or_default()}</td>
                                <td>{r.actor}</td>
                                <th scope="row">{r.event}</th>
                                <td>{r.ip}</td>
                                <td><code>{r.details}</code></td>
                            </tr>
                        }).collect_view();
                        view! {
                            <table class="events">
                                <caption class="visually-hidden">{t("audit-title")}</caption>
                                <thead><tr>
                                    <th scope="col">{t("events-col-when")}</th>
                                    <th scope="col">{t("field-username")}</th>
                                    <th scope="col">{t("events-col-who")}</th>
                                    <th scope="col">{t("audit-event")}</th>
                                    <th scope="col">{t("events-col-where")}</th>
                                    <th scope="col">{t("audit-details")}</th>
                                </tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

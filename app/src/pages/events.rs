//! `/settings/security-events`: the account's own security events from the audit log.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::i18n::{format_date_time, t, tr, use_lang};
use crate::pages::settings::load_failed;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub at: i64,
    pub event: String,
    pub actor: String,
    pub ip: String,
}

#[server(endpoint = "security_events")]
pub async fn security_events() -> Result<Vec<EventView>, ApiError> {
    use crate::ssr::{ctx, current_session, fail};
    let s = current_session().await?;
    let events = ctx()?
        .idp
        .security_events(s.account_id, 200)
        .await
        .map_err(fail)?;
    Ok(events
        .into_iter()
        .map(|e| EventView {
            at: e.at,
            event: e.event,
            actor: e.actor,
            ip: e.ip,
        })
        .collect())
}

#[component]
pub fn SecurityEventsPage() -> impl IntoView {
    let lang = use_lang();
    let data = Resource::new(|| (), |_| security_events());
    view! {
        <Title text=t("events-title") />
        <h1>{t("events-title")}</h1>
        <p>{t("events-intro")}</p>
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => load_failed(e),
                    Ok(list) => {
                        let rows = list
                            .into_iter()
                            .map(|e| {
                                let key = format!("event-{}", e.event.replace(['.', '_'], "-"));
                                let what = tr(lang, &key);
                                let what = if what == key { e.event.clone() } else { what };
                                view! {
                                    <tr>
                                        <td>{format_date_time(lang, e.at)}</td>
                                        <th scope="row">{what}</th>
                                        <td>{if e.actor == "staff" { tr(lang, "events-actor-staff") } else { e.actor.clone() }}</td>
                                        <td>{e.ip}</td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <table class="events">
                                <caption class="visually-hidden">{t("events-title")}</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">{t("events-col-when")}</th>
                                        <th scope="col">{t("events-col-what")}</th>
                                        <th scope="col">{t("events-col-who")}</th>
                                        <th scope="col">{t("events-col-where")}</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
        <p><a href="/settings">{t("back-to-settings")}</a></p>
    }
}

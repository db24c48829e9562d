//! `/settings/sessions`: "Signed-in devices" — the account's sessions (device, address, last
//! use), each with "End session".

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::i18n::{format_date_time, t, tr_args, use_lang};
use crate::pages::settings::load_failed;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    /// The browser and system, in a few words (from the user agent).
    pub device: String,
    pub current: bool,
}

/// "Chrome 156 on Linux" from a user agent; the raw string when nothing is recognised.
pub fn device_of(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
    ]
    .iter()
    .find_map(|(token, name)| {
        let i = user_agent.find(token)? + token.len();
        let major: String = user_agent[i..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some(format!("{name} {major}"))
    });
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find_map(|(token, name)| user_agent.contains(token).then_some(*name));
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} · {s}"),
        (Some(b), None) => b,
        (None, Some(s)) => s.to_owned(),
        (None, None) => user_agent.chars().take(80).collect(),
    }
}

#[server(endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionView>, ApiError> {
    use crate::ssr::{ctx, current_session, fail, session_token};
    let s = current_session().await?;
    let token = session_token().ok_or(ApiError::NotAuthenticated)?;
    let list = ctx()?
        .idp
        .sessions_of(s.account_id, &token)
        .await
        .map_err(fail)?;
    Ok(list
        .into_iter()
        .map(|x| SessionView {
            device: device_of(&x.user_agent),
            id: x.id,
            created_at: x.created_at,
            last_seen_at: x.last_seen_at,
            ip: x.ip,
            current: x.current,
        })
        .collect())
}

#[server(endpoint = "end_session")]
pub async fn end_session(id: String) -> Result<(), ApiError> {
    use crate::ssr::{ctx, current_session, fail, redirect_plain_form, request_info};
    let s = current_session().await?;
    ctx()?
        .idp
        .end_session(s.account_id, &s.username, &id, &request_info())
        .await
        .map_err(fail)?;
    redirect_plain_form("/settings/sessions?ended=1");
    Ok(())
}

#[component]
pub fn SessionsPage() -> impl IntoView {
    let lang = use_lang();
    let end = ServerAction::<EndSession>::new();
    let data = Resource::new(move || end.version().get(), |_| my_sessions());
    // a plain form's post comes back with `?ended=1`
    let ended_before = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("ended")
        .is_some();
    let ended = move || ended_before || matches!(end.value().get(), Some(Ok(())));
    view! {
        <Title text=t("sessions-title") />
        <h1>{t("sessions-title")}</h1>
        <p>{t("sessions-intro")}</p>
        <Show when=ended>
            <p class="notice" role="status">{t("sessions-ended")}</p>
        </Show>
        <Transition fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => load_failed(e),
                    Ok(list) => {
                        let rows = list
                            .into_iter()
                            .map(|x| {
                                let when = |at: i64| format_date_time(lang, at);
                                let label = tr_args(lang, "sessions-end-label", &[("device", x.device.clone().into())]);
                                view! {
                                    <tr>
                                        <td>
                                            {x.device.clone()}
                                            {x.current.then(|| view! { " " <strong>{t("sessions-this")}</strong> })}
                                        </td>
                                        <td>{x.ip.clone()}</td>
                                        <td>{when(x.created_at)}</td>
                                        <td>{when(x.last_seen_at)}</td>
                                        <td>
                                            {(!x.current).then(|| view! {
                                                <ActionForm action=end attr:class="inline">
                                                    <input type="hidden" name="id" value=x.id.clone() />
                                                    <button type="submit" aria-label=label>{t("sessions-end")}</button>
                                                </ActionForm>
                                            })}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <table>
                                <caption>{t("sessions-title")}</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">{t("sessions-col-device")}</th>
                                        <th scope="col">{t("sessions-col-address")}</th>
                                        <th scope="col">{t("sessions-col-since")}</th>
                                        <th scope="col">{t("sessions-col-last")}</th>
                                        <th scope="col">{t("sessions-col-action")}</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
        <p><a href="/settings">{t("back-to-settings")}</a></p>
    }
}

#[cfg(test)]
mod tests {
    use super::device_of;

    #[test]
    fn devices_are_named_by_browser_and_system() {
        assert_eq!(
            device_of("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"),
            "Chrome 156 · Linux"
        );
        assert_eq!(
            device_of(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
            ),
            "Firefox 140 · Windows"
        );
        assert_eq!(device_of("curl/8.0"), "curl/8.0");
    }
}

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
    pub login_reset: bool,
}

#[cfg(feature = "ssr")]
async fn staff() -> Result<(idp::account::sessions::Session, std::sync::Arc<idp::Idp>), ApiError> {
    staff_as(&[idp::staff::Role::Helpdesk, idp::staff::Role::BackOffice])
        .await
        .map(|(s, idp, _)| (s, idp))
}

#[cfg(feature = "ssr")]
pub(crate) async fn staff_as(
    allowed: &[idp::staff::Role],
) -> Result<
    (
        idp::account::sessions::Session,
        std::sync::Arc<idp::Idp>,
        idp::staff::Role,
    ),
    ApiError,
> {
    let s = crate::ssr::current_session().await?;
    let idp = crate::ssr::ctx()?.idp;
    let role = idp.staff(&s, allowed).await.map_err(crate::ssr::fail)?;
    Ok((s, idp, role))
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
            login_reset: f.state == idp::account::accounts::AccountState::LoginReset,
        }))
}

/// Whether the staff member may use the back office's paper forms.
#[server(endpoint = "admin_access")]
pub async fn admin_access() -> Result<bool, ApiError> {
    use idp::staff::Role;
    let (_, _, role) = staff_as(&[Role::Helpdesk, Role::BackOffice]).await?;
    Ok(role == Role::BackOffice)
}

/// A recorded paper form as the back office sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormView {
    pub id: i64,
    pub reference: String,
    pub scan_type: String,
    pub scan_size: i64,
    pub recorded_by: String,
    pub recorded_at: i64,
    pub state: FormState,
}

/// A paper form's state as the console shows it (the domain's, converted exhaustively).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormState {
    Recorded,
    Queued,
    Done,
}

impl FormState {
    /// The catalog key of its name.
    pub fn label(self) -> &'static str {
        match self {
            FormState::Recorded => "paper-state-recorded",
            FormState::Queued => "paper-state-queued",
            FormState::Done => "paper-state-done",
        }
    }
}

#[cfg(feature = "ssr")]
impl From<idp::recovery::paper_reset::FormState> for FormState {
    fn from(s: idp::recovery::paper_reset::FormState) -> Self {
        use idp::recovery::paper_reset::FormState as S;
        match s {
            S::Recorded => FormState::Recorded,
            S::Queued => FormState::Queued,
            S::Done => FormState::Done,
        }
    }
}

#[server(endpoint = "admin_paper_forms")]
pub async fn admin_paper_forms(account_id: i64) -> Result<Vec<FormView>, ApiError> {
    let (s, idp, _) = staff_as(&[idp::staff::Role::BackOffice]).await?;
    let forms = idp
        .paper_forms(&s, account_id)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(forms
        .into_iter()
        .map(|f| FormView {
            id: f.id,
            reference: f.reference,
            scan_type: f.scan_type,
            scan_size: f.scan_size,
            recorded_by: f.recorded_by,
            recorded_at: f.recorded_at,
            state: f.state.into(),
        })
        .collect())
}

/// Records a verified paper form: `account_id`, `reference` and the `scan` file, as
/// multipart form data. The scan is read up to one byte past the limit, the rest discarded.
#[server(endpoint = "admin_paper_form", input = server_fn::codec::MultipartFormData)]
pub async fn admin_paper_form(data: server_fn::codec::MultipartData) -> Result<i64, ApiError> {
    use idp::recovery::paper_reset::SCAN_MAX_BYTES;
    let (s, idp, _) = staff_as(&[idp::staff::Role::BackOffice]).await?;
    let unreadable = || crate::ssr::fail(idp::Error::invalid("scan", idp::Violation::Required));
    let mut data = data.into_inner().ok_or_else(unreadable)?;
    let mut account_id = None;
    let mut reference = String::new();
    let mut scan: Vec<u8> = Vec::new();
    while let Some(mut field) = data.next_field().await.map_err(|_| unreadable())? {
        match field.name() {
            Some("account_id") => {
                account_id = field
                    .text()
                    .await
                    .ok()
                    .and_then(|t| t.trim().parse::<i64>().ok());
            }
            Some("reference") => {
                reference = field
                    .text()
                    .await
                    .map_err(|_| unreadable())?
                    .chars()
                    .take(200)
                    .collect();
            }
            Some("scan") => {
                while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
                    let room = (SCAN_MAX_BYTES + 1).saturating_sub(scan.len());
                    scan.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
            }
            _ => {}
        }
    }
    let account_id = account_id.ok_or_else(|| crate::ssr::fail(idp::Error::NotFound))?;
    idp.record_paper_form(
        &s,
        account_id,
        &reference,
        &scan,
        &crate::ssr::request_info(),
    )
    .await
    .map_err(crate::ssr::fail)
}

/// Resets the login on a recorded form, or queues the reset while NIA is down.
#[server(endpoint = "admin_reset_login")]
pub async fn admin_reset_login(form_id: i64, queue: bool) -> Result<(), ApiError> {
    let (s, idp, _) = staff_as(&[idp::staff::Role::BackOffice]).await?;
    let info = crate::ssr::request_info();
    if queue {
        idp.queue_login_reset(&s, form_id, &info).await
    } else {
        let base = crate::ssr::ctx()?.public_url;
        idp.reset_login(&s, form_id, &base, &info).await
    }
    .map_err(crate::ssr::fail)
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
        let answers = idp::recovery::helpdesk::IdentityAnswers {
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
    view! {
        <Title text=t("admin-title") />
        <h1>{t("admin-title")}</h1>
        <crate::pages::support_console::HealthPanel />
        <AdminConsole />
    }
}

/// Finding an account and what staff do with it: an island (answers in place; the paper
/// form's scan is uploaded by the browser).
#[island]
fn AdminConsole() -> impl IntoView {
    crate::components::mark_island();
    let lang = use_lang();
    let access = Resource::new(|| (), |_| admin_access());
    let find = ServerAction::<AdminFind>::new();
    let check = ServerAction::<AdminCheck>::new();
    let unlink = ServerAction::<AdminUnlink>::new();
    let find_errors = form_error(find.value());
    let check_errors = form_error(check.value());
    view! {
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match access.await {
                    Err(ApiError::Forbidden) => view! { <p class="alert" role="alert">{t("admin-forbidden")}</p> }.into_any(),
                    Err(e) => crate::pages::settings::load_failed(e),
                    Ok(back_office) => view! {
                        <ActionForm action=find attr:class="form">
                            <ErrorSummary errors=find_errors />
                            <Field name="username" label="field-username" required=true errors=find_errors />
                            <Submit label="admin-find" pending=find.pending() />
                        </ActionForm>
                        {move || match find.value().get() {
                            Some(Ok(None)) => Some(view! { <p role="status">{t("admin-not-found")}</p> }.into_any()),
                            Some(Ok(Some(f))) => {
                                let id = f.id;
                                // the account's state is read again after an unlink or a reset
                                let changed = RwSignal::new(0u32);
                                let username = f.username.clone();
                                let found = f.clone();
                                let status = Resource::new(
                                    move || (unlink.version().get(), changed.get()),
                                    move |_| admin_find(username.clone()),
                                );
                                let logins = Resource::new(
                                    || (),
                                    move |_| crate::pages::nia_login::admin_nia_logins(id),
                                );
                                Some(view! {
                                    <section class="card" aria-labelledby="admin-account">
                                        <h2 id="admin-account">{f.username.clone()}</h2>
                                        <Transition fallback=|| ()>
                                            {move || {
                                                let found = found.clone();
                                                Suspend::new(async move {
                                                    let f = status.await.ok().flatten().unwrap_or(found);
                                                    view! {
                                                        <p>{if f.nia_linked { t("nia-state-linked") } else { t("nia-state-not-linked") }}</p>
                                                        {f.unlink_queued.then(|| view! { <p>{t("admin-queued")}</p> })}
                                                        {f.login_reset.then(|| view! { <p>{t("admin-login-reset")}</p> })}
                                                    }
                                                })
                                            }}
                                        </Transition>
                                        <h3>{t("nia-logins-title")}</h3>
                                        <Transition fallback=|| ()>
                                            {move || Suspend::new(async move {
                                                match logins.await {
                                                    Ok(rows) => view! { <crate::pages::nia_login::NiaLoginsTable rows /> }.into_any(),
                                                    Err(e) => crate::pages::settings::load_failed(e),
                                                }
                                            })}
                                        </Transition>
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
                                                <div role="status"><ul>{items}</ul></div>
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
                                            Some(Err(ApiError::StepUpRequired)) => Some(view! { <StaffStepUp /> }.into_any()),
                                            Some(Err(e)) => Some(view! { <p class="alert" role="alert">{e.summary(lang)}</p> }.into_any()),
                                            None => None,
                                        }}
                                        {back_office.then(|| view! { <PaperForms account_id=id changed /> })}
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

/// The back office's part of an account: record a verified paper form "Žádost o reset hesla
/// v MojeID" (reference number + scan) and reset the login on it.
#[component]
fn PaperForms(
    account_id: i64,
    /// Bumped when a reset went through (the account's state above is read again).
    changed: RwSignal<u32>,
) -> impl IntoView {
    let lang = use_lang();
    let recorded: RwSignal<Option<Result<i64, ApiError>>> = RwSignal::new(None);
    let uploading = RwSignal::new(false);
    let pending = Memo::new(move |_| uploading.get());
    let reset = ServerAction::<AdminResetLogin>::new();
    Effect::new(move |_| {
        if matches!(reset.value().get(), Some(Ok(()))) {
            changed.update(|n| *n += 1);
        }
    });
    let forms = Resource::new(
        move || (recorded.get(), reset.version().get()),
        move |_| admin_paper_forms(account_id),
    );
    let errors: crate::components::FormError =
        Signal::derive(move || recorded.get().and_then(|r| r.err()));
    let scan_error = Memo::new(move |_| errors.get().and_then(|e| e.field_message("scan", lang)));
    let outage = move || {
        matches!(
            reset.value().get(),
            Some(Err(ApiError::CannotDisableAuthenticator))
        )
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // the upload runs in the browser (staff always have the page hydrated: their login
        // needs WebAuthn)
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if uploading.get_untracked() {
                return;
            }
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            let Ok(data) = web_sys::FormData::new_with_form(&form) else {
                return;
            };
            uploading.set(true);
            leptos::task::spawn_local(async move {
                let r = admin_paper_form(data.into()).await;
                if r.is_ok() {
                    form.reset();
                }
                recorded.set(Some(r));
                uploading.set(false);
            });
        }
    };
    view! {
        <section aria-labelledby="paper-forms">
            <h3 id="paper-forms">{t("paper-title")}</h3>
            <p>{t("paper-intro")}</p>
            <form class="form" on:submit=on_submit novalidate=true>
                <ErrorSummary errors=errors />
                <input type="hidden" name="account_id" value=account_id />
                <Field name="reference" label="paper-reference" hint="paper-reference-hint" required=true errors=errors />
                <div class="field" class:invalid=move || scan_error.get().is_some()>
                    <label for="f-scan">{t("paper-scan")}</label>
                    <p class="hint" id="f-scan-hint">{t("paper-scan-hint")}</p>
                    <input
                        id="f-scan"
                        type="file"
                        name="scan"
                        accept="application/pdf,image/jpeg,image/png"
                        required=true
                        aria-invalid=move || scan_error.get().map(|_| "true")
                        aria-describedby=move || if scan_error.get().is_some() { "f-scan-hint f-scan-error" } else { "f-scan-hint" }
                    />
                    {move || scan_error.get().map(|m| view! { <p class="error" id="f-scan-error">{m}</p> })}
                </div>
                <Submit label="paper-record" pending=pending />
            </form>
            {move || matches!(recorded.get(), Some(Ok(_))).then(|| view! { <p class="notice" role="status">{t("paper-recorded")}</p> })}
            {move || match reset.value().get() {
                Some(Ok(())) => Some(view! { <p class="notice" role="status">{t("paper-reset-done")}</p> }.into_any()),
                Some(Err(ApiError::CannotDisableAuthenticator)) => Some(view! {
                    <div class="alert" role="alert">
                        <p>{t("err-cannot-disable")}</p>
                        <p>{t("paper-queue-hint")}</p>
                    </div>
                }.into_any()),
                Some(Err(ApiError::StepUpRequired)) => Some(view! { <StaffStepUp /> }.into_any()),
                Some(Err(e)) => Some(view! { <p class="alert" role="alert">{e.field_message("reference", lang).unwrap_or_else(|| e.summary(lang))}</p> }.into_any()),
                None => None,
            }}
            <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
                {move || Suspend::new(async move {
                    match forms.await {
                        Err(e) => crate::pages::settings::load_failed(e),
                        Ok(list) if list.is_empty() => view! { <p>{t("paper-none")}</p> }.into_any(),
                        Ok(list) => {
                            let rows = list.into_iter().map(|f| {
                                let id = f.id;
                                let waiting = f.state == FormState::Recorded;
                                view! {
                                    <tr>
                                        <th scope="row">{f.reference.clone()}</th>
                                        <td>{crate::i18n::format_date_time(lang, f.recorded_at)} " · " {f.recorded_by.clone()}</td>
                                        <td><a href=format!("/admin/paper-forms/{id}/scan") rel="external" download="">{t("paper-scan-link")}</a> {format!(" ({}, {} kB)", f.scan_type, (f.scan_size + 1023) / 1024)}</td>
                                        <td>{t(f.state.label())}</td>
                                        <td>
                                            {waiting.then(|| view! {
                                                <ActionForm action=reset>
                                                    <input type="hidden" name="form_id" value=id />
                                                    <input type="hidden" name="queue" value="false" />
                                                    <button type="submit">{t("paper-reset")}</button>
                                                </ActionForm>
                                                {move || outage().then(|| view! {
                                                    <ActionForm action=reset>
                                                        <input type="hidden" name="form_id" value=id />
                                                        <input type="hidden" name="queue" value="true" />
                                                        <button type="submit">{t("paper-queue")}</button>
                                                    </ActionForm>
                                                })}
                                            }.into_any())}
                                        </td>
                                    </tr>
                                }
                                .into_any()
                            }).collect_view();
                            view! {
                                <p>{t("paper-reset-text")}</p>
                                <table class="events">
                                    <caption>{t("paper-list")}</caption>
                                    <thead><tr>
                                        <th scope="col">{t("paper-reference")}</th>
                                        <th scope="col">{t("paper-col-recorded")}</th>
                                        <th scope="col">{t("paper-scan")}</th>
                                        <th scope="col">{t("paper-col-state")}</th>
                                        <th scope="col"><span class="visually-hidden">{t("paper-col-action")}</span></th>
                                    </tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
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
    from: String,
    to: String,
) -> Result<Vec<AuditView>, ApiError> {
    use crate::i18n::prague_day_start;
    let s = crate::ssr::current_session().await?;
    let idp = crate::ssr::ctx()?.idp;
    // whole days in Czech time: from the start of `from` to the end of `to`
    let mut bad = Vec::new();
    let mut day = |field: &str, value: &str| {
        if value.trim().is_empty() {
            return None;
        }
        let start = prague_day_start(value);
        if start.is_none() {
            bad.push(idp::FieldViolation::new(field, idp::Violation::DateInvalid));
        }
        start
    };
    let from_start = day("from", &from);
    let to_start = day("to", &to);
    if !bad.is_empty() {
        return Err(crate::ssr::fail(idp::Error::Invalid(bad)));
    }
    let filter = idp::audit::AuditFilter {
        username: Some(username),
        actor: Some(actor),
        event: Some(event),
        from: from_start,
        // the next day's start (DST days are 23 or 25 hours) minus a second
        to: to_start.map(|t| {
            crate::i18n::prague_day_start(&crate::i18n::next_day(&to)).unwrap_or(t + 86_400) - 1
        }),
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
        move || {
            (
                get("username"),
                get("actor"),
                get("event"),
                get("from"),
                get("to"),
            )
        },
        |(u, a, e, f, to)| admin_audit(u, a, e, f, to),
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
            <label for="a-from">{t("audit-from")}</label>
            <input id="a-from" name="from" type="date" value=get("from") />
            <label for="a-to">{t("audit-to")}</label>
            <input id="a-to" name="to" type="date" value=get("to") />
            <button type="submit">{t("audit-filter")}</button>
        </form>
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(ApiError::Forbidden) => view! { <p class="alert" role="alert">{t("audit-forbidden")}</p> }.into_any(),
                    Err(e @ ApiError::Invalid(_)) => view! {
                        <p class="alert" role="alert">
                            {["from", "to"].iter().filter_map(|f| e.field_message(f, lang)).collect::<Vec<_>>().join(" ")}
                        </p>
                    }.into_any(),
                    Err(e) => crate::pages::settings::load_failed(e),
                    Ok(rows) => {
                        let rows = rows.into_iter().map(|r| view! {
                            <tr>
                                <td>{crate::i18n::format_date_time(lang, r.at)}</td>
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

/// Unlinking, resetting a login and reading a scan need a key login of the last few minutes:
/// what to do when the one at the start of the shift is too old.
#[component]
fn StaffStepUp() -> impl IntoView {
    view! {
        <div class="alert" role="alert">
            <p>{t("admin-step-up")}</p>
            <p><a href="/reauth?next=%2Fadmin">{t("password-log-in-again")}</a></p>
        </div>
    }
}

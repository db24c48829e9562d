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
    let id = idp
        .record_paper_form(
            &s,
            account_id,
            &reference,
            &scan,
            &crate::ssr::request_info(),
        )
        .await
        .map_err(crate::ssr::fail)?;
    back_to_console(&[("recorded", "1")]);
    Ok(id)
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
    .map_err(crate::ssr::fail)?;
    back_to_console(&[("reset", "1")]);
    Ok(())
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
        let results: Vec<(String, bool)> = r
            .matched
            .into_iter()
            .map(|m| (m, true))
            .chain(r.missed.into_iter().map(|m| (m, false)))
            .collect();
        // which answers matched (never the data): for the console's address
        let said: Vec<String> = results
            .iter()
            .map(|(q, ok)| format!("{q}:{}", u8::from(*ok)))
            .collect();
        back_to_console(&[("checked", &said.join(","))]);
        Ok(results)
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
    .map_err(crate::ssr::fail)?;
    back_to_console(&[("unlinked", "1")]);
    Ok(())
}

/// After a plain post of the console: back to the account the console showed (the page's
/// address, which the Referer carries, names it) with what the step did (`done`).
#[cfg(feature = "ssr")]
fn back_to_console(done: &[(&str, &str)]) {
    let account = use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::REFERER)?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .and_then(|r| url::Url::parse(&r).ok())
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "account")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    let mut to = url::form_urlencoded::Serializer::new(String::new());
    to.append_pair("account", &account);
    for (k, v) in done {
        to.append_pair(k, v);
    }
    crate::ssr::redirect_plain_form(&format!("/admin?{}", to.finish()));
}

/// The error a plain post of server function `path` came back with (in the page's address),
/// for forms that have no `ServerAction` (the multipart upload).
fn refused_by(path: &str) -> Option<ApiError> {
    use leptos::server::ServerActionError;
    use server_fn::error::ServerFnUrlError;
    use_context::<ServerActionError>()
        .filter(|e| e.path() == path)
        .map(|e| ServerFnUrlError::<ApiError>::decode_err(e.err()))
}

/// The identity questions, as `check_identity` names them.
const QUESTIONS: [&str; 6] = [
    "first_name",
    "last_name",
    "birth_date",
    "permanent_address",
    "email",
    "phone",
];

/// What the console's address says: the account shown and the outcome of the last step.
#[derive(Clone, Debug, Default)]
struct ConsoleState {
    account: String,
    /// The identity questions' results (`question:1` or `question:0`, comma-separated).
    checked: Option<Vec<(String, bool)>>,
    unlinked: bool,
    recorded: bool,
    reset: bool,
}

impl ConsoleState {
    fn from_query() -> Self {
        let query = leptos_router::hooks::use_query_map();
        let q = query.read_untracked();
        // the address is only what to show: the server decides on an unlink by its own
        // record of the check; a question it does not know is not shown at all
        let checked = q.get("checked").map(|c| {
            c.split(',')
                .filter_map(|pair| {
                    let (question, ok) = pair.split_once(':')?;
                    QUESTIONS
                        .contains(&question)
                        .then(|| (question.to_owned(), ok == "1"))
                })
                .collect()
        });
        ConsoleState {
            account: q.get("account").unwrap_or_default().trim().to_owned(),
            checked,
            unlinked: q.get("unlinked").is_some(),
            recorded: q.get("recorded").is_some(),
            reset: q.get("reset").is_some(),
        }
    }
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

/// Finding an account (a plain GET form: the address names the account shown) and what staff
/// do with it: plain posts, each answered by the console again with its outcome.
#[component]
fn AdminConsole() -> impl IntoView {
    let access = Resource::new(|| (), |_| admin_access());
    let state = StoredValue::new(ConsoleState::from_query());
    let none: crate::components::FormError = Signal::derive(|| None);
    view! {
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match access.await {
                    Err(ApiError::Forbidden) => view! { <p class="alert" role="alert">{t("admin-forbidden")}</p> }.into_any(),
                    Err(e) => crate::pages::settings::load_failed(e),
                    Ok(back_office) => {
                        let state = state.get_value();
                        let found = match state.account.is_empty() {
                            true => None,
                            false => Some(admin_find(state.account.clone()).await),
                        };
                        view! {
                            <form method="get" action="/admin" class="form">
                                <Field name="account" label="field-username" value=state.account.clone() required=true errors=none />
                                <button type="submit">{t("admin-find")}</button>
                            </form>
                            {match found {
                                None => None,
                                Some(Err(e)) => Some(view! { <p class="alert" role="alert">{e.summary(use_lang())}</p> }.into_any()),
                                Some(Ok(None)) => Some(view! { <p role="status">{t("admin-not-found")}</p> }.into_any()),
                                Some(Ok(Some(f))) => {
                                    let logins = crate::pages::nia_login::admin_nia_logins(f.id).await;
                                    Some(view! { <AccountCard f logins state back_office /> }.into_any())
                                }
                            }}
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// One account: its state, its logins to government services, the identity questions and
/// the unlink they allow, and (for the back office) the paper forms.
#[component]
fn AccountCard(
    f: FoundView,
    logins: Result<Vec<crate::pages::nia_login::NiaLoginRow>, ApiError>,
    state: ConsoleState,
    back_office: bool,
) -> impl IntoView {
    let lang = use_lang();
    let check = ServerAction::<AdminCheck>::new();
    let unlink = ServerAction::<AdminUnlink>::new();
    let check_errors = form_error(check.value());
    let id = f.id;
    let results = state.checked.clone().map(|results| {
        let all = !results.is_empty() && results.iter().all(|r| r.1);
        let items = results
            .into_iter()
            .map(|(q, ok)| {
                view! {
                    <li>{t(&format!("admin-q-{q}"))} ": " <strong>{if ok { t("admin-match") } else { t("admin-no-match") }}</strong></li>
                }
            })
            .collect_view();
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
    });
    let unlinked = match (state.unlinked, unlink.value().get_untracked()) {
        (true, _) => {
            Some(view! { <p class="notice" role="status">{t("admin-unlinked")}</p> }.into_any())
        }
        (false, Some(Err(ApiError::CannotDisableAuthenticator))) => Some(
            view! {
                <div class="alert" role="alert">
                    <p>{t("err-cannot-disable")}</p>
                    <p>{t("admin-queue-hint")}</p>
                </div>
                <ActionForm action=unlink>
                    <input type="hidden" name="account_id" value=id />
                    <input type="hidden" name="queue" value="true" />
                    <button type="submit">{t("admin-queue")}</button>
                </ActionForm>
            }
            .into_any(),
        ),
        (false, Some(Err(ApiError::StepUpRequired))) => Some(view! { <StaffStepUp /> }.into_any()),
        (false, Some(Err(e))) => {
            Some(view! { <p class="alert" role="alert">{e.summary(lang)}</p> }.into_any())
        }
        (false, _) => None,
    };
    view! {
        <section class="card" aria-labelledby="admin-account">
            <h2 id="admin-account">{f.username.clone()}</h2>
            <p>{if f.nia_linked { t("nia-state-linked") } else { t("nia-state-not-linked") }}</p>
            {f.unlink_queued.then(|| view! { <p>{t("admin-queued")}</p> })}
            {f.login_reset.then(|| view! { <p>{t("admin-login-reset")}</p> })}
            <h3>{t("nia-logins-title")}</h3>
            {match logins {
                Ok(rows) => view! { <crate::pages::nia_login::NiaLoginsTable rows /> }.into_any(),
                Err(e) => crate::pages::settings::load_failed(e),
            }}
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
            {results}
            {unlinked}
            {back_office.then(|| view! { <PaperForms account_id=id recorded=state.recorded reset_done=state.reset /> })}
        </section>
    }
}

/// The back office's part of an account: record a verified paper form "Žádost o reset hesla
/// v MojeID" (reference number + scan, a plain multipart post) and reset the login on it.
#[component]
fn PaperForms(account_id: i64, recorded: bool, reset_done: bool) -> impl IntoView {
    use server_fn::ServerFn;
    let lang = use_lang();
    let reset = ServerAction::<AdminResetLogin>::new();
    let forms = Resource::new(|| (), move |_| admin_paper_forms(account_id));
    let upload_path = <AdminPaperForm as ServerFn>::PATH;
    let refused = refused_by(upload_path);
    let errors: crate::components::FormError = Signal::derive({
        let refused = refused.clone();
        move || refused.clone()
    });
    let scan_error = refused.as_ref().and_then(|e| e.field_message("scan", lang));
    let reset_refusal = reset.value().get_untracked().and_then(|r| r.err());
    let outage = matches!(reset_refusal, Some(ApiError::CannotDisableAuthenticator));
    let reset_said = match (reset_done, reset_refusal) {
        (true, _) => Some(view! { <p class="notice" role="status">{t("paper-reset-done")}</p> }.into_any()),
        (false, Some(ApiError::CannotDisableAuthenticator)) => Some(view! {
            <div class="alert" role="alert">
                <p>{t("err-cannot-disable")}</p>
                <p>{t("paper-queue-hint")}</p>
            </div>
        }.into_any()),
        (false, Some(ApiError::StepUpRequired)) => Some(view! { <StaffStepUp /> }.into_any()),
        (false, Some(e)) => Some(view! { <p class="alert" role="alert">{e.field_message("reference", lang).unwrap_or_else(|| e.summary(lang))}</p> }.into_any()),
        (false, None) => None,
    };
    let scan_described = match scan_error.is_some() {
        true => "f-scan-hint f-scan-error",
        false => "f-scan-hint",
    };
    view! {
        <section aria-labelledby="paper-forms">
            <h3 id="paper-forms">{t("paper-title")}</h3>
            <p>{t("paper-intro")}</p>
            <form class="form" method="post" action=upload_path enctype="multipart/form-data" novalidate=true>
                <ErrorSummary errors=errors />
                <input type="hidden" name="account_id" value=account_id />
                <Field name="reference" label="paper-reference" hint="paper-reference-hint" required=true errors=errors />
                <div class="field" class:invalid=scan_error.is_some()>
                    <label for="f-scan">{t("paper-scan")}</label>
                    <p class="hint" id="f-scan-hint">{t("paper-scan-hint")}</p>
                    <input
                        id="f-scan"
                        type="file"
                        name="scan"
                        accept="application/pdf,image/jpeg,image/png"
                        required=true
                        aria-invalid=scan_error.is_some().then_some("true")
                        aria-describedby=scan_described
                    />
                    {scan_error.clone().map(|m| view! { <p class="error" id="f-scan-error">{m}</p> })}
                </div>
                <button type="submit">{t("paper-record")}</button>
            </form>
            {recorded.then(|| view! { <p class="notice" role="status">{t("paper-recorded")}</p> })}
            {reset_said}
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
                                                {outage.then(|| view! {
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

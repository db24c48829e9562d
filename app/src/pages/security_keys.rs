//! `/settings/2fa/security-keys`: the account's security keys with their certification level,
//! and adding one (attestation `direct`). Once an account has a key, logging in needs it.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
#[cfg(feature = "ssr")]
use crate::error::{FieldCode, FieldError};
use crate::i18n::{format_date, t, tr_args, use_lang};

/// What kind of authenticator a key is, as the pages name it (the domain's `KeyKind`,
/// converted exhaustively: a new kind does not compile until it has a name here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyKind {
    Hardware,
    WindowsHello,
    Android,
    Apple,
    Unknown,
}

impl KeyKind {
    /// The catalog key of its name.
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::Hardware => "kind-hardware",
            KeyKind::WindowsHello => "kind-windows_hello",
            KeyKind::Android => "kind-android",
            KeyKind::Apple => "kind-apple",
            KeyKind::Unknown => "kind-unknown",
        }
    }
}

#[cfg(feature = "ssr")]
impl From<idp::keys::attestation::KeyKind> for KeyKind {
    fn from(k: idp::keys::attestation::KeyKind) -> Self {
        use idp::keys::attestation::KeyKind as K;
        match k {
            K::Hardware => KeyKind::Hardware,
            K::WindowsHello => KeyKind::WindowsHello,
            K::Android => KeyKind::Android,
            K::Apple => KeyKind::Apple,
            K::Unknown => KeyKind::Unknown,
        }
    }
}

/// A FIDO certification level as the pages show it (the domain's `Level`, converted
/// exhaustively).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    NotCertified,
    Certified,
    L1,
    L1Plus,
    L2,
    L2Plus,
    L3,
    L3Plus,
}

impl Level {
    /// The FIDO Alliance's name, as the help page writes it.
    pub fn fido_name(self) -> &'static str {
        match self {
            Level::NotCertified => "NOT_FIDO_CERTIFIED",
            Level::Certified => "FIDO_CERTIFIED",
            Level::L1 => "FIDO_CERTIFIED_L1",
            Level::L1Plus => "FIDO_CERTIFIED_L1plus",
            Level::L2 => "FIDO_CERTIFIED_L2",
            Level::L2Plus => "FIDO_CERTIFIED_L2plus",
            Level::L3 => "FIDO_CERTIFIED_L3",
            Level::L3Plus => "FIDO_CERTIFIED_L3plus",
        }
    }
}

#[cfg(feature = "ssr")]
impl From<idp::keys::mds::Level> for Level {
    fn from(l: idp::keys::mds::Level) -> Self {
        use idp::keys::mds::Level as L;
        match l {
            L::NotCertified => Level::NotCertified,
            L::Certified => Level::Certified,
            L::L1 => Level::L1,
            L::L1Plus => Level::L1Plus,
            L::L2 => Level::L2,
            L::L2Plus => Level::L2Plus,
            L::L3 => Level::L3,
            L::L3Plus => Level::L3Plus,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    pub id: i64,
    pub name: String,
    pub model: Option<String>,
    pub kind: KeyKind,
    pub level: Level,
    pub nia_eligible: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Why it cannot serve NIA: catalog keys with an argument each.
    pub reasons: Vec<(String, String)>,
    /// Registered at NIA as a means.
    pub nia_linked: bool,
}

#[cfg(feature = "ssr")]
impl From<idp::keys::SecurityKey> for KeyView {
    fn from(k: idp::keys::SecurityKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            model: k.model,
            kind: k.kind.into(),
            level: k.level.into(),
            nia_eligible: k.nia_eligible,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            nia_linked: k.nia_linked,
            reasons: k
                .reasons
                .iter()
                .map(crate::pages::key_check::reason_message)
                .collect(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AddKeyTicket {
    pub ticket: String,
    pub options: webauthn_rs_proto::CreationChallengeResponse,
}

#[server(endpoint = "security_keys")]
pub async fn security_keys() -> Result<Vec<KeyView>, ApiError> {
    let s = crate::ssr::current_session().await?;
    let keys = crate::ssr::ctx()?
        .idp
        .security_keys(s.account_id)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(keys.into_iter().map(Into::into).collect())
}

#[cfg(feature = "ssr")]
fn name_error(code: FieldCode) -> ApiError {
    ApiError::Invalid(vec![FieldError {
        field: "name".into(),
        code,
    }])
}

#[server(endpoint = "add_key_start")]
pub async fn add_key_start(name: String) -> Result<AddKeyTicket, ApiError> {
    let s = crate::ssr::current_session().await?;
    match idp::account::validate::optional_text(&name, idp::keys::NAME_MAX) {
        Ok(Some(_)) => {}
        Ok(None) => return Err(name_error(FieldCode::Required)),
        Err(_) => {
            return Err(name_error(FieldCode::TooLong {
                max: idp::keys::NAME_MAX,
            }))
        }
    }
    let origin = crate::ssr::request_origin()?;
    let (ticket, options) = crate::ssr::ctx()?
        .idp
        .start_add_key(&s.caller(&crate::ssr::request_info()), &origin)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(AddKeyTicket { ticket, options })
}

/// `credential`: the browser's `PublicKeyCredential` as JSON text.
#[server(endpoint = "add_key_finish")]
pub async fn add_key_finish(
    ticket: String,
    name: String,
    credential: String,
) -> Result<KeyView, ApiError> {
    let s = crate::ssr::current_session().await?;
    let credential: serde_json::Value =
        serde_json::from_str(&credential).unwrap_or(serde_json::Value::Null);
    let (k, _) = match crate::ssr::ctx()?
        .idp
        .finish_add_key(
            &s.caller(&crate::ssr::request_info()),
            &ticket,
            &name,
            &credential,
        )
        .await
    {
        Ok(done) => done,
        Err(idp::Error::NotFound) => return Err(ApiError::NotAuthenticated),
        Err(e) => return Err(crate::ssr::fail(e)),
    };
    Ok(k.into())
}

#[server(endpoint = "rename_key")]
pub async fn rename_key(id: i64, name: String) -> Result<String, ApiError> {
    let s = crate::ssr::current_session().await?;
    crate::ssr::ctx()?
        .idp
        .rename_key(
            s.account_id,
            &s.username,
            id,
            &name,
            &crate::ssr::request_info(),
        )
        .await
        .map_err(crate::ssr::fail)
}

/// Removes a key; needs a fresh step-up (password + key), else `StepUpRequired`.
#[server(endpoint = "remove_key")]
pub async fn remove_key(id: i64) -> Result<usize, ApiError> {
    let s = crate::ssr::current_session().await?;
    crate::ssr::ctx()?
        .idp
        .remove_key(&s.caller(&crate::ssr::request_info()), id, None)
        .await
        .map_err(crate::ssr::fail)
}

const HERE: &str = "/settings/2fa/security-keys";

/// To `/reauth`, and back here afterwards.
fn go_step_up() {
    let next = percent_encoding::utf8_percent_encode(HERE, percent_encoding::NON_ALPHANUMERIC);
    let _ = window().location().assign(&format!("/reauth?next={next}"));
}

/// To a new login made for removing key `id` (one linked to NIA), which removes it.
fn go_remove_after_login(id: i64) {
    let next = percent_encoding::utf8_percent_encode(HERE, percent_encoding::NON_ALPHANUMERIC);
    let _ = window()
        .location()
        .assign(&format!("/reauth?action=remove_key:{id}&next={next}"));
}

/// One key of the list, with renaming and (confirmed) removal.
#[component]
fn KeyRow(
    k: KeyView,
    version: RwSignal<u32>,
    count: usize,
    nia_count: usize,
    /// Why the last removal of this key failed (after the login made for it).
    failed: Option<String>,
) -> impl IntoView {
    let lang = use_lang();
    let id = k.id;
    let renaming = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let new_name = RwSignal::new(k.name.clone());
    let error = RwSignal::new(failed);
    let nia_linked = k.nia_linked;
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            match rename_key(id, new_name.get_untracked()).await {
                Ok(_) => {
                    renaming.set(false);
                    error.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(
                    e.field_message("name", lang)
                        .unwrap_or_else(|| e.summary(lang)),
                )),
            }
        });
    };
    let remove = move |_| {
        // a key linked to NIA is removed by a new login made for it
        if nia_linked {
            go_remove_after_login(id);
            return;
        }
        leptos::task::spawn_local(async move {
            match remove_key(id).await {
                Ok(_) => version.update(|v| *v += 1),
                Err(ApiError::StepUpRequired) => go_step_up(),
                Err(ApiError::ActionLoginRequired) => go_remove_after_login(id),
                Err(e) => error.set(Some(e.summary(lang))),
            }
        });
    };
    let error_id = format!("key-error-{id}");
    let last = count == 1;
    let name = k.name.clone();
    let confirm_text = crate::i18n::tr_args(
        lang,
        if k.nia_linked && nia_count == 1 {
            "keys-remove-confirm-nia-last"
        } else if k.nia_linked {
            "keys-remove-confirm-nia"
        } else if last {
            "keys-remove-confirm-last"
        } else {
            "keys-remove-confirm"
        },
        &[("name", name.clone().into())],
    );
    view! {
        <tr>
            <th scope="row">
                <Show when=move || renaming.get() fallback={
                    let name = name.clone();
                    move || name.clone()
                }>
                    <form class="inline-row" on:submit=save>
                        <label class="visually-hidden" for=format!("rename-{id}")>{t("keys-name")}</label>
                        <input
                            id=format!("rename-{id}")
                            type="text"
                            maxlength="60"
                            prop:value=move || new_name.get()
                            on:input=move |ev| new_name.set(event_target_value(&ev))
                        />
                        <button type="submit">{t("keys-save")}</button>
                        <button type="button" class="secondary" on:click=move |_| renaming.set(false)>{t("keys-cancel")}</button>
                    </form>
                </Show>
            </th>
            <td>{k.model.clone().unwrap_or_else(|| t("check-model-unknown"))}</td>
            <td>{t(k.kind.label())}</td>
            <td>{k.level.fido_name()}</td>
            <td>
                {if k.nia_eligible { t("check-nia-yes") } else { t("check-nia-no") }}
                {k.nia_linked.then(|| view! { " (" {t("keys-nia-linked")} ")" })}
                {(!k.reasons.is_empty()).then(|| view! {
                    <ul class="reasons">
                        {k.reasons.iter().map(|(key, arg)| view! {
                            <li>{tr_args(lang, key, &[("detail", arg.clone().into())])}</li>
                        }).collect_view()}
                    </ul>
                })}
            </td>
            <td>{format_date(lang, k.created_at)}</td>
            <td>{k.last_used_at.map(|at| format_date(lang, at)).unwrap_or_else(|| t("keys-never"))}</td>
            <td class="actions">
                <Show when=move || confirming.get() fallback={
                    let error_id = error_id.clone();
                    move || view! {
                        <div class="button-row">
                            <button type="button" class="secondary" on:click=move |_| renaming.set(true)>{t("keys-rename")}</button>
                            <button
                                type="button"
                                class="secondary"
                                aria-describedby=error.get().map(|_| error_id.clone())
                                on:click=move |_| confirming.set(true)
                            >{t("keys-remove")}</button>
                        </div>
                    }
                }>
                    <p>{confirm_text.clone()}</p>
                    <div class="button-row">
                        <button type="button" on:click=remove>{t("keys-remove-yes")}</button>
                        <button type="button" class="secondary" on:click=move |_| confirming.set(false)>{t("keys-cancel")}</button>
                    </div>
                </Show>
                // said beside the row's buttons, not in its header cell (which names the row)
                <div role="status" id=format!("key-error-{id}")>
                    {move || error.get().map(|m| view! { <p class="error">{m}</p> })}
                </div>
            </td>
        </tr>
    }
    .into_any()
}

#[component]
pub fn SecurityKeysPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let q = query.read_untracked();
    let removed = q.get("removed").is_some();
    // the key whose removal NIA could not confirm (after the login made for it)
    let cannot_disable = q.get("cannot_disable").and_then(|v| v.parse::<i64>().ok());
    view! {
        <Title text=t("keys-title") />
        <h1>{t("keys-title")}</h1>
        <p>{t("keys-intro")}</p>
        <ul class="advice">
            <li>{t("keys-advice-several")}</li>
            <li>{t("keys-advice-browser")}</li>
        </ul>
        <KeysEditor removed cannot_disable />
        <p>
            <a href="/settings">{t("back-to-settings")}</a>
        </p>
    }
}

/// The list with renaming and removal, and the form that adds a key: an island (adding a
/// key is the browser's WebAuthn ceremony).
#[island]
fn KeysEditor(removed: bool, cannot_disable: Option<i64>) -> impl IntoView {
    let lang = use_lang();
    let version = RwSignal::new(0u32);
    let keys = Resource::new(move || version.get(), |_| security_keys());
    let name = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let browser_error = RwSignal::new(None::<String>);
    let added = RwSignal::new(None::<KeyView>);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        browser_error.set(None);
        added.set(None);
        let key_name = name.get_untracked();
        leptos::task::spawn_local(async move {
            let result = async {
                let start = add_key_start(key_name.clone()).await.map_err(Ok)?;
                let credential = crate::webauthn::create(start.options).await.map_err(Err)?;
                add_key_finish(start.ticket, key_name, credential)
                    .await
                    .map_err(Ok)
            }
            .await;
            match result {
                Ok(k) => {
                    added.set(Some(k));
                    name.set(String::new());
                    version.update(|v| *v += 1);
                }
                // a further key needs a fresh login with a key: step up and come back
                Err(Ok(ApiError::StepUpRequired)) => go_step_up(),
                Err(Ok(api)) => error.set(Some(api)),
                Err(Err(browser)) => {
                    browser_error.set(Some(crate::i18n::tr(lang, browser.message_key())))
                }
            }
            busy.set(false);
        });
    };
    let form_errors = Signal::derive(move || error.get());
    let name_message = Memo::new(move |_| {
        error.get().and_then(|e| {
            e.field_message("name", lang)
                .or_else(|| e.field_message("key", lang))
        })
    });
    view! {
        <div role="status" class="status-slot">
            {removed.then(|| view! { <p class="notice">{t("keys-removed")}</p> })}
            {move || added.get().map(|k| {
                let verdict = if k.nia_eligible { t("keys-added-eligible") } else { t("keys-added-not-eligible") };
                let why = (!k.nia_eligible).then(|| view! {
                    <ul class="reasons">
                        {k.reasons.iter().map(|(key, arg)| view! { <li>{tr_args(lang, key, &[("detail", arg.clone().into())])}</li> }).collect_view()}
                    </ul>
                    <p><a href="/help">{t("keys-what-to-do")}</a></p>
                });
                view! { <p class="notice">{format!("{} {} ({})", t("keys-added"), verdict, k.level.fido_name())}</p> {why} }
            })}
        </div>
        <Transition fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Err(e) => super::settings::load_failed(e),
                    Ok(list) if list.is_empty() => view! { <p>{t("keys-none")}</p> }.into_any(),
                    Ok(list) => view! {
                        <KeyWarnings kinds=list.iter().map(|k| k.kind).collect() />
                        <div class="table-wrap">
                            <table class="models">
                                <caption>{t("keys-caption")}</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">{t("keys-col-name")}</th>
                                        <th scope="col">{t("check-model")}</th>
                                        <th scope="col">{t("check-kind")}</th>
                                        <th scope="col">{t("certified-col-level")}</th>
                                        <th scope="col">{t("certified-col-nia")}</th>
                                        <th scope="col">{t("keys-col-added")}</th>
                                        <th scope="col">{t("keys-col-used")}</th>
                                        <th scope="col">{t("keys-col-actions")}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {
                                        let count = list.len();
                                        let nia_count = list.iter().filter(|k| k.nia_linked).count();
                                        let failed_id = cannot_disable;
                                        list.into_iter().map(|k| {
                                            let failed = (failed_id == Some(k.id)).then(|| t("err-cannot-disable"));
                                            view! { <KeyRow k version count nia_count failed /> }
                                        }).collect_view()
                                    }
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
        <h2>{t("keys-add-title")}</h2>
        <form class="form" on:submit=add novalidate>
            <ErrorSummaryFor errors=form_errors browser=browser_error />
            <div class="field" class:invalid=move || name_message.get().is_some()>
                <label for="f-key-name">{t("keys-name")}</label>
                <p class="hint" id="f-key-name-hint">{t("keys-name-hint")}</p>
                <input
                    id="f-key-name"
                    name="name"
                    type="text"
                    maxlength="60"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    aria-invalid=move || name_message.get().is_some().then_some("true")
                    aria-describedby=move || if name_message.get().is_some() { "f-key-name-hint f-key-name-error" } else { "f-key-name-hint" }
                />
                {move || name_message.get().map(|m| view! { <p class="error" id="f-key-name-error">{m}</p> })}
            </div>
            <button type="submit" aria-disabled=move || busy.get().then_some("true")>
                {move || if busy.get() { t("check-waiting") } else { t("keys-add") }}
            </button>
        </form>
    }
}

/// The form's alert: an error from the server, or the browser's failure to get an answer.
#[component]
fn ErrorSummaryFor(
    errors: Signal<Option<ApiError>>,
    browser: RwSignal<Option<String>>,
) -> impl IntoView {
    // the device sent data out of specification: the help page's advice, where it happens
    let incorrect_data = move || {
        matches!(errors.get(), Some(ApiError::Invalid(v))
            if v.iter().any(|f| f.code == crate::error::FieldCode::KeyDataIncorrect))
    };
    view! {
        <crate::components::ErrorSummary errors />
        {move || browser.get().map(|m| view! { <p class="alert" role="alert">{m}</p> })}
        {move || incorrect_data().then(|| view! {
            <p>{t("help-incorrect-text")} " " <a href="/help#incorrect-data">{t("keys-what-to-do")}</a></p>
        })}
    }
}

/// Which of the help page's warnings apply to an account with keys of these kinds: (catalog
/// key of the text, anchor on `/help`). Windows Hello beside a hardware key; only system keys
/// (logins tied to one device); an Apple device.
pub fn key_warnings(kinds: &[KeyKind]) -> Vec<(&'static str, &'static str)> {
    let has = |k: KeyKind| kinds.contains(&k);
    let mut warnings = Vec::new();
    if has(KeyKind::WindowsHello) && has(KeyKind::Hardware) {
        warnings.push(("help-hello-text", "hello-and-keys"));
    }
    let system = |k: &KeyKind| matches!(k, KeyKind::WindowsHello | KeyKind::Android);
    if !kinds.is_empty() && kinds.iter().all(system) {
        warnings.push(("help-system-text", "one-system-key"));
    }
    if has(KeyKind::Apple) {
        warnings.push(("help-apple-text", "apple"));
    }
    warnings
}

#[component]
fn KeyWarnings(kinds: Vec<KeyKind>) -> impl IntoView {
    key_warnings(&kinds)
        .into_iter()
        .map(|(text, anchor)| {
            view! {
                <div class="warning" role="note">
                    <p>{t(text)} " " <a href=format!("/help#{anchor}")>{t("keys-what-to-do")}</a></p>
                </div>
            }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::{key_warnings, KeyKind::*};

    #[test]
    fn warnings_concern_only_the_accounts_they_apply_to() {
        assert_eq!(key_warnings(&[Hardware]), vec![]);
        assert_eq!(key_warnings(&[Hardware, Hardware]), vec![]);
        assert_eq!(key_warnings(&[]), vec![]);
        assert_eq!(
            key_warnings(&[WindowsHello, Hardware]),
            vec![("help-hello-text", "hello-and-keys")]
        );
        assert_eq!(
            key_warnings(&[WindowsHello]),
            vec![("help-system-text", "one-system-key")]
        );
        assert_eq!(
            key_warnings(&[Android, WindowsHello]),
            vec![("help-system-text", "one-system-key")]
        );
        assert_eq!(key_warnings(&[Android, Hardware]), vec![]);
        assert_eq!(
            key_warnings(&[Apple, Hardware]),
            vec![("help-apple-text", "apple")]
        );
    }
}

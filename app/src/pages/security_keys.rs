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

/// `credential`: the browser's new credential (`RegisterPublicKeyCredential`) as JSON text.
/// The answer is where the browser goes: the list, with the key added.
#[server(endpoint = "add_key_finish")]
pub async fn add_key_finish(
    ticket: String,
    name: String,
    credential: String,
) -> Result<String, ApiError> {
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
    super::key_step::end_key_add()?;
    Ok(format!("{HERE}?added={}", k.id))
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

pub(crate) const HERE: &str = "/settings/2fa/security-keys";

/// The step-up page, and back here afterwards; with `remove`, the login made for removing
/// that key (one linked to NIA), which removes it.
#[cfg(feature = "ssr")]
fn step_up_url(remove: Option<i64>) -> String {
    let next = percent_encoding::utf8_percent_encode(HERE, percent_encoding::NON_ALPHANUMERIC);
    match remove {
        Some(id) => format!("/reauth?action=remove_key:{id}&next={next}"),
        None => format!("/reauth?next={next}"),
    }
}

/// The plain form's first step of adding a key: the name is checked, the challenge made, and
/// the browser sent to the page where the key answers it (`/add`). A further key needs a
/// fresh login with a key: the step-up first, then back here.
#[server(endpoint = "add_key_begin")]
pub async fn add_key_begin(name: String) -> Result<(), ApiError> {
    match add_key_start(name.clone()).await {
        Ok(started) => {
            super::key_step::hand_to_key_add(started.ticket, started.options, &name).await
        }
        Err(ApiError::StepUpRequired) => {
            leptos_axum::redirect(&step_up_url(None));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The plain form that renames a key; back to the list when done.
#[server(endpoint = "rename_key_form")]
pub async fn rename_key_form(id: i64, name: String) -> Result<(), ApiError> {
    rename_key(id, name).await?;
    crate::ssr::redirect_plain_form(HERE);
    Ok(())
}

/// The plain form that removes a key after its confirmation: a step-up or a login made for it
/// first when the server asks for one.
#[server(endpoint = "remove_key_form")]
pub async fn remove_key_form(id: i64) -> Result<(), ApiError> {
    match remove_key(id).await {
        Ok(_) => leptos_axum::redirect(&format!("{HERE}?removed=1")),
        // a key linked to NIA is removed by a login made for it: one login, not two
        Err(ApiError::StepUpRequired) => {
            let linked = security_keys()
                .await?
                .iter()
                .any(|k| k.id == id && k.nia_linked);
            leptos_axum::redirect(&step_up_url(linked.then_some(id)))
        }
        Err(ApiError::ActionLoginRequired) => leptos_axum::redirect(&step_up_url(Some(id))),
        Err(e) => return Err(e),
    }
    Ok(())
}

/// What the list shows of one row besides its facts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RowMode {
    Plain,
    Renaming,
    ConfirmingRemoval,
}

/// One key of the list. Renaming and removal are plain forms reached by links (`?rename=`,
/// `?remove=` with its confirmation), so that the page needs no script.
#[component]
fn KeyRow(
    k: KeyView,
    mode: RowMode,
    count: usize,
    nia_count: usize,
    /// Why the last removal of this key failed (after the login made for it).
    failed: Option<String>,
    rename: ServerAction<RenameKeyForm>,
    remove: ServerAction<RemoveKeyForm>,
) -> impl IntoView {
    let lang = use_lang();
    let id = k.id;
    let rename_errors = crate::components::form_error(rename.value());
    let remove_error = Signal::derive(move || remove.value().get().and_then(|r| r.err()));
    let confirm_text = crate::i18n::tr_args(
        lang,
        if k.nia_linked && nia_count == 1 {
            "keys-remove-confirm-nia-last"
        } else if k.nia_linked {
            "keys-remove-confirm-nia"
        } else if count == 1 {
            "keys-remove-confirm-last"
        } else {
            "keys-remove-confirm"
        },
        &[("name", k.name.clone().into())],
    );
    let error_id = format!("key-error-{id}");
    let error = failed.or_else(|| {
        (mode == RowMode::ConfirmingRemoval)
            .then(|| remove_error.get_untracked().map(|e| e.summary(lang)))
            .flatten()
    });
    let name_cell = if mode == RowMode::Renaming {
        view! {
            <ActionForm action=rename attr:class="inline-row" attr:novalidate=true>
                <input type="hidden" name="id" value=id />
                <crate::components::Field
                    name="name"
                    label="keys-name"
                    value=k.name.clone()
                    id_prefix="rename-"
                    errors=rename_errors
                />
                <button type="submit">{t("keys-save")}</button>
                <a class="button secondary" href=HERE>{t("keys-cancel")}</a>
            </ActionForm>
        }
        .into_any()
    } else {
        k.name.clone().into_any()
    };
    let actions = if mode == RowMode::ConfirmingRemoval {
        view! {
            <p>{confirm_text}</p>
            <ActionForm action=remove attr:class="button-row">
                <input type="hidden" name="id" value=id />
                <button type="submit">{t("keys-remove-yes")}</button>
                <a class="button secondary" href=HERE>{t("keys-cancel")}</a>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <div class="button-row">
                <a class="button secondary" href=format!("{HERE}?rename={id}")>{t("keys-rename")}</a>
                <a
                    class="button secondary"
                    href=format!("{HERE}?remove={id}")
                    aria-describedby=error.as_ref().map(|_| error_id.clone())
                >{t("keys-remove")}</a>
            </div>
        }
        .into_any()
    };
    view! {
        <tr>
            <th scope="row">{name_cell}</th>
            <td>{k.model.clone().unwrap_or_else(|| t("check-model-unknown"))}</td>
            <td>{t(k.kind.label())}</td>
            <td>{k.level.fido_name()}</td>
            <td>
                {if k.nia_eligible { t("check-nia-yes") } else { t("check-nia-no") }}
                {k.nia_linked.then(|| view! { " (" {t("keys-nia-linked")} ")" })}
                <Reasons reasons=k.reasons.clone() />
            </td>
            <td>{format_date(lang, k.created_at)}</td>
            <td>{k.last_used_at.map(|at| format_date(lang, at)).unwrap_or_else(|| t("keys-never"))}</td>
            <td class="actions">
                {actions}
                // said beside the row's buttons, not in its header cell (which names the row)
                <div role="status" id=error_id.clone()>
                    {error.map(|m| view! { <p class="error">{m}</p> })}
                </div>
            </td>
        </tr>
    }
    .into_any()
}

/// Why a key cannot serve NIA, in words.
#[component]
pub(crate) fn Reasons(reasons: Vec<(String, String)>) -> impl IntoView {
    let lang = use_lang();
    (!reasons.is_empty()).then(|| {
        view! {
            <ul class="reasons">
                {reasons.into_iter().map(|(key, arg)| view! {
                    <li>{tr_args(lang, &key, &[("detail", arg.into())])}</li>
                }).collect_view()}
            </ul>
        }
    })
}

/// The page: plain HTML (the list, renaming, removal and the add form post without script);
/// only `/add`, where the key answers, loads the WASM.
#[component]
pub fn SecurityKeysPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let q = query.read_untracked();
    let number = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
    let removed = q.get("removed").is_some();
    // the key whose removal NIA could not confirm (after the login made for it)
    let cannot_disable = number("cannot_disable");
    let added = number("added");
    let renaming = number("rename");
    let removing = number("remove");
    let keys = Resource::new(|| (), |_| security_keys());
    let add = ServerAction::<AddKeyBegin>::new();
    let rename = ServerAction::<RenameKeyForm>::new();
    let remove = ServerAction::<RemoveKeyForm>::new();
    let add_errors = crate::components::form_error(add.value());
    view! {
        <Title text=t("keys-title") />
        <h1>{t("keys-title")}</h1>
        <p>{t("keys-intro")}</p>
        <ul class="advice">
            <li>{t("keys-advice-several")}</li>
            <li>{t("keys-advice-browser")}</li>
        </ul>
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Err(e) => super::settings::load_failed(e),
                    Ok(list) => {
                        let added = added.and_then(|id| list.iter().find(|k| k.id == id).cloned());
                        view! {
                            <div role="status" class="status-slot">
                                {removed.then(|| view! { <p class="notice">{t("keys-removed")}</p> })}
                                {added.map(|k| {
                                    let verdict = if k.nia_eligible { t("keys-added-eligible") } else { t("keys-added-not-eligible") };
                                    let why = (!k.nia_eligible).then(|| view! {
                                        <Reasons reasons=k.reasons.clone() />
                                        <p><a href="/help">{t("keys-what-to-do")}</a></p>
                                    });
                                    view! { <p class="notice">{format!("{} {} ({})", t("keys-added"), verdict, k.level.fido_name())}</p> {why} }
                                })}
                            </div>
                            <KeyList list renaming removing cannot_disable rename remove />
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
        <h2>{t("keys-add-title")}</h2>
        <ActionForm action=add attr:class="form" attr:novalidate=true>
            <crate::components::ErrorSummary errors=add_errors />
            <crate::components::Field name="name" label="keys-name" hint="keys-name-hint" id_prefix="f-key-" errors=add_errors />
            <button type="submit">{t("keys-add")}</button>
        </ActionForm>
        <p>
            <a href="/settings">{t("back-to-settings")}</a>
        </p>
    }
}

#[component]
fn KeyList(
    list: Vec<KeyView>,
    renaming: Option<i64>,
    removing: Option<i64>,
    cannot_disable: Option<i64>,
    rename: ServerAction<RenameKeyForm>,
    remove: ServerAction<RemoveKeyForm>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p>{t("keys-none")}</p> }.into_any();
    }
    let count = list.len();
    let nia_count = list.iter().filter(|k| k.nia_linked).count();
    let kinds = list.iter().map(|k| k.kind).collect();
    let rows = list
        .into_iter()
        .map(|k| {
            let failed = (cannot_disable == Some(k.id)).then(|| t("err-cannot-disable"));
            let mode = if renaming == Some(k.id) {
                RowMode::Renaming
            } else if removing == Some(k.id) {
                RowMode::ConfirmingRemoval
            } else {
                RowMode::Plain
            };
            view! { <KeyRow k mode count nia_count failed rename remove /> }
        })
        .collect_view();
    view! {
        <KeyWarnings kinds />
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
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
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

//! `/settings`: the overview in the help page's order (profile, contacts, validation,
//! two-factor authentication, the NIA link) with a "Set" for each, its server function and
//! the view types the profile and contacts pages share with it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::error::ApiError;
use crate::i18n::{format_date, format_iso_date, t, tr, tr_args, use_lang, Lang};
#[cfg(feature = "ssr")]
use crate::ssr::{ctx, current_session, fail};
use serde::{Deserialize, Serialize};

/// Shown when a protected page's data says the session has ended.
pub(crate) fn login_again() -> AnyView {
    let next = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    view! { <Redirect path=format!("/login?next={next}") /> }.into_any()
}

pub(crate) fn load_failed(e: ApiError) -> AnyView {
    if e == ApiError::NotAuthenticated {
        return login_again();
    }
    let lang = use_lang();
    view! { <p class="alert" role="alert">{e.summary(lang)}</p> }.into_any()
}

fn or_not_set(value: &str) -> String {
    if value.trim().is_empty() {
        t("value-not-set")
    } else {
        value.to_owned()
    }
}

pub(crate) fn address_line(p: &ProfileView, lang: Lang) -> String {
    if p.city.is_empty() {
        return String::new();
    }
    let street = if p.street.is_empty() {
        p.city.clone()
    } else {
        p.street.clone()
    };
    let country = if p.country.is_empty() {
        String::new()
    } else {
        format!(", {}", tr(lang, &format!("country-{}", p.country)))
    };
    format!(
        "{street} {}, {} {}{country}",
        p.house_number, p.postcode, p.city
    )
}

pub(crate) fn contact_state(
    address: &Option<String>,
    verified_at: Option<i64>,
    lang: Lang,
) -> String {
    match (address, verified_at) {
        (Some(a), Some(at)) => format!(
            "{a} ({})",
            tr_args(
                lang,
                "contact-verified",
                &[("date", format_date(lang, at).into())]
            )
        ),
        (Some(a), None) => a.clone(),
        (None, _) => tr(lang, "contact-none"),
    }
}

/// The Validation section's sentence: validated when and how, or not (and what validates).
fn validation_state(
    lang: Lang,
    at: Option<i64>,
    by: Option<crate::pages::nia::PairingMethod>,
) -> String {
    match (at, by) {
        (Some(at), Some(by)) => tr_args(
            lang,
            "validation-done",
            &[
                ("date", format_date(lang, at).into()),
                ("means", tr(lang, by.validated_by()).into()),
            ],
        ),
        (Some(at), None) => tr_args(
            lang,
            "validation-done-plain",
            &[("date", format_date(lang, at).into())],
        ),
        (None, _) => tr(lang, "validation-none"),
    }
}

/// The NIA section's state: linked, a request under way (with the Czech POINT code), or not.
fn nia_state(lang: Lang, v: &NiaSummary) -> AnyView {
    if let Some(at) = v.linked_at {
        return view! {
            <p>{tr_args(lang, "nia-linked", &[("date", format_date(lang, at).into())])}</p>
        }
        .into_any();
    }
    use crate::pages::nia::PairingState;
    let request = v
        .request
        .as_ref()
        .and_then(|r| r.state.in_settings().map(|key| (r, key)));
    match request {
        Some((r, key)) if r.state == PairingState::AwaitingOffice => view! {
            <p>{t(key)}</p>
            <dl>
                <dt>{t("cp-code")}</dt>
                <dd><strong class="code">{r.code.clone().unwrap_or_default()}</strong></dd>
                <dt>{t("cp-valid-until")}</dt>
                <dd>{format_date(lang, r.expires_at)}</dd>
            </dl>
        }
        .into_any(),
        Some((_, key)) => view! { <p>{t(key)}</p> }.into_any(),
        None => view! { <p>{t("nia-state-not-linked")}</p> }.into_any(),
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| settings_overview());
    let nia_logins = Resource::new(|| (), |_| crate::pages::nia_login::my_nia_logins());
    let lang = use_lang();
    let query = leptos_router::hooks::use_query_map();
    view! {
        <Title text=t("settings-title") />
        {move || (query.read().get("nia").as_deref() == Some("complete")).then(|| view! {
            <p class="notice" role="status">{t("nia-complete-done")}</p>
        })}
        <h1>{t("settings-title")}</h1>
        <p>{t("settings-intro")}</p>
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => load_failed(e),
                    Ok(s) => {
                        let p = s.profile.clone();
                        let name = format!("{} {}", p.first_name, p.last_name);
                        let birth = format_iso_date(lang, &p.birth_date);
                        let address = address_line(&p, lang);
                        let ContactsView { email, email_verified_at, phone, phone_verified_at, .. } = s
                            .contacts
                            .clone();
                        let office_data = s.nia.request.as_ref().is_some_and(|r| {
                            r.method == crate::pages::nia::PairingMethod::CzechPoint
                                && r.state == crate::pages::nia::PairingState::DataReceived
                        });
                        view! {
                            <section aria-labelledby="s-account" class="card">
                                <h2 id="s-account">{t("section-account")}</h2>
                                <dl>
                                    <dt>{t("field-username")}</dt>
                                    <dd>{s.username.clone()}</dd>
                                    <dt>{t("account-created")}</dt>
                                    <dd>{format_date(lang, s.created_at)}</dd>
                                </dl>
                                <p>
                                    <a href="/settings/password">{t("password-title")}</a>
                                </p>
                                <p>
                                    <a href="/settings/sessions">{t("sessions-title")}</a>
                                </p>
                            </section>
                            <section aria-labelledby="s-profile" class="card">
                                <h2 id="s-profile">{t("section-profile")}</h2>
                                <dl>
                                    <dt>{t("field-first-name")} " / " {t("field-last-name")}</dt>
                                    <dd>{or_not_set(&name)}</dd>
                                    <dt>{t("field-birth-date")}</dt>
                                    <dd>{or_not_set(&birth)}</dd>
                                    <dt>{t("address-legend")}</dt>
                                    <dd>{or_not_set(&address)}</dd>
                                    <dt>{t("field-organization")}</dt>
                                    <dd>{or_not_set(&p.organization)}</dd>
                                </dl>
                                <p>
                                    <a href="/settings/profile">{t("profile-edit")}</a>
                                </p>
                            </section>
                            <section aria-labelledby="s-contacts" class="card">
                                <h2 id="s-contacts">{t("section-contacts")}</h2>
                                <dl>
                                    <dt>{t("contacts-email")}</dt>
                                    <dd>{contact_state(&email, email_verified_at, lang)}</dd>
                                    <dt>{t("contacts-phone")}</dt>
                                    <dd>{contact_state(&phone, phone_verified_at, lang)}</dd>
                                </dl>
                                <p>
                                    <a href="/settings/contacts">{t("contacts-manage")}</a>
                                </p>
                            </section>
                            <section aria-labelledby="s-validation" class="card">
                                <h2 id="s-validation">{t("validation-title")}</h2>
                                <p>{validation_state(lang, s.validated_at, s.validated_by)}</p>
                                {office_data.then(|| view! {
                                    <p>{t("validation-finish-text")}</p>
                                    <p><a class="button" href="/settings/nia">{t("validation-finish")}</a></p>
                                })}
                            </section>
                            <section aria-labelledby="s-2fa" class="card">
                                <h2 id="s-2fa">{t("section-2fa")}</h2>
                                <p>{t("section-2fa-text")}</p>
                                <p>{tr_args(lang, "twofa-keys-count", &[("count", (s.keys as i64).into())])}</p>
                                <p>
                                    <a class="button" href="/settings/2fa">{t("nia-set")}</a>
                                </p>
                                <p>
                                    <a href="/settings/security-events">{t("events-link")}</a>
                                </p>
                            </section>
                            <section aria-labelledby="s-nia" class="card">
                                <h2 id="s-nia">{t("nia-settings-link")}</h2>
                                {nia_state(lang, &s.nia)}
                                <p>
                                    <a class="button" href="/settings/nia">{t("nia-set")}</a>
                                </p>
                            </section>
                            <section aria-labelledby="s-nia-logins" class="card">
                                <h2 id="s-nia-logins">{t("nia-logins-title")}</h2>
                                <Suspense fallback=|| ()>
                                    {move || Suspend::new(async move {
                                        match nia_logins.await {
                                            Ok(rows) => view! { <crate::pages::nia_login::NiaLoginsTable rows /> }.into_any(),
                                            Err(e) => load_failed(e),
                                        }
                                    })}
                                </Suspense>
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/settings/2fa`: the two-factor methods (security keys today), each with its "Set".
#[component]
pub fn TwoFactorPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| settings_overview());
    let lang = use_lang();
    view! {
        <Title text=t("section-2fa") />
        <h1>{t("section-2fa")}</h1>
        <p>{t("section-2fa-text")}</p>
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => load_failed(e),
                    Ok(s) => view! {
                        <section aria-labelledby="s-key" class="card">
                            <h2 id="s-key">{t("twofa-security-key")}</h2>
                            <p>{t("twofa-security-key-text")}</p>
                            <p>{tr_args(lang, "twofa-keys-count", &[("count", (s.keys as i64).into())])}</p>
                            <p><a class="button" href="/settings/2fa/security-keys">{t("nia-set")}</a></p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
        <p><a href="/settings">{t("back-to-settings")}</a></p>
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    pub first_name: String,
    pub last_name: String,
    /// ISO `YYYY-MM-DD`, empty when not filled.
    pub birth_date: String,
    pub street: String,
    pub house_number: String,
    pub city: String,
    pub postcode: String,
    pub country: String,
    pub organization: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingView {
    pub address: String,
    pub expires_at: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsView {
    pub email: Option<String>,
    pub email_verified_at: Option<i64>,
    pub phone: Option<String>,
    pub phone_verified_at: Option<i64>,
    pub pending_email: Option<PendingView>,
    pub pending_phone: Option<PendingView>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub username: String,
    pub created_at: i64,
    pub profile: ProfileView,
    pub contacts: ContactsView,
    /// When the identity was verified (`None`: not validated)…
    pub validated_at: Option<i64>,
    /// …and how: `czech_point` or `eobcanka`.
    pub validated_by: Option<crate::pages::nia::PairingMethod>,
    /// How many security keys the account has.
    pub keys: usize,
    /// The NIA section.
    pub nia: NiaSummary,
}

impl SettingsView {
    /// Linked to NIA: the register's fields are locked.
    pub fn nia_linked(&self) -> bool {
        self.nia.linked_at.is_some()
    }
}

/// The NIA link as the overview shows it: linked since when, else the request under way.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NiaSummary {
    pub linked_at: Option<i64>,
    pub request: Option<RequestSummary>,
}

/// A linking request as the overview shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSummary {
    pub method: crate::pages::nia::PairingMethod,
    pub state: crate::pages::nia::PairingState,
    /// The Czech POINT pairing code.
    pub code: Option<String>,
    pub expires_at: i64,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

    impl From<idp::account::profile::Profile> for ProfileView {
        fn from(p: idp::account::profile::Profile) -> Self {
            Self {
                first_name: p.first_name.unwrap_or_default(),
                last_name: p.last_name.unwrap_or_default(),
                birth_date: p.birth_date.unwrap_or_default(),
                street: p.street.unwrap_or_default(),
                house_number: p.house_number.unwrap_or_default(),
                city: p.city.unwrap_or_default(),
                postcode: p.postcode.unwrap_or_default(),
                country: p.country.unwrap_or_default(),
                organization: p.organization.unwrap_or_default(),
            }
        }
    }

    impl From<idp::account::contacts::Pending> for PendingView {
        fn from(p: idp::account::contacts::Pending) -> Self {
            Self {
                address: p.address,
                expires_at: p.expires_at,
            }
        }
    }

    impl From<idp::account::contacts::Contacts> for ContactsView {
        fn from(c: idp::account::contacts::Contacts) -> Self {
            Self {
                email: c.email,
                email_verified_at: c.email_verified_at,
                phone: c.phone,
                phone_verified_at: c.phone_verified_at,
                pending_email: c.pending_email.map(Into::into),
                pending_phone: c.pending_phone.map(Into::into),
            }
        }
    }
}

#[server(endpoint = "settings")]
pub async fn settings_overview() -> Result<SettingsView, ApiError> {
    let s = current_session().await?;
    let idp = ctx()?.idp;
    let account = idp.account(s.account_id).await.map_err(fail)?;
    let profile = idp.profile(s.account_id).await.map_err(fail)?;
    let contacts = idp.contacts(s.account_id).await.map_err(fail)?;
    let validation = idp.validation(s.account_id).await.map_err(fail)?;
    let link = idp.nia_link(s.account_id).await.map_err(fail)?;
    let request = idp.current_pairing(s.account_id).await.map_err(fail)?;
    Ok(SettingsView {
        username: account.username,
        created_at: account.created_at,
        profile: profile.into(),
        contacts: contacts.into(),
        validated_at: validation.as_ref().map(|v| v.at),
        validated_by: validation.and_then(|v| v.method).map(Into::into),
        keys: idp.security_keys(s.account_id).await.map_err(fail)?.len(),
        nia: NiaSummary {
            linked_at: link.map(|l| l.linked_at),
            request: request.map(|r| RequestSummary {
                method: r.method.into(),
                state: r.state.into(),
                code: r.code,
                expires_at: r.expires_at,
            }),
        },
    })
}

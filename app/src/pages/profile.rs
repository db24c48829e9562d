//! `/settings/profile`: the profile form (names, birth date, permanent address, country,
//! organization) and its server function; the fields NIA's register owns are locked while
//! the account is linked.

use leptos::prelude::*;
use leptos_meta::Title;

use super::settings::{settings_overview, ProfileView};
use crate::components::{form_error, ErrorSummary, Field, FormError, Submit};
use crate::error::ApiError;
use crate::i18n::{format_iso_date, t, use_lang};
use crate::keep_typed::{KeepTexts, KeepTyped};
#[cfg(feature = "ssr")]
use crate::ssr::{ctx, current_session, fail, request_info};

const COUNTRIES: [&str; 5] = ["CZ", "SK", "AT", "DE", "PL"];

/// Where a saved profile leads: this page, saying so, with the values as stored (normalised).
#[cfg(feature = "ssr")]
const SAVED: &str = "/settings/profile?saved=1";

#[component]
pub fn ProfilePage() -> impl IntoView {
    view! {
        <Title text=t("profile-title") />
        <h1>{t("profile-title")}</h1>
        <p>{t("profile-intro")}</p>
        <ProfileEditor />
        <p>
            <a href="/settings">{t("back-to-settings")}</a>
        </p>
    }
}

/// A plain form in a `KeepTyped`: a refused value is said beside what was typed (and a
/// session that ended meanwhile loses nothing typed either).
#[component]
fn ProfileEditor() -> impl IntoView {
    let data = Resource::new(|| (), |_| settings_overview());
    let action = ServerAction::<SaveProfile>::new();
    let errors = form_error(action.value());
    let saved = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("saved")
        .is_some();
    view! {
        <div role="status" class="status-slot">
            {saved.then(|| view! { <p class="notice">{t("profile-saved")}</p> })}
        </div>
        <Suspense fallback=|| view! { <p>{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => super::settings::load_failed(e),
                    Ok(s) => {
                        let locked = s.nia_linked();
                        let profile = s.profile;
                        view! {
                            <KeepTyped texts=KeepTexts::here()>
                                <ProfileForm profile action errors locked />
                            </KeepTyped>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProfileForm(
    profile: ProfileView,
    action: ServerAction<SaveProfile>,
    errors: FormError,
    locked: bool,
) -> impl IntoView {
    let lang = use_lang();
    let country = if profile.country.is_empty() {
        "CZ".to_owned()
    } else {
        profile.country.clone()
    };
    let country_error =
        Memo::new(move |_| errors.get().and_then(|e| e.field_message("country", lang)));
    view! {
        <ActionForm action=action attr:class="form" attr:novalidate=true>
            <ErrorSummary errors />
            <Field locked=locked name="first_name" label="field-first-name" value=profile.first_name autocomplete="given-name" errors />
            <Field locked=locked name="last_name" label="field-last-name" value=profile.last_name autocomplete="family-name" errors />
            <Field
                locked=locked
                name="birth_date"
                label="field-birth-date"
                hint="field-birth-date-hint"
                value=format_iso_date(lang, &profile.birth_date)
                autocomplete="bday"
                errors
            />
            <fieldset>
                <legend>{t("address-legend")}</legend>
                <Field
                    locked=locked
                    name="street"
                    label="field-street"
                    hint="field-street-hint"
                    value=profile.street
                    autocomplete="address-line1"
                    errors
                />
                <Field locked=locked name="house_number" label="field-house-number" value=profile.house_number errors />
                <Field locked=locked name="city" label="field-city" value=profile.city autocomplete="address-level2" errors />
                <Field
                    locked=locked
                    name="postcode"
                    label="field-postcode"
                    value=profile.postcode
                    autocomplete="postal-code"
                    errors
                />
                {if locked {
                    // locked like the rest of the address: shown, sent unchanged
                    view! {
                        <div class="field">
                            <label for="f-country">{t("field-country")}</label>
                            <p class="hint" id="f-country-hint">{t("profile-locked-reason")}</p>
                            <input id="f-country" type="text" readonly value=t(&format!("country-{country}")) aria-describedby="f-country-hint" />
                            <input type="hidden" name="country" value=country.clone() />
                        </div>
                    }
                    .into_any()
                } else {
                    view! {
                        <div class="field" class:invalid=move || country_error.get().is_some()>
                            <label for="f-country">{t("field-country")}</label>
                            <select
                                id="f-country"
                                name="country"
                                autocomplete="country"
                                aria-invalid=move || country_error.get().is_some().then_some("true")
                                aria-describedby=move || country_error.get().is_some().then_some("f-country-error")
                            >
                                {COUNTRIES
                                    .iter()
                                    .map(|c| {
                                        view! {
                                            <option value=*c selected=*c == country>
                                                {t(&format!("country-{c}"))}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                            {move || country_error.get().map(|m| view! { <p class="error" id="f-country-error">{m}</p> })}
                        </div>
                    }
                    .into_any()
                }}
            </fieldset>
            <Field
                locked=locked
                name="organization"
                label="field-organization"
                hint="field-organization-hint"
                value=profile.organization
                autocomplete="organization"
                errors
            />
            <Submit label="profile-save" pending=action.pending() />
        </ActionForm>
    }
}

/// Saving the profile takes the form's fields one argument each, so that a plain HTML form
/// posts them as they are; the lint about many arguments is silenced for this one function.
#[allow(clippy::too_many_arguments)]
mod save {
    use super::*;

    #[server(endpoint = "save_profile")]
    pub async fn save_profile(
        first_name: String,
        last_name: String,
        birth_date: String,
        street: String,
        house_number: String,
        city: String,
        postcode: String,
        country: String,
        organization: String,
    ) -> Result<ProfileView, ApiError> {
        let s = current_session().await?;
        let input = idp::account::profile::ProfileInput {
            first_name,
            last_name,
            birth_date,
            street,
            house_number,
            city,
            postcode,
            country,
            organization,
        };
        let saved = ctx()?
            .idp
            .update_profile(s.account_id, &s.username, &input, &request_info())
            .await
            .map_err(fail)?;
        crate::ssr::redirect_plain_form(SAVED);
        Ok(saved.into())
    }
}
pub use save::*;

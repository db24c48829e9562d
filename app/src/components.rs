//! Form building blocks shared by the pages: labelled fields with their error tied to them
//! (`aria-describedby`, `aria-invalid`), the error summary, the submit button.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::i18n::{t, use_lang};

/// The last result of a form's action, as the error to show (if any).
pub type FormError = Signal<Option<ApiError>>;

pub fn form_error<T, V>(value: V) -> FormError
where
    T: Clone + Send + Sync + 'static,
    V: Get<Value = Option<Result<T, ApiError>>> + Clone + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(|r| r.err()))
}

/// The `aria-describedby` of an input: its hint (if any) and, while there is one, its error.
fn described_by(
    hint_id: Option<String>,
    error_id: String,
    message: Memo<Option<String>>,
) -> impl Fn() -> Option<String> + Send + Sync + 'static {
    move || {
        let error = message.get().is_some().then(|| error_id.clone());
        let ids: Vec<String> = hint_id.iter().cloned().chain(error).collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

/// A labelled input. `field` is both the input's name and the error's field.
#[component]
pub fn Field(
    /// Input `name` (and error field).
    name: &'static str,
    /// The field whose errors are shown here, when it differs from `name`.
    #[prop(optional)]
    error_field: Option<&'static str>,
    /// Catalog key of the label.
    label: &'static str,
    /// Catalog key of a hint under the label.
    #[prop(optional)]
    hint: Option<&'static str>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional, into)] value: String,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] inputmode: Option<&'static str>,
    /// An id prefix when one page has two forms with the same field names.
    #[prop(optional)]
    id_prefix: Option<&'static str>,
    /// Read-only, with the reason as its hint (fields that come from the population register).
    #[prop(optional)]
    locked: bool,
    /// Not filled from a refused plain post (another form on the page has a field so named).
    #[prop(optional)]
    not_kept: bool,
    /// A new value is asked at every load (a control code shown beside it): never filled with
    /// what was typed before, neither from a refused plain post nor by `KeepTyped`.
    #[prop(optional)]
    fresh: bool,
    errors: FormError,
) -> impl IntoView {
    let lang = use_lang();
    let hint = if locked {
        Some("profile-locked-reason")
    } else {
        hint
    };
    // a refused plain post brings back what was typed
    #[cfg(feature = "ssr")]
    let value = match not_kept || fresh {
        false => crate::ssr::kept_form_value(name).unwrap_or(value),
        true => value,
    };
    #[cfg(not(feature = "ssr"))]
    let _ = not_kept;
    let id = format!("{}{name}", id_prefix.unwrap_or("f-"));
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let error_field = error_field.unwrap_or(name);
    let message = Memo::new(move |_| {
        errors
            .get()
            .and_then(|e| e.field_message(error_field, lang))
    });
    let described = described_by(hint.map(|_| hint_id.clone()), error_id.clone(), message);
    view! {
        <div class="field" class:invalid=move || message.get().is_some()>
            <label for=id.clone()>{t(label)}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{t(h)}</p> })}
            <input
                id=id.clone()
                name=name
                type=input_type
                value=value.clone()
                prop:value=value
                autocomplete=autocomplete
                inputmode=inputmode
                required=required
                readonly=locked
                data-fresh=fresh.then_some("true")
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=described
            />
            {move || message.get().map(|m| view! { <p class="error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

/// A password input with a "Show password" toggle: inside a `KeepTyped`, the forms' script
/// runs the button (hidden until it does), and both labels go with it.
#[component]
pub fn PasswordField(
    name: &'static str,
    label: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    autocomplete: &'static str,
    errors: FormError,
) -> impl IntoView {
    let lang = use_lang();
    let id = format!("f-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let message = Memo::new(move |_| errors.get().and_then(|e| e.field_message(name, lang)));
    let described = described_by(hint.map(|_| hint_id.clone()), error_id.clone(), message);
    view! {
        <div class="field" class:invalid=move || message.get().is_some()>
            <label for=id.clone()>{t(label)}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{t(h)}</p> })}
            <div class="password-row">
                <input
                    id=id.clone()
                    name=name
                    type="password"
                    autocomplete=autocomplete
                    required=true
                    aria-invalid=move || message.get().is_some().then_some("true")
                    aria-describedby=described
                />
                {crate::keep_typed::in_keep_typed().then(|| view! {
                    <button
                        type="button"
                        class="secondary"
                        aria-controls=id.clone()
                        aria-pressed="false"
                        hidden=true
                        data-show=t("password-show")
                        data-hide=t("password-hide")
                    >
                        {t("password-show")}
                    </button>
                })}
            </div>
            {move || message.get().map(|m| view! { <p class="error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

/// What went wrong with the form as a whole, announced to screen readers.
#[component]
pub fn ErrorSummary(errors: FormError) -> impl IntoView {
    let lang = use_lang();
    view! {
        <div role="alert" class="alert-slot">
            {move || {
                errors
                    .get()
                    .map(|e| {
                        // an ended session: offer the way back, returning to this page
                        let login = (e == ApiError::NotAuthenticated)
                            .then(|| {
                                let here = crate::pages::current_path();
                                let next = percent_encoding::utf8_percent_encode(&here, percent_encoding::NON_ALPHANUMERIC);
                                view! {
                                    " "
                                    <a href=format!("/login?next={next}")>{t("nav-login")}</a>
                                }
                            });
                        view! { <p class="alert error-summary">{e.summary(lang)} {login}</p> }
                    })
            }}
        </div>
    }
}

/// A submit button that says it is working while the action is pending.
#[component]
pub fn Submit(label: &'static str, pending: Memo<bool>) -> impl IntoView {
    view! {
        <button
            type="submit"
            aria-disabled=move || pending.get().then_some("true")
            data-working=t("working")
        >
            {move || if pending.get() { t("working") } else { t(label) }}
        </button>
    }
}

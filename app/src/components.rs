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
    errors: FormError,
) -> impl IntoView {
    let lang = use_lang();
    let hint = if locked {
        Some("profile-locked-reason")
    } else {
        hint
    };
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
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=described
            />
            {move || message.get().map(|m| view! { <p class="error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

/// A password input with a "Show password" toggle (a control that needs the page hydrated).
#[component]
pub fn PasswordField(
    name: &'static str,
    label: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    autocomplete: &'static str,
    errors: FormError,
) -> impl IntoView {
    let lang = use_lang();
    let shown = RwSignal::new(false);
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
                    type=move || if shown.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    required=true
                    aria-invalid=move || message.get().is_some().then_some("true")
                    aria-describedby=described
                />
                <button
                    type="button"
                    class="secondary"
                    aria-controls=id.clone()
                    aria-pressed=move || if shown.get() { "true" } else { "false" }
                    on:click=move |_| shown.update(|s| *s = !*s)
                >
                    {move || if shown.get() { t("password-hide") } else { t("password-show") }}
                </button>
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
        <button type="submit" aria-disabled=move || pending.get().then_some("true")>
            {move || if pending.get() { t("working") } else { t(label) }}
        </button>
    }
}

/// The security-key step of a login or step-up.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyStep {
    Waiting,
    Failed(String),
}

/// Asks the browser's security key to answer `options`, hands the answer to `finish`, and
/// goes where `finish` says; on failure the panel says why and offers to start again.
pub fn answer_key_step<F, Fut>(
    state: RwSignal<Option<KeyStep>>,
    options: webauthn_rs_proto::RequestChallengeResponse,
    finish: F,
) where
    F: FnOnce(String) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<String, ApiError>> + 'static,
{
    let lang = use_lang();
    state.set(Some(KeyStep::Waiting));
    leptos::task::spawn_local(async move {
        let outcome = match crate::webauthn::get(options).await {
            Err(e) => Err(crate::i18n::tr(lang, e.message_key())),
            Ok(assertion) => finish(assertion).await.map_err(|e| e.summary(lang)),
        };
        match outcome {
            Ok(to) => {
                let _ = window().location().assign(&to);
            }
            Err(message) => state.set(Some(KeyStep::Failed(message))),
        }
    });
}

/// Follows the answer to a password step: go on when done, or run the key step, whose
/// answer `finish` (ticket, assertion) sends to the server.
pub fn follow_login_reply<F, Fut>(
    reply: Option<Result<crate::pages::login::LoginReply, ApiError>>,
    state: RwSignal<Option<KeyStep>>,
    finish: F,
) where
    F: FnOnce(String, String) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<String, ApiError>> + 'static,
{
    match reply {
        Some(Ok(crate::pages::login::LoginReply::Done(to))) => {
            let _ = window().location().assign(&to);
        }
        Some(Ok(crate::pages::login::LoginReply::Key { ticket, options })) => {
            answer_key_step(state, options, move |assertion| finish(ticket, assertion));
        }
        _ => {}
    }
}

/// What the key step shows: waiting for the key, or why it failed with a way back.
#[component]
pub fn KeyStepPanel(state: RwSignal<Option<KeyStep>>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="key-step">
            <h2 id="key-step">{t("login-key-title")}</h2>
            <div role="status">
                {move || match state.get() {
                    Some(KeyStep::Failed(m)) => view! { <p class="alert">{m}</p> }.into_any(),
                    _ => view! { <p>{t("login-key-waiting")}</p> }.into_any(),
                }}
            </div>
            {move || {
                matches!(state.get(), Some(KeyStep::Failed(_)))
                    .then(|| {
                        view! {
                            <button type="button" on:click=move |_| state.set(None)>
                                {t("login-key-again")}
                            </button>
                        }
                    })
            }}
        </section>
    }
}

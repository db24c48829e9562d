use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{login_key, Login, LoginReply};
use crate::components::{form_error, ErrorSummary, Field, PasswordField, Submit};
use crate::i18n::{t, use_lang};

/// What the security-key step shows.
#[derive(Clone, Debug, PartialEq)]
enum KeyStep {
    Waiting,
    Failed(String),
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let lang = use_lang();
    let action = ServerAction::<Login>::new();
    let errors = form_error(action.value());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let notice = move || {
        let q = query.read();
        if q.get("logged_out").is_some() {
            Some(t("login-logged-out"))
        } else if q.get("next").is_some() {
            Some(t("login-again"))
        } else {
            None
        }
    };
    let key_step = RwSignal::new(None::<KeyStep>);
    // the second step: the browser asks the account's security key
    let run_key_step =
        move |ticket: String, options: webauthn_rs_proto::RequestChallengeResponse| {
            key_step.set(Some(KeyStep::Waiting));
            let next = next();
            leptos::task::spawn_local(async move {
                let outcome = match crate::webauthn::get(options).await {
                    Err(e) => Err(crate::i18n::tr(lang, e.message_key())),
                    Ok(assertion) => login_key(ticket, assertion, next)
                        .await
                        .map_err(|e| e.summary(lang)),
                };
                match outcome {
                    Ok(to) => {
                        let _ = window().location().assign(&to);
                    }
                    Err(message) => key_step.set(Some(KeyStep::Failed(message))),
                }
            });
        };
    Effect::new(move |_| match action.value().get() {
        Some(Ok(LoginReply::Done(to))) => {
            let _ = window().location().assign(&to);
        }
        Some(Ok(LoginReply::Key { ticket, options })) => run_key_step(ticket, options),
        _ => {}
    });
    view! {
        <Title text=t("login-title") />
        <h1>{t("login-title")}</h1>
        <p>{t("login-intro")}</p>
        {move || notice().map(|n| view! { <p class="notice" role="status">{n}</p> })}
        <Show
            when=move || key_step.get().is_none()
            fallback=move || {
                view! {
                    <section class="card" aria-labelledby="key-step">
                        <h2 id="key-step">{t("login-key-title")}</h2>
                        <div role="status">
                            {move || match key_step.get() {
                                Some(KeyStep::Failed(m)) => view! { <p class="alert">{m}</p> }.into_any(),
                                _ => view! { <p>{t("login-key-waiting")}</p> }.into_any(),
                            }}
                        </div>
                        {move || {
                            matches!(key_step.get(), Some(KeyStep::Failed(_)))
                                .then(|| {
                                    view! {
                                        <button type="button" on:click=move |_| key_step.set(None)>
                                            {t("login-key-again")}
                                        </button>
                                    }
                                })
                        }}
                    </section>
                }
            }
        >
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <ErrorSummary errors />
                <input type="hidden" name="next" value=next />
                <Field name="username" label="field-username" autocomplete="username" required=true errors />
                <PasswordField name="password" label="field-password" autocomplete="current-password" errors />
                <Submit label="login-submit" pending=action.pending() />
            </ActionForm>
        </Show>
        <p>
            {t("login-no-account")} " " <a href="/register">{t("login-create")}</a>
        </p>
    }
}

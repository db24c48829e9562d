use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{login_key, Login};
use crate::components::{
    follow_login_reply, form_error, ErrorSummary, Field, KeyStep, KeyStepPanel, PasswordField,
    Submit,
};
use crate::i18n::t;

#[component]
pub fn LoginPage() -> impl IntoView {
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
    Effect::new(move |_| {
        let next = next();
        follow_login_reply(action.value().get(), key_step, move |ticket, assertion| {
            login_key(ticket, assertion, next)
        });
    });
    view! {
        <Title text=t("login-title") />
        <h1>{t("login-title")}</h1>
        <p>{t("login-intro")}</p>
        {move || notice().map(|n| view! { <p class="notice" role="status">{n}</p> })}
        <Show when=move || key_step.get().is_none() fallback=move || view! { <KeyStepPanel state=key_step /> }>
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
        <p>
            <a href="/login/2fa-reset">{t("reset-link")}</a>
        </p>
    }
}

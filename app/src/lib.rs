//! The mojeID web app: Leptos components, routes and server functions, rendered on the server
//! and hydrated in the browser.

pub mod components;
pub mod error;
pub mod i18n;
pub mod keep_typed;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod webauthn;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::{path, SsrMode};

use crate::error::ApiError;
use crate::i18n::{t, Lang};
use crate::pages::key_check::KeyCheckPage;
use crate::pages::reauth::ReauthPage;
use crate::pages::security_keys::SecurityKeysPage;
use crate::pages::{
    certified::CertifiedPage, contacts::ContactsPage, login::LoginPage, profile::ProfilePage,
    register::RegisterPage, settings::SettingsPage,
};
#[cfg(feature = "ssr")]
use crate::ssr::current_session;

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = i18n::page_lang();
    let stylesheet = format!("/{}/mojeid.css", options.site_pkg_dir);
    #[cfg(feature = "ssr")]
    ssr::content_security_policy();
    #[cfg(feature = "ssr")]
    ssr::clear_kept_form();
    // Only the islands of a page are hydrated; a page of plain forms loads their small
    // script, and a page with neither ships no script at all.
    #[cfg(feature = "ssr")]
    let script = ssr::request_path().map_or(pages::Script::Islands, |p| pages::script_of(&p));
    #[cfg(not(feature = "ssr"))]
    let script = pages::Script::Islands;
    let scripted = script != pages::Script::None;
    let forms_script = (script == pages::Script::Forms).then(|| {
        // `./x` builds it from `frontend-forms` beside the islands' WASM, named after it
        let name = format!("/{}/{}_forms", options.site_pkg_dir, options.output_name);
        let js = format!("{name}.js");
        let wasm = format!("{name}_bg.wasm");
        // both at once, not the WASM only once the JS has run
        view! {
            <link rel="modulepreload" href=js.clone() />
            <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="" />
            <script
                type="module"
                nonce=leptos::nonce::use_nonce()
                inner_html=format!("import init from '{js}';init().catch(console.error);")
            ></script>
        }
    });
    let islands = (script == pages::Script::Islands).then_some(options);
    if let Some(sc) = Owner::current_shared_context() {
        // what is outside an island is not hydrated, so its data is not sent along
        sc.set_is_hydrating(false);
    }
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="stylesheet" href=stylesheet />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                {islands.map(|options| view! { <HydrationScripts options islands=true /> })}
                {forms_script}
                <MetaTags />
            </head>
            // the page is as alive as it gets: at once when it has no script, else the
            // browser marks it once its islands are hydrated or the forms' script is in place
            <body data-hydrated=(!scripted).then_some("true")>
                <App />
            </body>
        </html>
    }
}

/// Marks `<body data-hydrated>` once the loader has hydrated the page's islands: it walks
/// the page right after `hydrate` returns, waiting on nothing but microtasks.
#[cfg(feature = "hydrate")]
pub fn islands_hydrated_soon() {
    set_timeout(
        || {
            if let Some(body) = document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(i18n::page_lang());
    view! {
        <Title formatter=|title: String| format!("{title} – mojeID") />
        <Router>
            <a class="skip-link" href="#main">
                {t("skip-to-content")}
            </a>
            <Header />
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/login/key") view=pages::key_step::LoginKeyPage ssr=SsrMode::Async />
                    <Route path=path!("/reauth/key") view=pages::key_step::ReauthKeyPage ssr=SsrMode::Async />
                    <Route path=path!("/login/2fa-reset") view=pages::twofa_reset::TwofaResetPage ssr=SsrMode::Async />
                    <Route path=path!("/register") view=RegisterPage ssr=SsrMode::Async />
                    <Route path=path!("/password-reset") view=pages::password_reset::PasswordResetPage ssr=SsrMode::Async />
                    <Route path=path!("/reauth") view=ReauthPage ssr=SsrMode::Async />
                    <Route path=path!("/nia-login/:token") view=pages::nia_login::NiaLoginPage ssr=SsrMode::Async />
                    <Route path=path!("/nia-login/:token/key") view=pages::key_step::NiaKeyPage ssr=SsrMode::Async />
                    <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/profile") view=ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/settings/contacts") view=ContactsPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/2fa") view=pages::settings::TwoFactorPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/2fa/security-keys") view=SecurityKeysPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/2fa/security-keys/add") view=pages::key_step::KeyAddPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/nia") view=pages::nia::NiaPage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=pages::admin::AdminPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=pages::admin::AuditPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/security-events") view=pages::events::SecurityEventsPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/password") view=pages::password::PasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/sessions") view=pages::sessions::SessionsPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/nia/document/:id") view=pages::nia::OfficeDocumentPage ssr=SsrMode::Async />
                    <Route path=path!("/security-keys/certified") view=CertifiedPage ssr=SsrMode::Async />
                    <Route path=path!("/security-keys/check") view=KeyCheckPage ssr=SsrMode::Async />
                    <Route path=path!("/help") view=pages::help::HelpPage ssr=SsrMode::Async />
                    <Route path=path!("/support") view=pages::support::SupportPage ssr=SsrMode::Async />
                    <Route path=path!("/support/preview") view=pages::support::SupportPreviewPage ssr=SsrMode::Async />
                    <Route path=path!("/support/sent") view=pages::support::SupportSentPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/support") view=pages::support_console::SupportQueuePage ssr=SsrMode::Async />
                    <Route path=path!("/admin/support/:id") view=pages::support_console::SupportCasePage ssr=SsrMode::Async />
                </Routes>
            </main>
            <footer class="site-footer">
                <p>{t("footer-text")}</p>
                <p>
                    <a href="/security-keys/certified">{t("certified-title")}</a>
                    " · "
                    <a href="/security-keys/check">{t("check-title")}</a>
                    " · "
                    <a href="/help">{t("help-title")}</a>
                    " · "
                    <a href="/support">{t("support-title")}</a>
                </p>
            </footer>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let me = Resource::new(|| (), |_| me());
    let location = use_location();
    let lang = i18n::use_lang();
    let other = match lang {
        Lang::Cs => Lang::En,
        Lang::En => Lang::Cs,
    };
    // the same page in the other language; the server remembers the choice in a cookie
    let switch_href = move || {
        let query: Vec<String> = location
            .query
            .get()
            .into_iter()
            .filter(|(k, _)| k != "lang")
            .map(|(k, v)| {
                let v =
                    percent_encoding::utf8_percent_encode(&v, percent_encoding::NON_ALPHANUMERIC);
                format!("{k}={v}")
            })
            .chain(std::iter::once(format!("lang={}", other.code())))
            .collect();
        format!("{}?{}", location.pathname.get(), query.join("&"))
    };
    view! {
        <header class="site-header">
            <a class="brand" href="/" rel="external">
                {t("app-name")}
            </a>
            <nav aria-label=t("nav-label")>
                <ul>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match me.await {
                                Ok(Some(username)) => {
                                    view! {
                                        <li>
                                            <a href="/settings">{t("nav-settings")}</a>
                                        </li>
                                        <li class="who">
                                            {i18n::tr_args(lang, "nav-logged-in-as", &[("username", username.into())])}
                                        </li>
                                        <li>
                                            <form method="post" action="/logout">
                                                <button type="submit" class="link">
                                                    {t("nav-logout")}
                                                </button>
                                            </form>
                                        </li>
                                    }
                                        .into_any()
                                }
                                _ => {
                                    view! {
                                        <li>
                                            <a href="/login">{t("nav-login")}</a>
                                        </li>
                                        <li>
                                            <a href="/register">{t("nav-register")}</a>
                                        </li>
                                    }
                                        .into_any()
                                }
                            }
                        })}
                    </Suspense>
                    <li>
                        <a
                            href=switch_href
                            rel="external"
                            lang=other.code()
                            hreflang=other.code()
                        >
                            {i18n::tr(lang, "lang-other")}
                        </a>
                    </li>
                </ul>
            </nav>
        </header>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=t("not-found-title") />
        <h1>{t("not-found-title")}</h1>
        <p>{t("not-found-text")}</p>
        <p>
            <a href="/" rel="external">
                {t("go-home")}
            </a>
        </p>
    }
}

/// The logged-in username, or `None`.
#[server(endpoint = "me")]
pub async fn me() -> Result<Option<String>, ApiError> {
    match current_session().await {
        Ok(s) => Ok(Some(s.username)),
        Err(ApiError::NotAuthenticated) => {
            // not an error for this question
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(http::StatusCode::OK);
            }
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

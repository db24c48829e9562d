//! `/help`: every troubleshooting item of the help page, each under an anchor the product's
//! other pages link to where the problem shows (`/help#apple`, `/help#incorrect-data`, …),
//! the browser and system this request came from, the udev rule for the GoTrust Idem Key as
//! text to copy, what to send to support, and the contacts.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::i18n::{t, tr_args, use_lang};

/// The items, in the help page's order: anchor and catalog key stem (`help-{stem}-title`,
/// `help-{stem}-text`).
pub const ITEMS: [(&str, &str); 11] = [
    ("apple", "apple"),
    ("browser-access", "access"),
    ("docking", "docking"),
    ("hello-and-keys", "hello"),
    ("up-to-date", "update"),
    ("one-system-key", "system"),
    ("browsers", "browsers"),
    ("incorrect-data", "incorrect"),
    ("gotrust-ubuntu", "gotrust"),
    ("czech-point-unmatched", "czech-point"),
    ("cannot-disable", "cannot-disable"),
];

/// The rule from the help page, verbatim: it is typed into a system file.
pub const GOTRUST_UDEV_RULE: &str = "ACTION!=\"add|change\", GOTO=\"u2f_end\"\n\n# GoTrust Idem Key\nKERNEL==\"hidraw*\", SUBSYSTEM==\"hidraw\", ATTRS{idVendor}==\"1fc9|32a3\", ATTRS{idProduct}==\"f143|3201\", TAG+=\"uaccess\"\n\nLABEL=\"u2f_end\"";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientView {
    pub os: String,
    pub browser: String,
    pub not_chrome: bool,
}

/// The browser and system of this request, as support would record them.
#[server(endpoint = "client_info")]
pub async fn client_info() -> Result<ClientView, crate::error::ApiError> {
    let c = super::support::request_client();
    Ok(ClientView {
        os: c.os,
        browser: c.browser,
        not_chrome: c.not_chrome,
    })
}

#[component]
pub fn HelpPage() -> impl IntoView {
    let lang = use_lang();
    let client = Resource::new(|| (), |_| client_info());
    view! {
        <Title text=t("help-title") />
        <h1>{t("help-title")}</h1>
        <p>{t("help-intro")}</p>
        <nav aria-labelledby="help-contents">
            <h2 id="help-contents">{t("help-contents")}</h2>
            <ul>
                {ITEMS
                    .iter()
                    .map(|(anchor, stem)| view! {
                        <li><a href=format!("#{anchor}")>{t(&format!("help-{stem}-title"))}</a></li>
                    })
                    .collect_view()}
                <li><a href="#key-test">{t("help-key-test-title")}</a></li>
                <li><a href="#before-contacting">{t("help-before-title")}</a></li>
            </ul>
        </nav>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                client.await.ok().filter(|c| !c.browser.is_empty()).map(|c| view! {
                    <p class="notice" role="status">
                        {tr_args(lang, "help-this-browser", &[("browser", c.browser.clone().into()), ("os", if c.os.is_empty() { "?".to_owned() } else { c.os.clone() }.into())])}
                        {c.not_chrome.then(|| view! { " " {t("support-not-chrome")} })}
                    </p>
                })
            })}
        </Suspense>
        {ITEMS
            .iter()
            .map(|(anchor, stem)| {
                let rule = (*anchor == "gotrust-ubuntu").then(|| view! {
                    <p>{t("help-gotrust-steps")}</p>
                    <figure>
                        <figcaption>{t("help-gotrust-rule")}</figcaption>
                        <pre class="copyable" tabindex="0">{GOTRUST_UDEV_RULE}</pre>
                    </figure>
                    <p>{t("help-gotrust-after")}</p>
                });
                view! {
                    <section id=*anchor aria-labelledby=format!("{anchor}-title") class="help-item">
                        <h2 id=format!("{anchor}-title")>{t(&format!("help-{stem}-title"))}</h2>
                        <p>{t(&format!("help-{stem}-text"))}</p>
                        {rule}
                    </section>
                }
            })
            .collect_view()}
        <section id="key-test" aria-labelledby="key-test-title" class="help-item">
            <h2 id="key-test-title">{t("help-key-test-title")}</h2>
            <p>{t("help-key-test-text")}</p>
            <p><a href="/security-keys/check">{t("check-title")}</a></p>
        </section>
        <section id="before-contacting" aria-labelledby="before-contacting-title" class="help-item">
            <h2 id="before-contacting-title">{t("help-before-title")}</h2>
            <p>{t("help-before-text")}</p>
            <ul>
                <li>{t("support-username")}</li>
                <li>{t("support-os")}</li>
                <li>{t("support-browser")}</li>
                <li>{t("support-key-type")}</li>
                <li>{t("support-description")}</li>
                <li>{t("support-screenshot")}</li>
                <li>{t("support-happened-at")}</li>
            </ul>
            <p><a href="/support">{t("help-write-to-support")}</a></p>
            <p>{t("support-contacts")}</p>
        </section>
    }
}

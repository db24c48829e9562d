//! `KeepTyped`: the wrapper of plain forms whose fields must neither be typed twice nor
//! leave the page — a new password, a one-time code, a PIN.
//!
//! Without script the forms post as they are (a refusal comes back in the address, the
//! non-secret fields in the `kept_form` cookie). With script, the forms' script
//! (`frontend-forms`, loaded by such pages instead of the islands' WASM) posts the same form
//! itself and keeps what was typed through a refusal; its few texts come from the server as
//! the wrapper's data. It also runs the "Show password" buttons of the fields inside, which
//! are plain HTML with their two labels as attributes (they survive the form being replaced).

use leptos::prelude::*;

pub use frontend_forms::{ASK_HEADER, GO_HEADER};

/// What the script may have to say by itself, in the page's language.
#[derive(Clone, Debug)]
pub struct KeepTexts {
    /// The session ended while the form was being filled.
    pub expired: String,
    /// The link back to the login.
    pub log_in: String,
    /// The server could not be reached, or answered nothing usable.
    pub failed: String,
}

impl KeepTexts {
    /// The texts in the language of the page being rendered.
    pub fn here() -> Self {
        use crate::i18n::t;
        KeepTexts {
            expired: t("err-not-authenticated"),
            log_in: t("nav-login"),
            failed: t("err-network"),
        }
    }
}

/// Said to the fields inside a `KeepTyped`: their "Show password" works by the script.
#[derive(Clone, Copy)]
pub struct InKeepTyped;

pub fn in_keep_typed() -> bool {
    use_context::<InKeepTyped>().is_some()
}

/// Wraps plain forms (see the module's text). Forms other than url-encoded posts are left to
/// the browser.
#[component]
pub fn KeepTyped(texts: KeepTexts, children: Children) -> impl IntoView {
    provide_context(InKeepTyped);
    view! {
        <div
            class="keep-typed"
            data-expired=texts.expired
            data-log-in=texts.log_in
            data-failed=texts.failed
        >
            {children()}
        </div>
    }
}

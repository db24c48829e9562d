//! `KeepTyped`: an island around plain forms whose fields must neither be typed twice nor
//! leave the page — a new password, a one-time code, a PIN.
//!
//! Without script the forms post as they are (a refusal comes back in the address, the
//! non-secret fields in the `kept_form` cookie). With script the island posts the same form
//! itself: the server answers where it would have redirected (`x-go`), a success loads that
//! page, and a refusal puts the server's own rendering of the form (its errors beside their
//! fields) in place of the form, then everything typed — secrets included, which never left
//! the browser's memory — back into it. The island holds no view of its own and no catalog:
//! its few texts come from the server as props, so it adds next to nothing to the WASM.
//!
//! It also runs the "Show password" buttons of the fields inside it, which are plain HTML
//! with their two labels as attributes (they survive the form being replaced).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The request header by which the island asks the server to say where it would redirect
/// instead of redirecting.
pub const ASK_HEADER: &str = "x-keep-typed";
/// The answer's header: where the browser would have been redirected.
pub const GO_HEADER: &str = "x-go";

/// What the island may have to say by itself, in the page's language.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
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

/// Said to the fields inside a `KeepTyped`: their "Show password" works by the island.
#[derive(Clone, Copy)]
pub struct InKeepTyped;

pub fn in_keep_typed() -> bool {
    use_context::<InKeepTyped>().is_some()
}

/// Wraps plain forms (see the module's text). Forms other than url-encoded posts are left to
/// the browser.
#[island]
pub fn KeepTyped(texts: KeepTexts, children: Children) -> impl IntoView {
    provide_context(InKeepTyped);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        client::submit(ev, &texts);
        #[cfg(not(feature = "hydrate"))]
        let _ = (&ev, &texts);
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        client::toggle(ev);
        #[cfg(not(feature = "hydrate"))]
        let _ = &ev;
    };
    // the "Show password" buttons are hidden until there is script to run them
    let node = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(div) = node.get() {
            client::show_toggles(&div);
        }
    });
    view! {
        <div class="keep-typed" node_ref=node on:submit=on_submit on:click=on_click>
            {children()}
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use super::{KeepTexts, ASK_HEADER, GO_HEADER};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        Document, DomParser, Element, FormData, Headers, HtmlElement, HtmlFormElement, RequestInit,
        Response, SupportedType, Url, UrlSearchParams,
    };

    fn window() -> web_sys::Window {
        leptos::prelude::window()
    }

    /// Unhides the "Show password" buttons under `root` (plain HTML hides them: without
    /// script they would do nothing).
    pub fn show_toggles(root: &Element) {
        let Ok(buttons) = root.query_selector_all("button[data-show][hidden]") else {
            return;
        };
        for i in 0..buttons.length() {
            if let Some(b) = buttons.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                let _ = b.remove_attribute("hidden");
            }
        }
    }

    /// The form is being sent: said on it (`aria-busy`) and on its button ("Working…").
    fn busy(form: &HtmlFormElement) {
        let _ = form.set_attribute("aria-busy", "true");
        if let Ok(Some(b)) = form.query_selector("button[type=submit][data-working]") {
            let working = b.get_attribute("data-working").unwrap_or_default();
            let _ = b.set_attribute("data-label", &b.text_content().unwrap_or_default());
            let _ = b.set_attribute("aria-disabled", "true");
            b.set_text_content(Some(&working));
        }
    }

    /// The answer is in: the form can be sent again.
    fn idle(form: &HtmlFormElement) {
        let _ = form.remove_attribute("aria-busy");
        if let Ok(Some(b)) = form.query_selector("button[type=submit][data-label]") {
            let label = b.get_attribute("data-label").unwrap_or_default();
            let _ = b.remove_attribute("data-label");
            let _ = b.remove_attribute("aria-disabled");
            b.set_text_content(Some(&label));
        }
    }

    /// "Show password" / "Hide password": the button names its input (`aria-controls`) and
    /// carries both labels.
    pub fn toggle(ev: web_sys::MouseEvent) {
        let button = ev
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|e| e.closest("button[data-show]").ok().flatten());
        let Some(button) = button else { return };
        let input = button
            .get_attribute("aria-controls")
            .and_then(|id| window().document()?.get_element_by_id(&id));
        let Some(input) = input else { return };
        let shown = button.get_attribute("aria-pressed").as_deref() == Some("true");
        let (kind, pressed, label) = match shown {
            true => ("password", "false", "data-show"),
            false => ("text", "true", "data-hide"),
        };
        let _ = input.set_attribute("type", kind);
        let _ = button.set_attribute("aria-pressed", pressed);
        button.set_text_content(button.get_attribute(label).as_deref());
    }

    pub fn submit(ev: web_sys::SubmitEvent, texts: &KeepTexts) {
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        if !form.method().eq_ignore_ascii_case("post")
            || form.enctype() != "application/x-www-form-urlencoded"
        {
            return;
        }
        ev.prevent_default();
        // one post at a time; a second press while it runs does nothing
        if form.has_attribute("aria-busy") {
            return;
        }
        busy(&form);
        let texts = texts.clone();
        leptos::task::spawn_local(async move {
            match post(&form, &texts).await {
                // the next page is loading: the form stays busy (no second post meanwhile)
                Ok(Went::Away) => {}
                Ok(Went::Stayed) => idle(&form),
                Err(_) => {
                    idle(&form);
                    say(&form, &texts.failed, None);
                }
            }
        });
    }

    /// Where a post left the browser.
    enum Went {
        /// Another page is loading.
        Away,
        /// Still on this page (the form refused, or something said).
        Stayed,
    }

    async fn post(form: &HtmlFormElement, texts: &KeepTexts) -> Result<Went, JsValue> {
        let data = FormData::new_with_form(form)?;
        let body = UrlSearchParams::new_with_str_sequence_sequence(&data)?;
        let headers = Headers::new()?;
        headers.set("accept", "text/html")?;
        headers.set(ASK_HEADER, "1")?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&body);
        let res: Response = JsFuture::from(window().fetch_with_str_and_init(&form.action(), &init))
            .await?
            .dyn_into()?;
        let here = window().location();
        let Some(go) = res.headers().get(GO_HEADER)? else {
            // the server took the form as any other post (done, and nothing to say here)
            if res.redirected() {
                here.assign(&res.url())?;
                return Ok(Went::Away);
            }
            let text = JsFuture::from(res.text()?)
                .await?
                .as_string()
                .unwrap_or_default();
            let text = text.trim();
            let plain = !text.is_empty() && text.len() < 500 && !text.starts_with('<');
            say(form, if plain { text } else { &texts.failed }, None);
            return Ok(Went::Stayed);
        };
        let go = Url::new_with_base(&go, &here.href()?)?;
        if !go.search().contains("__err=") {
            here.assign(&go.href())?;
            return Ok(Went::Away);
        }
        // refused: the page as the server renders it with the error
        let answer: Response = JsFuture::from(window().fetch_with_str(&go.href()))
            .await?
            .dyn_into()?;
        let landed = Url::new(&answer.url())?;
        if landed.pathname() != go.pathname() {
            // the page sent the browser to the login: the session has ended
            let back = format!("{}{}", here.pathname()?, here.search()?);
            let next: String = js_sys::encode_uri_component(&back).into();
            say(
                form,
                &texts.expired,
                Some((&texts.log_in, &format!("/login?next={next}"))),
            );
            return Ok(Went::Stayed);
        }
        let html = JsFuture::from(answer.text()?)
            .await?
            .as_string()
            .unwrap_or_default();
        let doc = DomParser::new()?.parse_from_string(&html, SupportedType::TextHtml)?;
        match same_form(form, &doc) {
            Some(fresh) => {
                replace_keeping_typed(form, &fresh);
                Ok(Went::Stayed)
            }
            // the page has changed under the form (the step it belonged to is over)
            None => {
                here.assign(&landed.href())?;
                Ok(Went::Away)
            }
        }
    }

    /// The form in the answer that is this one: by its id, else by its place among the
    /// forms posting to the same address.
    fn same_form(form: &HtmlFormElement, doc: &Document) -> Option<Element> {
        if !form.id().is_empty() {
            return doc.get_element_by_id(&form.id());
        }
        let action = form.get_attribute("action")?;
        let selector = format!("form[action=\"{action}\"]");
        let mine = window().document()?.query_selector_all(&selector).ok()?;
        let place = (0..mine.length()).find(|i| {
            mine.item(*i)
                .is_some_and(|n| n.is_same_node(Some(form.as_ref())))
        })?;
        doc.query_selector_all(&selector)
            .ok()?
            .item(place)?
            .dyn_into::<Element>()
            .ok()
    }

    /// What the user can type into: not hidden fields (the server's), buttons or files, nor
    /// a field asked anew at every load (`data-fresh`).
    fn typed_fields(form: &HtmlFormElement) -> Vec<Element> {
        let Ok(all) = form.query_selector_all("input[name], select[name], textarea[name]") else {
            return Vec::new();
        };
        (0..all.length())
            .filter_map(|i| all.item(i)?.dyn_into::<Element>().ok())
            .filter(|e| {
                let kind = e.get_attribute("type").unwrap_or_default();
                !matches!(
                    kind.as_str(),
                    "hidden" | "submit" | "button" | "file" | "checkbox" | "radio"
                ) && !e.has_attribute("readonly")
                    && !e.has_attribute("data-fresh")
            })
            .collect()
    }

    fn replace_keeping_typed(form: &HtmlFormElement, fresh: &Element) {
        let value = wasm_bindgen::JsValue::from_str("value");
        let typed: Vec<(String, JsValue)> = typed_fields(form)
            .iter()
            .filter_map(|e| {
                let name = e.get_attribute("name")?;
                Some((name, js_sys::Reflect::get(e, &value).ok()?))
            })
            .collect();
        form.set_inner_html(&fresh.inner_html());
        show_toggles(form);
        for field in typed_fields(form) {
            let name = field.get_attribute("name").unwrap_or_default();
            if let Some((_, v)) = typed.iter().find(|(n, _)| *n == name) {
                let _ = js_sys::Reflect::set(&field, &value, v);
            }
        }
        // the focused button is gone: focus the first field said to be wrong, else the summary
        let target = form
            .query_selector("[aria-invalid=\"true\"]")
            .ok()
            .flatten()
            .or_else(|| form.query_selector(".error-summary").ok().flatten());
        if let Some(el) = target.and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
            if !el.has_attribute("aria-invalid") {
                let _ = el.set_attribute("tabindex", "-1");
            }
            let _ = el.focus();
        }
    }

    /// Says something about the form as a whole, in its alert slot (or at its start).
    fn say(form: &HtmlFormElement, text: &str, link: Option<(&str, &str)>) {
        let Some(doc) = window().document() else {
            return;
        };
        let Ok(p) = doc.create_element("p") else {
            return;
        };
        p.set_class_name("alert error-summary");
        p.set_text_content(Some(text));
        if let Some((label, href)) = link {
            if let Ok(a) = doc.create_element("a") {
                let _ = a.set_attribute("href", href);
                a.set_text_content(Some(label));
                let _ = p.append_with_str_1(" ");
                let _ = p.append_child(&a);
            }
        }
        let slot = form.query_selector(".alert-slot").ok().flatten();
        match slot {
            Some(slot) => {
                slot.set_inner_html("");
                let _ = slot.append_child(&p);
            }
            None => {
                let _ = form.prepend_with_node_1(&p);
            }
        }
    }
}

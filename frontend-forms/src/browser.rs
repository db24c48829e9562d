//! The script itself (see the crate's text).

use crate::{ASK_HEADER, GO_HEADER};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Document, DomParser, Element, FormData, Headers, HtmlElement, HtmlFormElement, RequestInit,
    Response, SupportedType, Url, UrlSearchParams, Window,
};

fn window() -> Option<Window> {
    web_sys::window()
}

fn document() -> Option<Document> {
    window()?.document()
}

/// The elements under `root` that `selector` matches.
fn all(root: &Element, selector: &str) -> Vec<Element> {
    let Ok(list) = root.query_selector_all(selector) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<Element>().ok())
        .collect()
}

/// Calls `handler` for every `kind` event on `target`, for as long as the page lives. The
/// event is taken as a plain `Event` (older Safari sends `submit` as one).
fn on(target: &Element, kind: &str, handler: impl FnMut(web_sys::Event) + 'static) {
    let closure = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
    let _ = target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
    closure.forget();
}

#[wasm_bindgen(start)]
pub fn start() {
    let Some(root) = document().and_then(|d| d.document_element()) else {
        return;
    };
    for wrapper in all(&root, "div.keep-typed") {
        show_toggles(&wrapper);
        let texts = Texts::of(&wrapper);
        on(&wrapper, "submit", move |ev| submit(ev, &texts));
        on(&wrapper, "click", toggle);
    }
    for button in all(&root, "button[data-print][hidden]") {
        let _ = button.remove_attribute("hidden");
        on(&button, "click", |_| {
            if let Some(w) = window() {
                let _ = w.print();
            }
        });
    }
    if let Some(form) = all(&root, "[data-submit-at-once] form").into_iter().next() {
        submit_at_once(form);
    }
    if let Some(body) = document().and_then(|d| d.body()) {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// Posts our answer once: back here (or a reload) shows it without posting it again.
fn submit_at_once(form: Element) {
    let Ok(form) = form.dyn_into::<HtmlFormElement>() else {
        return;
    };
    if let Some(Ok(history)) = window().map(|w| w.history()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some("?posted=1"));
    }
    let _ = form.submit();
}

/// What the script may have to say by itself, in the page's language (the wrapper's data).
#[derive(Clone)]
struct Texts {
    /// The session ended while the form was being filled.
    expired: String,
    /// The link back to the login.
    log_in: String,
    /// The server could not be reached, or answered nothing usable.
    failed: String,
}

impl Texts {
    fn of(wrapper: &Element) -> Self {
        let text = |name| wrapper.get_attribute(name).unwrap_or_default();
        Texts {
            expired: text("data-expired"),
            log_in: text("data-log-in"),
            failed: text("data-failed"),
        }
    }
}

/// Unhides the "Show password" buttons under `root` (plain HTML hides them: without script
/// they would do nothing).
fn show_toggles(root: &Element) {
    for b in all(root, "button[data-show][hidden]") {
        let _ = b.remove_attribute("hidden");
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
fn toggle(ev: web_sys::Event) {
    let button = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|e| e.closest("button[data-show]").ok().flatten());
    let Some(button) = button else { return };
    let input = button
        .get_attribute("aria-controls")
        .and_then(|id| document()?.get_element_by_id(&id));
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

fn submit(ev: web_sys::Event, texts: &Texts) {
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
    wasm_bindgen_futures::spawn_local(async move {
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

async fn fetch(
    window: &Window,
    url: &str,
    init: Option<&RequestInit>,
) -> Result<Response, JsValue> {
    let promise = match init {
        Some(init) => window.fetch_with_str_and_init(url, init),
        None => window.fetch_with_str(url),
    };
    JsFuture::from(promise).await?.dyn_into()
}

async fn text_of(res: &Response) -> Result<String, JsValue> {
    Ok(JsFuture::from(res.text()?)
        .await?
        .as_string()
        .unwrap_or_default())
}

async fn post(form: &HtmlFormElement, texts: &Texts) -> Result<Went, JsValue> {
    let window = window().ok_or(JsValue::NULL)?;
    let data = FormData::new_with_form(form)?;
    let body = UrlSearchParams::new_with_str_sequence_sequence(&data)?;
    let headers = Headers::new()?;
    headers.set("accept", "text/html")?;
    headers.set(ASK_HEADER, "1")?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&body);
    let res = fetch(&window, &form.action(), Some(&init)).await?;
    let here = window.location();
    let Some(go) = res.headers().get(GO_HEADER)? else {
        // the server took the form as any other post (done, and nothing to say here)
        if res.redirected() {
            here.assign(&res.url())?;
            return Ok(Went::Away);
        }
        let text = text_of(&res).await?;
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
    let answer = fetch(&window, &go.href(), None).await?;
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
    let html = text_of(&answer).await?;
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

/// The form in the answer that is this one: by its id, else by its place among the forms
/// posting to the same address.
fn same_form(form: &HtmlFormElement, doc: &Document) -> Option<Element> {
    if !form.id().is_empty() {
        return doc.get_element_by_id(&form.id());
    }
    let action = web_sys::css::escape(&form.get_attribute("action")?);
    let selector = format!("form[action=\"{action}\"]");
    let mine = all(&document()?.document_element()?, &selector);
    let place = mine
        .iter()
        .position(|n| n.is_same_node(Some(form.as_ref())))?;
    all(&doc.document_element()?, &selector)
        .into_iter()
        .nth(place)
}

/// What the user can type into: not hidden fields (the server's), buttons or files, nor a
/// field asked anew at every load (`data-fresh`).
fn typed_fields(form: &HtmlFormElement) -> Vec<Element> {
    all(form, "input[name], select[name], textarea[name]")
        .into_iter()
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
    let value = JsValue::from_str("value");
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
    let Some(doc) = document() else {
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
    match form.query_selector(".alert-slot").ok().flatten() {
        Some(slot) => {
            slot.set_inner_html("");
            let _ = slot.append_child(&p);
        }
        None => {
            let _ = form.prepend_with_node_1(&p);
        }
    }
}

//! The script of the pages whose forms post without it too: it keeps what was typed in a
//! refused form, runs the "Show password" buttons, the print button, and sends a form that
//! goes on by itself. Plain wasm-bindgen and web-sys, no Leptos: these pages hydrate nothing,
//! so they load about 27 KB (brotli) instead of the islands' runtime (see the README's
//! first-load table).
//!
//! What the server renders for it (`app` writes the markup):
//! - `<div class="keep-typed" data-expired data-log-in data-failed>` around plain forms:
//!   a url-encoded post is sent by the script with [`ASK_HEADER`]; the server answers where
//!   it would have redirected in [`GO_HEADER`]. A success loads that address; a refusal
//!   fetches the page the server would show and puts its rendering of the form in place (the
//!   errors beside their fields), then everything typed back in — new passwords, codes and
//!   PINs never leave the browser's memory. A session that ended meanwhile is said, with a
//!   login link back, and what was typed stays. The submit button says its `data-working`
//!   text, and the form takes no second post while the answer or the next page is on its way.
//! - `button[data-show][hidden]`: "Show password", unhidden here (it names its input by
//!   `aria-controls` and carries both labels as `data-show` / `data-hide`).
//! - `button[data-print][hidden]`: the browser's print dialog, unhidden here.
//! - `[data-submit-at-once] form`: posted once as soon as the page has loaded (the address
//!   becomes `?posted=1`, so Back or a reload does not post it again).
//!
//! When all is in place the script marks `<body data-hydrated>`.

/// The request header by which the script asks the server to say where it would redirect
/// instead of redirecting.
pub const ASK_HEADER: &str = "x-keep-typed";
/// The answer's header: where the browser would have been redirected.
pub const GO_HEADER: &str = "x-go";

#[cfg(feature = "browser")]
mod browser;

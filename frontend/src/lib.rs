//! The browser entry point: the loader calls `hydrate`, then hydrates each island of the
//! server-rendered page (`<leptos-island>`) with the same `app`.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    app::islands_hydrated_soon();
}

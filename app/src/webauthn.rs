//! The browser's WebAuthn calls (`navigator.credentials.create` / `.get`) through web-sys,
//! with webauthn-rs-proto's conversions, answering the JSON the server functions take.

use serde::{Deserialize, Serialize};

/// Why the browser produced no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CeremonyError {
    /// No WebAuthn in this browser (or no JavaScript yet).
    Unsupported,
    /// The user cancelled, the key did not answer in time, or the key is not registered.
    Cancelled,
}

impl CeremonyError {
    pub fn message_key(self) -> &'static str {
        match self {
            CeremonyError::Unsupported => "check-unsupported",
            CeremonyError::Cancelled => "check-cancelled",
        }
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::CeremonyError;
    use leptos::prelude::window;
    use wasm_bindgen::JsCast;

    async fn answer(
        promise: Result<js_sys::Promise, wasm_bindgen::JsValue>,
    ) -> Result<web_sys::PublicKeyCredential, CeremonyError> {
        let promise = promise.map_err(|_| CeremonyError::Unsupported)?;
        let answer = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(
                |e| match e.dyn_ref::<web_sys::DomException>().map(|d| d.name()) {
                    Some(name) if name == "NotSupportedError" => CeremonyError::Unsupported,
                    _ => CeremonyError::Cancelled,
                },
            )?;
        answer.dyn_into().map_err(|_| CeremonyError::Cancelled)
    }

    pub async fn create(
        options: webauthn_rs_proto::CreationChallengeResponse,
    ) -> Result<String, CeremonyError> {
        let options: web_sys::CredentialCreationOptions = options.into();
        let credential = answer(
            window()
                .navigator()
                .credentials()
                .create_with_options(&options),
        )
        .await?;
        serde_json::to_string(&webauthn_rs_proto::RegisterPublicKeyCredential::from(
            credential,
        ))
        .map_err(|_| CeremonyError::Cancelled)
    }

    pub async fn get(
        options: webauthn_rs_proto::RequestChallengeResponse,
    ) -> Result<String, CeremonyError> {
        let options: web_sys::CredentialRequestOptions = options.into();
        let credential = answer(
            window()
                .navigator()
                .credentials()
                .get_with_options(&options),
        )
        .await?;
        serde_json::to_string(&webauthn_rs_proto::PublicKeyCredential::from(credential))
            .map_err(|_| CeremonyError::Cancelled)
    }
}

#[cfg(feature = "hydrate")]
pub use browser::{create, get};

#[cfg(not(feature = "hydrate"))]
pub async fn create(
    _: webauthn_rs_proto::CreationChallengeResponse,
) -> Result<String, CeremonyError> {
    Err(CeremonyError::Unsupported)
}

#[cfg(not(feature = "hydrate"))]
pub async fn get(_: webauthn_rs_proto::RequestChallengeResponse) -> Result<String, CeremonyError> {
    Err(CeremonyError::Unsupported)
}

//! The browser's WebAuthn calls (`navigator.credentials.create` / `.get`) through web-sys.
//!
//! The options cross to the browser as the JSON text the server made of webauthn-rs-proto's
//! `CreationChallengeResponse` / `RequestChallengeResponse`, and the browser's answer goes
//! back as JSON text in the shape of its `RegisterPublicKeyCredential` /
//! `PublicKeyCredential`, which the server parses: one set of types defines the wire. The
//! browser only turns the base64url fields into bytes and back (`JSON.parse` does the rest),
//! so the WASM carries no serde code for those types.

use serde::{Deserialize, Serialize};

/// Why the browser produced no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CeremonyError {
    /// No WebAuthn in this browser (or no JavaScript yet).
    Unsupported,
    /// The user cancelled, the key did not answer in time, or the key is not registered.
    Cancelled,
    /// The options from the server or the browser's answer could not be read (our fault).
    Broken,
}

impl CeremonyError {
    /// The catalog key of what to say; `Broken` is said as an internal error.
    pub fn message_key(self) -> Option<&'static str> {
        match self {
            CeremonyError::Unsupported => Some("check-unsupported"),
            CeremonyError::Cancelled => Some("check-cancelled"),
            CeremonyError::Broken => None,
        }
    }
}

/// The JSON text of `options` for the browser (on the server).
#[cfg(feature = "ssr")]
pub fn options_text<T: Serialize>(options: &T) -> Result<String, crate::error::ApiError> {
    serde_json::to_string(options).map_err(|e| {
        tracing::error!("WebAuthn options not written as JSON: {e}");
        crate::error::ApiError::Internal
    })
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::CeremonyError;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array, JSON};
    use leptos::prelude::window;
    use wasm_bindgen::{JsCast, JsValue};

    type Result<T> = std::result::Result<T, CeremonyError>;

    fn field(of: &JsValue, key: &str) -> JsValue {
        Reflect::get(of, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    fn put(on: &JsValue, key: &str, value: &JsValue) -> Result<()> {
        Reflect::set(on, &JsValue::from_str(key), value)
            .map(|_| ())
            .map_err(|_| CeremonyError::Broken)
    }

    /// The base64url text at `on[key]` as the bytes the browser takes.
    fn to_bytes(on: &JsValue, key: &str) -> Result<()> {
        let text = field(on, key).as_string().ok_or(CeremonyError::Broken)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| CeremonyError::Broken)?;
        put(on, key, &Uint8Array::from(bytes.as_slice()))
    }

    /// The `id` of each credential listed at `on[key]` (if there is a list) as bytes.
    fn ids_to_bytes(on: &JsValue, key: &str) -> Result<()> {
        let list = field(on, key);
        if list.is_undefined() || list.is_null() {
            return Ok(());
        }
        let list: Array = list.dyn_into().map_err(|_| CeremonyError::Broken)?;
        list.iter().try_for_each(|c| to_bytes(&c, "id"))
    }

    /// The options as the browser takes them: the server's JSON with its binary fields as
    /// bytes (`publicKey.challenge`, `.user.id`, the ids of the credentials listed).
    fn options(json: &str) -> Result<JsValue> {
        let options = JSON::parse(json).map_err(|_| CeremonyError::Broken)?;
        let public_key = field(&options, "publicKey");
        if !public_key.is_object() {
            return Err(CeremonyError::Broken);
        }
        to_bytes(&public_key, "challenge")?;
        let user = field(&public_key, "user");
        if user.is_object() {
            to_bytes(&user, "id")?;
        }
        ids_to_bytes(&public_key, "excludeCredentials")?;
        ids_to_bytes(&public_key, "allowCredentials")?;
        // the one extension input with bytes in it; the server never asks for it, and sent
        // as text the browser would refuse it
        if !field(&field(&public_key, "extensions"), "hmacGetSecret").is_undefined() {
            return Err(CeremonyError::Broken);
        }
        Ok(options)
    }

    /// The bytes at `of[key]` (an `ArrayBuffer`, or a view of one, as an extension's shim
    /// may hand over) as base64url text, if there are any.
    fn text_of(of: &JsValue, key: &str) -> Option<JsValue> {
        let value = field(of, key);
        let bytes = if ArrayBuffer::is_view(&value) {
            let offset = field(&value, "byteOffset").as_f64()?;
            let length = field(&value, "byteLength").as_f64()?;
            Uint8Array::new_with_byte_offset_and_length(
                &field(&value, "buffer"),
                offset as u32,
                length as u32,
            )
        } else if value.is_object() {
            // an `ArrayBuffer`, also one from another realm (`instanceof` would miss it)
            Uint8Array::new(&value)
        } else {
            return None;
        };
        Some(JsValue::from_str(&URL_SAFE_NO_PAD.encode(bytes.to_vec())))
    }

    /// Copies the buffers `keys` of `from` as base64url text onto `to`: `required` ones must
    /// be there, the others are `null` when absent.
    fn copy_texts(from: &JsValue, to: &JsValue, keys: &[(&str, bool)]) -> Result<()> {
        for (key, required) in keys {
            match text_of(from, key) {
                Some(text) => put(to, key, &text)?,
                None if *required => return Err(CeremonyError::Broken),
                None => put(to, key, &JsValue::NULL)?,
            }
        }
        Ok(())
    }

    /// The client extension results the server reads (`appid`, `credProps`, `minPinLength`).
    fn extensions(credential: &web_sys::PublicKeyCredential) -> Result<JsValue> {
        let results: JsValue = credential.get_client_extension_results().into();
        let out: JsValue = Object::new().into();
        if let Some(appid) = field(&results, "appid").as_bool() {
            put(&out, "appid", &JsValue::from_bool(appid))?;
        }
        if let Some(rk) = field(&field(&results, "credProps"), "rk").as_bool() {
            let props: JsValue = Object::new().into();
            put(&props, "rk", &JsValue::from_bool(rk))?;
            put(&out, "credProps", &props)?;
        }
        if let Some(length) = field(&results, "minPinLength").as_f64() {
            put(&out, "minPinLength", &JsValue::from_f64(length.trunc()))?;
        }
        Ok(out)
    }

    /// The browser's credential as JSON text: its id, its response's buffers named by
    /// `buffers` (base64url), its type and extension results.
    fn answer_text(
        credential: web_sys::PublicKeyCredential,
        buffers: &[(&str, bool)],
    ) -> Result<String> {
        let raw_id = text_of(&credential, "rawId").ok_or(CeremonyError::Broken)?;
        let response: JsValue = Object::new().into();
        copy_texts(&field(&credential, "response"), &response, buffers)?;
        let out: JsValue = Object::new().into();
        put(&out, "id", &raw_id)?;
        put(&out, "rawId", &raw_id)?;
        put(&out, "response", &response)?;
        put(&out, "type", &JsValue::from_str("public-key"))?;
        put(&out, "extensions", &extensions(&credential)?)?;
        JSON::stringify(&out)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or(CeremonyError::Broken)
    }

    async fn answer(
        promise: std::result::Result<js_sys::Promise, JsValue>,
    ) -> Result<web_sys::PublicKeyCredential> {
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

    /// A new credential for the options `json` (a `CreationChallengeResponse`).
    pub async fn create(json: &str) -> Result<String> {
        let options: web_sys::CredentialCreationOptions = options(json)?.unchecked_into();
        let credentials = window().navigator().credentials();
        let credential = answer(credentials.create_with_options(&options)).await?;
        answer_text(
            credential,
            &[("attestationObject", true), ("clientDataJSON", true)],
        )
    }

    /// An assertion for the options `json` (a `RequestChallengeResponse`).
    pub async fn get(json: &str) -> Result<String> {
        let options: web_sys::CredentialRequestOptions = options(json)?.unchecked_into();
        let credentials = window().navigator().credentials();
        let credential = answer(credentials.get_with_options(&options)).await?;
        answer_text(
            credential,
            &[
                ("authenticatorData", true),
                ("clientDataJSON", true),
                ("signature", true),
                ("userHandle", false),
            ],
        )
    }
}

#[cfg(feature = "hydrate")]
pub use browser::{create, get};

#[cfg(not(feature = "hydrate"))]
pub async fn create(_: &str) -> Result<String, CeremonyError> {
    Err(CeremonyError::Unsupported)
}

#[cfg(not(feature = "hydrate"))]
pub async fn get(_: &str) -> Result<String, CeremonyError> {
    Err(CeremonyError::Unsupported)
}

/// The wire contract the browser's half relies on (it runs only in the browser, so these
/// pin the server's half): where the options carry bytes as base64url text, and the
/// answer's shape as the browser writes it.
#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::options_text;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::{json, Value};
    use webauthn_rs_proto::{
        CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
        RequestChallengeResponse,
    };

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The bytes of the base64url text at `pointer` in `json`.
    fn bytes_at(json: &Value, pointer: &str) -> Vec<u8> {
        let text = json
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no text at {pointer} in {json}"));
        URL_SAFE_NO_PAD
            .decode(text)
            .unwrap_or_else(|e| panic!("{pointer}: {e}"))
    }

    #[test]
    fn creation_options_carry_their_bytes_where_the_browser_converts_them() {
        let options: CreationChallengeResponse = serde_json::from_value(json!({
            "publicKey": {
                "rp": { "id": "localhost", "name": "mojeID" },
                "user": { "id": b64(b"user-7"), "name": "jan", "displayName": "Jan" },
                "challenge": b64(&[1, 2, 250, 251]),
                "pubKeyCredParams": [{ "type": "public-key", "alg": -7 }],
                "excludeCredentials": [{ "type": "public-key", "id": b64(&[9, 8, 255]) }],
                "attestation": "direct"
            }
        }))
        .expect("options");
        let sent: Value =
            serde_json::from_str(&options_text(&options).expect("text")).expect("json");
        assert_eq!(bytes_at(&sent, "/publicKey/challenge"), [1, 2, 250, 251]);
        assert_eq!(bytes_at(&sent, "/publicKey/user/id"), b"user-7");
        assert_eq!(
            bytes_at(&sent, "/publicKey/excludeCredentials/0/id"),
            [9, 8, 255]
        );
        // nothing else needs bytes: no extension input the browser would take as text
        assert!(sent
            .pointer("/publicKey/extensions/hmacGetSecret")
            .is_none());
    }

    #[test]
    fn request_options_carry_their_bytes_where_the_browser_converts_them() {
        let options: RequestChallengeResponse = serde_json::from_value(json!({
            "publicKey": {
                "challenge": b64(&[7; 32]),
                "rpId": "localhost",
                "allowCredentials": [
                    { "type": "public-key", "id": b64(&[1, 2, 3]) },
                    { "type": "public-key", "id": b64(&[4, 5, 6]), "transports": ["usb"] }
                ],
                "userVerification": "preferred"
            }
        }))
        .expect("options");
        let sent: Value =
            serde_json::from_str(&options_text(&options).expect("text")).expect("json");
        assert_eq!(bytes_at(&sent, "/publicKey/challenge"), [7; 32]);
        assert_eq!(
            bytes_at(&sent, "/publicKey/allowCredentials/0/id"),
            [1, 2, 3]
        );
        assert_eq!(
            bytes_at(&sent, "/publicKey/allowCredentials/1/id"),
            [4, 5, 6]
        );
    }

    #[test]
    fn answers_in_the_shape_the_browser_writes_are_read_by_the_server() {
        let raw_id = b64(&[3, 1, 4, 1, 5]);
        let created: RegisterPublicKeyCredential = serde_json::from_value(json!({
            "id": raw_id, "rawId": raw_id,
            "response": { "attestationObject": b64(b"attestation"), "clientDataJSON": b64(b"{}") },
            "type": "public-key",
            "extensions": { "credProps": { "rk": false }, "minPinLength": 4 }
        }))
        .expect("a new credential");
        assert_eq!(created.raw_id, [3, 1, 4, 1, 5]);
        assert_eq!(created.response.attestation_object, b"attestation");
        assert_eq!(created.extensions.min_pin_length, Some(4));

        let asserted: PublicKeyCredential = serde_json::from_value(json!({
            "id": raw_id, "rawId": raw_id,
            "response": {
                "authenticatorData": b64(b"data"), "clientDataJSON": b64(b"{}"),
                "signature": b64(b"sig"), "userHandle": null
            },
            "type": "public-key",
            "extensions": {}
        }))
        .expect("an assertion");
        assert_eq!(asserted.response.signature, b"sig");
        assert_eq!(asserted.response.user_handle, None);
    }
}

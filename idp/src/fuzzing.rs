//! Entry points for the fuzzers (`fuzz/`, feature `fuzzing`): every parser that reads what
//! somebody else sends us, fed arbitrary bytes. Each returns nothing; a panic, a hang or a
//! sanitizer report is the finding. Not part of the product's API.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use base64::Engine;
use samael::crypto::CryptoProvider;

use crate::nia::client::{NiaConfig, MAX_DELIVERY_BYTES, MAX_RESPONSE_BYTES};

/// 2026-11-25, inside every fixed certificate's validity.
const NOW: i64 = 1_795_600_800;

fn config() -> NiaConfig {
    NiaConfig {
        sso_url: "https://nia.example/FPSTS/saml2/basic".into(),
        metadata_url: "https://nia.example/FPSTS/FederationMetadata/2007-06/FederationMetadata.xml"
            .into(),
        api_url: "https://nia.example/idp-api".into(),
        api_token: String::new(),
        sp_entity_id: "https://mojeid.example/saml/metadata".into(),
        acs_url: "https://mojeid.example/nia/acs".into(),
        idp_sso_url: "https://mojeid.example/saml/idp/sso".into(),
        login_acs_url: "https://nia.example/FPSTS/mojeid/acs".into(),
        signing_cert_pins: Vec::new(),
    }
}

/// A self-signed RSA certificate standing for NIA's (made once per fuzzing process).
fn signer() -> &'static [u8] {
    static DER: OnceLock<Vec<u8>> = OnceLock::new();
    DER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mojeid-fuzz-{}", std::process::id()));
        crate::nia::client::load_sp_identity(&dir, true)
            .ok()
            .and_then(|(_, cert)| cert.to_der().ok())
            .unwrap_or_default()
    })
}

/// The signature check on untrusted XML (libxml2 + xmlsec through samael), as the ACS and
/// the intake run it, after the same cheap refusals.
fn signature_check(xml: &str, limit: usize) {
    if xml.len() > limit || crate::public_edge::has_doctype(xml.as_bytes()) {
        return;
    }
    let _ = samael::crypto::Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        xml,
        &[samael::crypto::CertificateDer::from(signer().to_vec())],
        samael::crypto::ReduceMode::ValidateAndMarkNoAncestors,
        Some(&[samael::crypto::AllowedSignatureAlgorithm::RsaSha256]),
    );
}

/// NIA's SAML Response: the signature check on the raw XML, then reading it as if its
/// signature had verified (the attributes, the address inside `CurrentAddress`).
pub fn saml_response(data: &[u8]) {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    signature_check(xml, MAX_RESPONSE_BYTES);
    if !crate::public_edge::has_doctype(data) {
        let _ = crate::nia::client::read_response(&config(), xml, NOW);
    }
}

/// NIA's AuthnRequest as it reaches our SSO endpoint: the signature check on the raw XML,
/// then reading it as if its signature had verified (issuer, destination, times, ACS, level).
pub fn saml_authn_request(data: &[u8]) {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    signature_check(xml, crate::nia::saml_idp::MAX_REQUEST_BYTES);
    if !crate::public_edge::has_doctype(data) {
        let _ = crate::nia::saml_idp::read_login_request(&config(), xml, NOW);
    }
}

/// The population register's delivery, the same way.
pub fn rob_delivery(data: &[u8]) {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    signature_check(xml, MAX_DELIVERY_BYTES);
    if !crate::public_edge::has_doctype(data) {
        let _ = crate::nia::client::read_delivery(xml);
    }
}

/// A security key's registration: the first byte chooses whether the rest is the whole
/// `PublicKeyCredential` JSON or the CBOR attestation object inside a well-formed one.
pub fn attestation(data: &[u8]) {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let ceremony = crate::keys::attestation::Ceremony {
        rp_id: "localhost",
        origin: "http://localhost:3000",
        challenge: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    let credential = if mode % 2 == 0 {
        match serde_json::from_slice::<serde_json::Value>(rest) {
            Ok(v) => v,
            Err(_) => return,
        }
    } else {
        let client_data = serde_json::json!({
            "type": "webauthn.create",
            "challenge": ceremony.challenge,
            "origin": ceremony.origin,
        });
        serde_json::json!({
            "id": "AAAA",
            "rawId": "AAAA",
            "type": "public-key",
            "response": {
                "clientDataJSON": b64.encode(client_data.to_string()),
                "attestationObject": b64.encode(rest),
            },
        })
    };
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW as u64);
    let _ = crate::keys::attestation::check_registration(&credential, &ceremony, metadata(), at);
    let _ = crate::keys::attestation::analyze(&credential, metadata(), at);
}

fn metadata() -> &'static crate::keys::mds::Metadata {
    static MD: OnceLock<crate::keys::mds::Metadata> = OnceLock::new();
    MD.get_or_init(crate::keys::mds::Metadata::default)
}

/// A FIDO metadata BLOB (JWS): the first byte chooses the whole BLOB against the FIDO root,
/// or its payload JSON read as if the signature had verified.
pub fn mds_blob(data: &[u8]) {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let Ok(blob) = std::str::from_utf8(rest) else {
            return;
        };
        let root = include_bytes!("../../fido/mds/root-r3.crt");
        let _ =
            crate::keys::mds::Metadata::load(blob, root, crate::keys::mds::Staleness::Allow, NOW);
    } else {
        let _ = crate::keys::mds::Metadata::from_verified_payload(rest, false);
    }
}

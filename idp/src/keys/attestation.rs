//! What a security key's registration says about it: the attestation format, the model (from
//! the FIDO metadata, by AAGUID or, for U2F keys, by attestation key identifier), whether the
//! attestation chain leads to that model's roots, the certification level, the kind of key,
//! and whether NIA accepts it — with the reasons when not.
//!
//! webauthn-rs verifies the attestation statement itself (signature, format rules); the chain
//! to the metadata's roots and the level are ours, because webauthn-rs reads no status reports
//! and its CA lists refuse android-key and apple attestations outright.

use std::time::{Duration, SystemTime};

use crypto_glue::traits::EncodeDer;
use crypto_glue::x509::{Certificate, X509Store};
use serde::{Deserialize, Serialize};
use sha1::Digest;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationMetadata, ParsedAttestationData, RegisterPublicKeyCredential, RegistrationState,
};
use webauthn_rs_core::WebauthnCore;

use crate::keys::mds::{Form, Level, Metadata, Model};

/// What kind of authenticator it is, as the help page distinguishes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Hardware,
    WindowsHello,
    Android,
    Apple,
    Unknown,
}

impl KeyKind {
    /// The stored name (`security_keys.kind`), also its serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Hardware => "hardware",
            KeyKind::WindowsHello => "windows_hello",
            KeyKind::Android => "android",
            KeyKind::Apple => "apple",
            KeyKind::Unknown => "unknown",
        }
    }

    /// The kind a stored name names (its serde name: every variant has one).
    pub fn parse(s: &str) -> Option<KeyKind> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }

    /// Windows Hello and Android keys live in one device (system keys).
    pub fn is_system(self) -> bool {
        matches!(self, KeyKind::WindowsHello | KeyKind::Android)
    }
}

/// Why a key cannot be used for NIA (several may hold).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Reason {
    /// `none` attestation: the browser did not let the site see the key's certificate
    /// (the help page's "Access of mojeID website to your security key").
    AttestationHidden,
    /// The key vouched for itself.
    SelfAttestation,
    /// Apple's anonymous attestation names no model.
    AppleAnonymous,
    /// android-safetynet: not verifiable here (Google retired SafetyNet attestation).
    SafetyNetUnsupported,
    /// Not in the FIDO metadata.
    UnknownModel,
    /// The certificate chain does not lead to the model's roots.
    ChainInvalid { detail: String },
    /// Certified below level 1.
    LevelTooLow { level: Level },
    /// Revoked or compromised, with the date.
    Problem {
        status: String,
        since: Option<String>,
    },
}

/// The server's conclusion about one registration response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// `packed`, `tpm`, `android-key`, `android-safetynet`, `apple`, `fido-u2f`, `none`, …
    pub format: Option<String>,
    pub aaguid: Option<String>,
    pub model: Option<String>,
    pub kind: KeyKind,
    /// Certification level counted for this key (only with a valid chain).
    pub level: Level,
    /// The key sent an attestation certificate (chain).
    pub certificate_sent: bool,
    /// `Some(true)` when the chain leads to the model's roots; `None` when there is no chain,
    /// or no model whose roots it could lead to.
    pub chain_valid: Option<bool>,
    pub nia_eligible: bool,
    pub reasons: Vec<Reason>,
    /// Set when the registration itself is refused: the data from the key is malformed or
    /// uses what we do not accept. The user sees "Registration failed, incorrect data from
    /// security key."
    pub refused: Option<String>,
}

/// Where and for what challenge the registration was made.
pub struct Ceremony<'a> {
    pub rp_id: &'a str,
    pub origin: &'a str,
    /// base64url, as in `clientDataJSON`.
    pub challenge: &'a str,
}

/// The format and AAGUID straight from the attestation object, read before (and whatever)
/// webauthn-rs decides.
fn peek(attestation_object: &[u8]) -> (Option<String>, Option<String>) {
    use serde_cbor_2::Value;
    let Ok(Value::Map(map)) = serde_cbor_2::from_slice::<Value>(attestation_object) else {
        return (None, None);
    };
    let text = |k: &str| map.get(&Value::Text(k.into()));
    let format = match text("fmt") {
        Some(Value::Text(f)) => Some(f.clone()),
        _ => None,
    };
    let aaguid = match text("authData") {
        // rpIdHash(32) flags(1) counter(4) then, with the AT flag, the AAGUID(16)
        Some(Value::Bytes(ad)) if ad.len() >= 53 && ad[32] & 0x40 != 0 => {
            let b = &ad[37..53];
            (b.iter().any(|&x| x != 0)).then(|| {
                let h = hex::encode(b);
                format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            })
        }
        _ => None,
    };
    (format, aaguid)
}

/// The MDS key identifier of a U2F attestation certificate: SHA-1 of its public key bits.
fn key_identifier(cert: &Certificate) -> String {
    let bits = cert
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes();
    hex::encode(sha1::Sha1::digest(bits))
}

fn state_for(challenge: &str) -> Result<RegistrationState, String> {
    serde_json::from_value(serde_json::json!({
        "policy": "discouraged",
        "exclude_credentials": [],
        "challenge": challenge,
        "credential_algorithms": ["ES256", "ES384", "ES521", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EDDSA"],
        "require_resident_key": false,
        "authenticator_attachment": null,
        "extensions": {},
        "allow_synchronised_authenticators": true
    }))
    .map_err(|e| e.to_string())
}

/// The kind a format alone tells.
fn kind_of_format(format: Option<&str>) -> Option<KeyKind> {
    match format? {
        "tpm" => Some(KeyKind::WindowsHello),
        "android-key" | "android-safetynet" => Some(KeyKind::Android),
        "apple" => Some(KeyKind::Apple),
        _ => None,
    }
}

fn refused(format: Option<String>, aaguid: Option<String>, why: String) -> Verdict {
    Verdict {
        kind: kind_of_format(format.as_deref()).unwrap_or(KeyKind::Unknown),
        format,
        aaguid,
        model: None,
        level: Level::NotCertified,
        certificate_sent: false,
        chain_valid: None,
        nia_eligible: false,
        reasons: Vec::new(),
        refused: Some(why),
    }
}

/// Checks a registration response (`PublicKeyCredential` as JSON) made for `ceremony`.
/// `at` is the time certificates must be valid at (now, for a real registration).
pub fn check(
    credential: &serde_json::Value,
    ceremony: &Ceremony<'_>,
    metadata: &Metadata,
    at: SystemTime,
) -> Verdict {
    check_registration(credential, ceremony, metadata, at).0
}

/// Like `check`, and also the credential to store when the registration was accepted.
pub fn check_registration(
    credential: &serde_json::Value,
    ceremony: &Ceremony<'_>,
    metadata: &Metadata,
    at: SystemTime,
) -> (Verdict, Option<webauthn_rs_core::proto::Credential>) {
    let reg: RegisterPublicKeyCredential = match serde_json::from_value(credential.clone()) {
        Ok(r) => r,
        Err(e) => {
            return (
                refused(None, None, format!("not a registration response: {e}")),
                None,
            )
        }
    };
    let (format, aaguid) = peek(reg.response.attestation_object.as_ref());
    let origin = match url::Url::parse(ceremony.origin) {
        Ok(o) => o,
        Err(e) => {
            return (
                refused(format, aaguid, format!("origin {:?}: {e}", ceremony.origin)),
                None,
            )
        }
    };
    let state = match state_for(ceremony.challenge) {
        Ok(s) => s,
        Err(e) => return (refused(format, aaguid, format!("challenge: {e}")), None),
    };
    let core = WebauthnCore::new_unsafe_experts_only(
        ceremony.rp_id,
        ceremony.rp_id,
        vec![origin],
        Duration::from_secs(300),
        None,
        Some(false),
    );
    let model_by_aaguid = aaguid.as_deref().and_then(|a| metadata.by_aaguid(a));
    let credential = match core.register_credential(&reg, &state, None) {
        Ok(c) => c,
        Err(WebauthnError::AttestationNotSupported)
            if format.as_deref() == Some("android-safetynet") =>
        {
            let verdict = Verdict {
                model: model_by_aaguid.map(|m| m.description.clone()),
                format,
                aaguid,
                kind: KeyKind::Android,
                level: Level::NotCertified,
                certificate_sent: true,
                chain_valid: None,
                nia_eligible: false,
                reasons: vec![Reason::SafetyNetUnsupported],
                refused: None,
            };
            return (verdict, None);
        }
        Err(e) => return (refused(format, aaguid, format!("{e:?}")), None),
    };
    let verdict = judge(&credential, format, aaguid, metadata, at);
    (verdict, Some(credential))
}

/// The verdict on an accepted credential: its model, chain, level and kind. Also used to
/// judge stored keys again when the metadata changes.
pub fn judge(
    credential: &webauthn_rs_core::proto::Credential,
    format: Option<String>,
    aaguid: Option<String>,
    metadata: &Metadata,
    at: SystemTime,
) -> Verdict {
    let model_by_aaguid = aaguid.as_deref().and_then(|a| metadata.by_aaguid(a));
    let kind_by_format = match &credential.attestation.metadata {
        AttestationMetadata::Tpm { .. } => Some(KeyKind::WindowsHello),
        AttestationMetadata::AndroidKey { .. } | AttestationMetadata::AndroidSafetyNet { .. } => {
            Some(KeyKind::Android)
        }
        _ => kind_of_format(format.as_deref()),
    };
    let mut reasons = Vec::new();
    let (chain, model): (Option<&Vec<Certificate>>, Option<&Model>) =
        match &credential.attestation.data {
            ParsedAttestationData::Basic(chain) | ParsedAttestationData::AttCa(chain) => {
                let by_key_id = || {
                    let id = key_identifier(chain.first()?);
                    metadata.models.iter().find(|m| {
                        m.key_identifiers
                            .iter()
                            .any(|k| k.eq_ignore_ascii_case(&id))
                    })
                };
                (Some(chain), model_by_aaguid.or_else(by_key_id))
            }
            ParsedAttestationData::AnonCa(_) => {
                reasons.push(Reason::AppleAnonymous);
                (None, model_by_aaguid)
            }
            ParsedAttestationData::Self_ => {
                reasons.push(Reason::SelfAttestation);
                (None, model_by_aaguid)
            }
            _ => {
                reasons.push(Reason::AttestationHidden);
                (None, model_by_aaguid)
            }
        };
    let kind = if matches!(
        credential.attestation.data,
        ParsedAttestationData::AnonCa(_)
    ) {
        KeyKind::Apple
    } else {
        kind_by_format.unwrap_or(match model.map(|m| m.form) {
            Some(Form::Roaming) => KeyKind::Hardware,
            _ if format.as_deref() == Some("fido-u2f") => KeyKind::Hardware,
            _ => KeyKind::Unknown,
        })
    };
    let mut chain_valid = None;
    let mut level = Level::NotCertified;
    if let Some(chain) = chain {
        match model {
            None => reasons.push(Reason::UnknownModel),
            Some(m) => {
                // U2F attestation certificates predate the rule that a leaf states it is no CA
                let u2f = format.as_deref() == Some("fido-u2f");
                let result = verify_chain(chain, &m.attestation_roots, at, !u2f);
                chain_valid = Some(result.is_ok());
                match result {
                    Err(detail) => reasons.push(Reason::ChainInvalid { detail }),
                    Ok(()) => {
                        level = m.level;
                        if let Some((p, since)) = &m.problem {
                            reasons.push(Reason::Problem {
                                status: p.fido_name().into(),
                                since: since.clone(),
                            });
                        } else if m.level < Level::L1 {
                            reasons.push(Reason::LevelTooLow { level: m.level });
                        }
                    }
                }
            }
        }
    }
    Verdict {
        format,
        aaguid,
        model: model.map(|m| m.description.clone()),
        kind,
        level,
        certificate_sent: chain.is_some(),
        chain_valid,
        nia_eligible: reasons.is_empty() && level >= Level::L1,
        reasons,
        refused: None,
    }
}

/// The attestation chain (leaf first) must lead to one of the model's roots at `at`.
fn verify_chain(
    chain: &[Certificate],
    roots_der: &[Vec<u8>],
    at: SystemTime,
    leaf_must_say_not_ca: bool,
) -> Result<(), String> {
    use crypto_glue::traits::DecodeDer;
    let roots: Vec<Certificate> = roots_der
        .iter()
        .filter_map(|d| Certificate::from_der(d).ok())
        .collect();
    if roots.is_empty() {
        return Err("the metadata lists no attestation roots".into());
    }
    let (leaf, rest) = chain.split_first().ok_or("empty chain")?;
    // The metadata may name the attestation certificate itself as the trust anchor (FIDO
    // Metadata Statement: a trust anchor can be a root, an intermediate or the attestation
    // certificate). A trust anchor is a name and a key (RFC 5280 §6.1.1): the certificate
    // matches when its subject and public key are the anchor's; a self-signed attestation
    // certificate may be issued anew (new validity, new signature) with the same key.
    let anchor = |c: &Certificate| {
        let t = c.tbs_certificate();
        Some((
            t.subject().to_der().ok()?,
            t.subject_public_key_info().to_der().ok()?,
        ))
    };
    if let Some(leaf_anchor) = anchor(leaf) {
        if roots
            .iter()
            .any(|r| anchor(r).as_ref() == Some(&leaf_anchor))
        {
            let validity = leaf.tbs_certificate().validity();
            let (from, to) = (
                validity.not_before.to_system_time(),
                validity.not_after.to_system_time(),
            );
            return if from <= at && at <= to {
                Ok(())
            } else {
                Err("the attestation certificate is outside its validity period".into())
            };
        }
    }
    // a root the key sent along is not trusted for being sent: drop what equals a root
    let root_ders: Vec<Vec<u8>> = roots.iter().filter_map(|r| r.to_der().ok()).collect();
    let intermediates: Vec<Certificate> = rest
        .iter()
        .filter(|c| c.to_der().map(|d| !root_ders.contains(&d)).unwrap_or(true))
        .cloned()
        .collect();
    let mut store = X509Store::new(&roots);
    store.leaf_basic_constraints_required(leaf_must_say_not_ca);
    store
        .verify(leaf, &intermediates, at)
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// The support analysis of a registration a user sent us (a `PublicKeyCredential` as JSON,
/// or our own download `{ "credential": …, "verdict": … }`): the origin and challenge are
/// taken from its own `clientDataJSON` and the RP ID from the origin's host (or an `rp_id`
/// beside the credential), so the verdict is about the key's attestation, not about the
/// freshness of that old ceremony.
pub fn analyze(
    document: &serde_json::Value,
    metadata: &Metadata,
    at: SystemTime,
) -> Result<Verdict, String> {
    use base64::Engine;
    let credential = document.get("credential").unwrap_or(document);
    let client_data = credential
        .pointer("/response/clientDataJSON")
        .and_then(|v| v.as_str())
        .ok_or("no response.clientDataJSON: not a WebAuthn registration")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(client_data.trim_end_matches('='))
        .map_err(|e| format!("clientDataJSON is not base64url: {e}"))?;
    let client: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("clientDataJSON is not JSON: {e}"))?;
    if client.get("type").and_then(|t| t.as_str()) != Some("webauthn.create") {
        return Err("clientDataJSON is not from a registration (webauthn.create)".into());
    }
    let origin = client
        .get("origin")
        .and_then(|o| o.as_str())
        .ok_or("clientDataJSON has no origin")?;
    let challenge = client
        .get("challenge")
        .and_then(|c| c.as_str())
        .ok_or("clientDataJSON has no challenge")?;
    let host = url::Url::parse(origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .ok_or_else(|| format!("origin {origin:?} has no host"))?;
    let rp_id = document
        .get("rp_id")
        .and_then(|r| r.as_str())
        .unwrap_or(&host);
    let ceremony = Ceremony {
        rp_id,
        origin,
        challenge,
    };
    Ok(check(credential, &ceremony, metadata, at))
}

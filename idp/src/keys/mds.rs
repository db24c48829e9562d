//! FIDO Metadata Service v3: the BLOB is verified (JWS signature by its x5c leaf, chain to the
//! configured root), parsed once, and indexed by AAGUID. Each model's certification level is
//! read from its status reports; revocation and compromise reports make it ineligible.
//!
//! Only the fields the product uses are read, and unknown fields are ignored, so newer BLOBs
//! with new fields still load.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use base64::Engine;
use compact_jwt::crypto::JwsX509VerifierBuilder;
use compact_jwt::{JwsCompact, JwsVerifier};
use crypto_glue::traits::DecodeDer;
use crypto_glue::x509::Certificate;
use serde::{Deserialize, Serialize};

/// FIDO certification levels, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    NotCertified,
    /// `FIDO_CERTIFIED` without a level: not enough for NIA.
    Certified,
    L1,
    L1Plus,
    L2,
    L2Plus,
    L3,
    L3Plus,
}

impl Level {
    /// The name used by the FIDO Alliance (and on the help page).
    pub fn fido_name(self) -> &'static str {
        match self {
            Level::NotCertified => "NOT_FIDO_CERTIFIED",
            Level::Certified => "FIDO_CERTIFIED",
            Level::L1 => "FIDO_CERTIFIED_L1",
            Level::L1Plus => "FIDO_CERTIFIED_L1plus",
            Level::L2 => "FIDO_CERTIFIED_L2",
            Level::L2Plus => "FIDO_CERTIFIED_L2plus",
            Level::L3 => "FIDO_CERTIFIED_L3",
            Level::L3Plus => "FIDO_CERTIFIED_L3plus",
        }
    }

    /// The level a FIDO name (`fido_name`, as stored and as the metadata says it) names.
    pub fn parse(status: &str) -> Option<Level> {
        Some(match status {
            "NOT_FIDO_CERTIFIED" => Level::NotCertified,
            "FIDO_CERTIFIED" => Level::Certified,
            "FIDO_CERTIFIED_L1" => Level::L1,
            "FIDO_CERTIFIED_L1plus" => Level::L1Plus,
            "FIDO_CERTIFIED_L2" => Level::L2,
            "FIDO_CERTIFIED_L2plus" => Level::L2Plus,
            "FIDO_CERTIFIED_L3" => Level::L3,
            "FIDO_CERTIFIED_L3plus" => Level::L3Plus,
            _ => return None,
        })
    }
}

/// A status report that makes a model unusable whatever its level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Problem {
    Revoked,
    AttestationKeyCompromise,
    UserVerificationBypass,
    UserKeyRemoteCompromise,
    UserKeyPhysicalCompromise,
}

impl Problem {
    fn from_status(status: &str) -> Option<Problem> {
        Some(match status {
            "REVOKED" => Problem::Revoked,
            "ATTESTATION_KEY_COMPROMISE" => Problem::AttestationKeyCompromise,
            "USER_VERIFICATION_BYPASS" => Problem::UserVerificationBypass,
            "USER_KEY_REMOTE_COMPROMISE" => Problem::UserKeyRemoteCompromise,
            "USER_KEY_PHYSICAL_COMPROMISE" => Problem::UserKeyPhysicalCompromise,
            _ => return None,
        })
    }

    pub fn fido_name(self) -> &'static str {
        match self {
            Problem::Revoked => "REVOKED",
            Problem::AttestationKeyCompromise => "ATTESTATION_KEY_COMPROMISE",
            Problem::UserVerificationBypass => "USER_VERIFICATION_BYPASS",
            Problem::UserKeyRemoteCompromise => "USER_KEY_REMOTE_COMPROMISE",
            Problem::UserKeyPhysicalCompromise => "USER_KEY_PHYSICAL_COMPROMISE",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    Fido2,
    U2f,
    Uaf,
}

/// Where the authenticator lives, from the metadata's attachment hints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Form {
    /// Built into the device (a platform authenticator).
    Platform,
    /// A separate key (USB, NFC, Bluetooth).
    Roaming,
    Unknown,
}

/// One authenticator model of the BLOB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    pub aaguid: Option<String>,
    pub key_identifiers: Vec<String>,
    pub description: String,
    pub protocol: Protocol,
    pub form: Form,
    pub level: Level,
    /// Date (`YYYY-MM-DD`) of the report that gave `level`.
    pub certified_on: Option<String>,
    /// A revocation or compromise, with its date.
    pub problem: Option<(Problem, Option<String>)>,
    /// DER attestation roots.
    pub attestation_roots: Vec<Vec<u8>>,
}

impl Model {
    /// Usable for NIA: level 1 or higher and nothing revoked or compromised.
    pub fn nia_eligible(&self) -> bool {
        self.level >= Level::L1 && self.problem.is_none()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MdsError {
    #[error("not a JWS compact BLOB: {0}")]
    Format(String),
    #[error("the BLOB's certificate chain does not lead to the configured root: {0}")]
    Chain(String),
    #[error("the BLOB's signature is invalid")]
    Signature,
    #[error("the BLOB expired on {next_update} and stale metadata is not allowed")]
    Stale { next_update: String },
    #[error("the BLOB's content cannot be read: {0}")]
    Payload(String),
    #[error("the root certificate cannot be read: {0}")]
    Root(String),
}

/// Whether a BLOB past its `nextUpdate` may still be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Staleness {
    Refuse,
    /// Verify it as of the day before its `nextUpdate`, and say it is stale.
    Allow,
}

/// The verified, indexed metadata.
#[derive(Clone, Debug, Default)]
pub struct Metadata {
    pub serial: u64,
    pub next_update: String,
    /// `Some(nextUpdate)` when the BLOB is past it.
    pub stale_since: Option<String>,
    pub models: Vec<Model>,
    by_aaguid: HashMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    no: u64,
    next_update: String,
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NextUpdateOnly {
    next_update: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    aaguid: Option<String>,
    aaid: Option<String>,
    #[serde(default)]
    attestation_certificate_key_identifiers: Vec<String>,
    metadata_statement: Statement,
    #[serde(default)]
    status_reports: Vec<Report>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statement {
    description: String,
    protocol_family: String,
    #[serde(default)]
    attachment_hint: Vec<String>,
    #[serde(default)]
    attestation_root_certificates: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    status: String,
    effective_date: Option<String>,
}

/// JWS carries an ECDSA signature as the fixed-size `r‖s` (RFC 7515 §3.4), but the JWT
/// library checks X.509-signed tokens against a DER signature; an ES256/ES384 BLOB's
/// signature is re-encoded so that a BLOB signed either way verifies. RS256 BLOBs (today's
/// FIDO BLOBs) pass unchanged.
fn ecdsa_signature_as_der(blob: &str) -> std::borrow::Cow<'_, str> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = blob.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return blob.into();
    };
    let alg = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok())
        .and_then(|h| h["alg"].as_str().map(str::to_owned));
    let half = match alg.as_deref() {
        Some("ES256") => 32,
        Some("ES384") => 48,
        _ => return blob.into(),
    };
    match URL_SAFE_NO_PAD.decode(signature) {
        Ok(raw) if raw.len() == 2 * half => {
            let der = der_ecdsa(&raw[..half], &raw[half..]);
            format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(der)).into()
        }
        _ => blob.into(),
    }
}

/// `SEQUENCE { INTEGER r, INTEGER s }` for big-endian unsigned `r` and `s` (< 128 bytes).
fn der_ecdsa(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn integer(v: &[u8]) -> Vec<u8> {
        let start = v
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(v.len().saturating_sub(1));
        let v = &v[start..];
        let pad = v.first().is_some_and(|&b| b & 0x80 != 0);
        let mut out = vec![0x02, (v.len() + usize::from(pad)) as u8];
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
        out
    }
    let body = [integer(r), integer(s)].concat();
    let mut out = vec![0x30];
    if body.len() >= 0x80 {
        out.push(0x81);
    }
    out.push(body.len() as u8);
    out.extend(body);
    out
}

/// A date `YYYY-MM-DD` as Unix seconds at midnight UTC.
fn date_to_unix(date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(date.get(..10)?, &format)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

fn unix_to_system(unix: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(unix).unwrap_or(0))
}

/// The level and problem an entry's status reports give: reports are read in date order; on
/// one date the highest level wins (BLOBs list `FIDO_CERTIFIED` beside `FIDO_CERTIFIED_L1`);
/// a revocation or compromise stands until a later certification or update.
fn evaluate(reports: &[Report]) -> Evaluation {
    let mut sorted: Vec<&Report> = reports.iter().collect();
    sorted.sort_by(|a, b| {
        let date = a.effective_date.cmp(&b.effective_date);
        let rank = |r: &Report| Level::parse(&r.status);
        date.then_with(|| rank(a).cmp(&rank(b)))
    });
    let mut level = Level::NotCertified;
    let mut certified_on = None;
    let mut problem = None;
    for r in sorted {
        if let Some(l) = Level::parse(&r.status) {
            let same_day_lower =
                certified_on.is_some() && certified_on == r.effective_date && l < level;
            if !same_day_lower {
                level = l;
                certified_on.clone_from(&r.effective_date);
            }
            problem = None;
        } else if let Some(p) = Problem::from_status(&r.status) {
            problem = Some((p, r.effective_date.clone()));
        } else if r.status == "UPDATE_AVAILABLE" {
            problem = None;
        }
    }
    Evaluation {
        level,
        certified_on,
        problem,
    }
}

/// What an entry's status reports say.
#[derive(Debug, PartialEq, Eq)]
struct Evaluation {
    level: Level,
    certified_on: Option<String>,
    problem: Option<(Problem, Option<String>)>,
}

impl Metadata {
    /// Verifies and indexes a BLOB. `root_der` is the trusted root (GlobalSign Root CA R3 for
    /// the FIDO Alliance); `now` is Unix seconds.
    pub fn load(
        blob: &str,
        root_der: &[u8],
        staleness: Staleness,
        now: i64,
    ) -> Result<Self, MdsError> {
        let root = Certificate::from_der(root_der).map_err(|e| MdsError::Root(e.to_string()))?;
        let blob = blob.trim();
        // The payload's nextUpdate decides at which time the chain must be valid; it is read
        // before the signature is checked, and nothing else from it is used until then.
        let unverified = blob
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .ok_or_else(|| MdsError::Format("three base64url parts expected".into()))?;
        let NextUpdateOnly { next_update } =
            serde_json::from_slice(&unverified).map_err(|e| MdsError::Payload(e.to_string()))?;
        let next_update_unix = date_to_unix(&next_update)
            .ok_or_else(|| MdsError::Payload(format!("nextUpdate {next_update:?}")))?;
        let stale = now >= next_update_unix;
        if stale && staleness == Staleness::Refuse {
            return Err(MdsError::Stale { next_update });
        }
        let verify_at = if stale {
            next_update_unix - 86_400
        } else {
            now
        };

        let blob = ecdsa_signature_as_der(blob);
        let jws = JwsCompact::from_str(&blob).map_err(|e| MdsError::Format(format!("{e:?}")))?;
        let (leaf, chain) = jws
            .get_x5c_chain()
            .map_err(|e| MdsError::Format(format!("{e:?}")))?
            .ok_or_else(|| MdsError::Format("no x5c certificate chain in the header".into()))?;
        let verifier = JwsX509VerifierBuilder::new(&leaf, &chain)
            .add_trust_root(root)
            .build(unix_to_system(verify_at))
            .map_err(|e| MdsError::Chain(format!("{e:?}")))?;
        let released = verifier.verify(&jws).map_err(|_| MdsError::Signature)?;
        let payload: Payload = released
            .from_json()
            .map_err(|e| MdsError::Payload(e.to_string()))?;
        Ok(Self::index(payload, stale))
    }

    /// The payload JSON of a BLOB whose signature has been checked elsewhere (for the
    /// fuzzers: the parser behind `load`, without needing a signed BLOB).
    #[cfg(feature = "fuzzing")]
    pub fn from_verified_payload(json: &[u8], stale: bool) -> Result<Self, MdsError> {
        let payload: Payload =
            serde_json::from_slice(json).map_err(|e| MdsError::Payload(e.to_string()))?;
        Ok(Self::index(payload, stale))
    }

    fn index(payload: Payload, stale: bool) -> Self {
        let mut models: Vec<Model> = payload
            .entries
            .into_iter()
            .map(|e| {
                let Evaluation {
                    level,
                    certified_on,
                    problem,
                } = evaluate(&e.status_reports);
                let protocol = match e.metadata_statement.protocol_family.as_str() {
                    "fido2" => Protocol::Fido2,
                    "u2f" => Protocol::U2f,
                    _ => Protocol::Uaf,
                };
                let hints = &e.metadata_statement.attachment_hint;
                let form = if hints.iter().any(|h| h == "internal") {
                    Form::Platform
                } else if hints.iter().any(|h| h == "external") {
                    Form::Roaming
                } else {
                    Form::Unknown
                };
                let attestation_roots = e
                    .metadata_statement
                    .attestation_root_certificates
                    .iter()
                    .filter_map(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
                    .collect();
                Model {
                    aaguid: e.aaguid.map(|a| a.to_lowercase()).or(e.aaid),
                    key_identifiers: e.attestation_certificate_key_identifiers,
                    description: e.metadata_statement.description,
                    protocol,
                    form,
                    level,
                    certified_on,
                    problem,
                    attestation_roots,
                }
            })
            .collect();
        models.sort_by(|a, b| {
            a.description
                .to_lowercase()
                .cmp(&b.description.to_lowercase())
        });
        let by_aaguid = models
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.aaguid.clone().map(|a| (a, i)))
            .collect();
        Metadata {
            serial: payload.no,
            stale_since: stale.then(|| payload.next_update.clone()),
            next_update: payload.next_update,
            models,
            by_aaguid,
        }
    }

    /// The model of an AAGUID (any case, with dashes).
    pub fn by_aaguid(&self, aaguid: &str) -> Option<&Model> {
        self.by_aaguid
            .get(&aaguid.to_lowercase())
            .map(|&i| &self.models[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: &str, date: &str) -> Report {
        Report {
            status: status.into(),
            effective_date: Some(date.into()),
        }
    }

    fn eval(reports: &[(&str, &str)]) -> Evaluation {
        let reports: Vec<Report> = reports.iter().map(|(s, d)| report(s, d)).collect();
        evaluate(&reports)
    }

    #[test]
    fn ecdsa_integers_are_minimal_and_positive() {
        assert_eq!(
            der_ecdsa(&[0, 0, 0x7f], &[0x80, 1]),
            vec![0x30, 0x08, 0x02, 0x01, 0x7f, 0x02, 0x03, 0x00, 0x80, 0x01]
        );
        assert_eq!(
            der_ecdsa(&[0, 0], &[1]),
            vec![0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01]
        );
    }

    #[test]
    fn same_day_plain_certification_does_not_hide_the_level() {
        let e = eval(&[
            ("FIDO_CERTIFIED_L1", "2020-05-12"),
            ("FIDO_CERTIFIED", "2020-05-12"),
        ]);
        assert_eq!(
            (e.level, e.certified_on.as_deref(), e.problem),
            (Level::L1, Some("2020-05-12"), None)
        );
    }

    #[test]
    fn the_latest_certification_counts() {
        let e = eval(&[
            ("FIDO_CERTIFIED_L2", "2023-03-28"),
            ("FIDO_CERTIFIED_L1", "2021-02-18"),
            ("FIDO_CERTIFIED", "2021-02-18"),
        ]);
        assert_eq!(
            (e.level, e.certified_on.as_deref()),
            (Level::L2, Some("2023-03-28"))
        );
    }

    #[test]
    fn revocation_and_compromise_make_a_model_ineligible_until_fixed() {
        let e = eval(&[
            ("FIDO_CERTIFIED_L1", "2022-01-01"),
            ("REVOKED", "2024-06-01"),
        ]);
        assert_eq!(e.level, Level::L1);
        assert_eq!(
            e.problem,
            Some((Problem::Revoked, Some("2024-06-01".into())))
        );
        let e = eval(&[
            ("FIDO_CERTIFIED_L1", "2022-01-01"),
            ("USER_VERIFICATION_BYPASS", "2023-01-01"),
            ("UPDATE_AVAILABLE", "2023-05-01"),
        ]);
        assert_eq!(e.problem, None);
    }

    #[test]
    fn not_certified_later_drops_the_level() {
        let e = eval(&[
            ("FIDO_CERTIFIED_L1", "2020-01-01"),
            ("NOT_FIDO_CERTIFIED", "2024-01-01"),
        ]);
        assert_eq!(e.level, Level::NotCertified);
    }
}

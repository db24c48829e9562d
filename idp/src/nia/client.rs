//! The client of NIA: our SAML service-provider side (signed AuthnRequest by HTTP-Redirect,
//! the Response's signature and conditions) and the services of a qualified identity
//! provider (match a person, register and deactivate a means, registry changes). The same
//! client serves the simulator and the real NIA: only the URLs, keys and token differ.

use std::io::Write;
use std::path::Path;
use std::sync::RwLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use samael::crypto::{AllowedSignatureAlgorithm, CertificateDer, CryptoProvider, ReduceMode};
use serde::{Deserialize, Serialize};
use sha2::Digest;

pub const NIA_ENTITY_ID: &str = "urn:microsoft:cgg2010:fpsts";
pub const LOA_SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";
pub const LOA_HIGH: &str = "http://eidas.europa.eu/LoA/high";
const NATURAL: &str = "http://eidas.europa.eu/attributes/naturalperson/";
/// Allowed clock difference with NIA.
pub(crate) const SKEW_SECS: i64 = 60;
/// The largest SAMLResponse (base64) the ACS reads; NIA's are a few tens of kilobytes.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// The largest register delivery the intake reads (XML with a PDF extract inside).
pub const MAX_DELIVERY_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum NiaError {
    /// NIA cannot be reached or answers 5xx: try again later.
    #[error("NIA is unavailable: {0}")]
    Unavailable(String),
    /// NIA refused, with its code (NOT_FOUND, DECEASED, FOREIGN_NATIONAL, …).
    #[error("NIA refused: {0}")]
    Refused(String),
    /// A message from NIA failed a check (signature, audience, time, …).
    #[error("invalid message from NIA: {0}")]
    Invalid(String),
    #[error("NIA client configuration: {0}")]
    Config(String),
}

/// Where NIA is, and who we are to it.
#[derive(Clone, Debug)]
pub struct NiaConfig {
    /// NIA's SSO endpoint (`…/FPSTS/saml2/basic`).
    pub sso_url: String,
    /// NIA's metadata (`…/FPSTS/FederationMetadata/2007-06/FederationMetadata.xml`).
    pub metadata_url: String,
    /// Base of the qualified identity provider services (`…/idp-api`).
    pub api_url: String,
    pub api_token: String,
    /// Our entity ID (the URL of our metadata).
    pub sp_entity_id: String,
    /// Our assertion consumer service.
    pub acs_url: String,
    /// Our single sign-on service, where NIA sends citizens who chose mojeID on its login
    /// page (`…/saml/idp/sso`).
    pub idp_sso_url: String,
    /// NIA's assertion consumer for our answers to those logins: the one address a
    /// Response of ours is ever sent to.
    pub login_acs_url: String,
    /// SHA-256 fingerprints (hex) of the signing certificates NIA is known to use. When
    /// set, a certificate in NIA's metadata that is not one of them is never trusted, so a
    /// metadata fetch (over a network we do not control) cannot become a trust anchor.
    /// Production requires them; the simulator makes its key on first start, so development
    /// trusts its metadata.
    pub signing_cert_pins: Vec<String>,
}

/// NIA's metadata is fetched again at most this often, whatever arrives at the ACS.
const METADATA_REFRESH_SECS: i64 = 60;
/// A cached signing certificate is used for this long before it is checked again.
const METADATA_TTL_SECS: i64 = 3600;

/// A person's data from the population register, as NIA released it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryData {
    pub bsi: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub birth_place: Option<String>,
    pub street: Option<String>,
    pub house_number: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
}

/// What a verified Response says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SamlOutcome {
    Success {
        data: Box<RegistryData>,
        assertion_id: String,
        valid_until: i64,
    },
    ConsentRefused,
    LoginFailed,
    LoaTooLow,
    Unavailable,
}

/// A verified Response: the request it answers and what it says.
#[derive(Clone, Debug)]
pub struct VerifiedResponse {
    pub in_response_to: String,
    pub outcome: SamlOutcome,
}

/// A delivery of a person's population-register data to us.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub message_id: String,
    /// What the office wrote into "message for the recipient": our pairing code.
    pub message_for_recipient: String,
    pub data: RegistryData,
    /// The extract as PDF, base64.
    pub document: Option<String>,
}

/// A registry change of a linked person.
#[derive(Clone, Debug, Deserialize)]
pub struct Change {
    pub seq: i64,
    pub bsi: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub address: Option<ChangeAddress>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ChangeAddress {
    pub street: String,
    pub number: String,
    pub city: String,
    pub postcode: String,
}

/// One of a person's active means at NIA, as NIA lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct ActiveMeans {
    pub id: String,
    /// Our reference of the key it stands for (`mojeid-key-<id>`).
    pub means_ref: String,
}

/// The reference NIA keeps for one of our keys.
pub fn means_ref(key_id: i64) -> String {
    format!("mojeid-key-{key_id}")
}

/// NIA's certificates from its metadata (DER): the one it signs with, and the one our
/// assertions are encrypted to (its signing certificate when the metadata names none).
#[derive(Clone, Debug)]
pub(crate) struct NiaCerts {
    pub(crate) signing: Vec<u8>,
    pub(crate) encryption: Vec<u8>,
}

pub struct NiaClient {
    pub config: NiaConfig,
    pub(crate) key: PKey<Private>,
    pub(crate) cert: X509,
    http: reqwest::Client,
    nia_cert: RwLock<Option<(NiaCerts, i64)>>,
    /// When the metadata was last asked for, whatever came of it.
    metadata_asked_at: std::sync::atomic::AtomicI64,
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn instant(unix: i64) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&f).ok())
        .unwrap_or_default()
}

/// Loads our SAML key and certificate from `dir` (`sp-key.pem`, `sp-cert.pem`); makes them
/// when `create` and they are missing.
pub fn load_sp_identity(dir: &Path, create: bool) -> Result<(PKey<Private>, X509), NiaError> {
    let (kp, cp) = (dir.join("sp-key.pem"), dir.join("sp-cert.pem"));
    let cfg = |e: String| NiaError::Config(e);
    if kp.exists() && cp.exists() {
        let key = PKey::private_key_from_pem(&std::fs::read(&kp).map_err(|e| cfg(e.to_string()))?)
            .map_err(|e| cfg(format!("{}: {e}", kp.display())))?;
        let cert = X509::from_pem(&std::fs::read(&cp).map_err(|e| cfg(e.to_string()))?)
            .map_err(|e| cfg(format!("{}: {e}", cp.display())))?;
        return Ok((key, cert));
    }
    if !create {
        return Err(cfg(format!(
            "{} and {} are missing",
            kp.display(),
            cp.display()
        )));
    }
    let made = (|| -> Result<(PKey<Private>, X509), openssl::error::ErrorStack> {
        use openssl::asn1::Asn1Time;
        use openssl::bn::BigNum;
        use openssl::hash::MessageDigest;
        use openssl::rsa::Rsa;
        use openssl::x509::X509NameBuilder;
        let key = PKey::from_rsa(Rsa::generate(2048)?)?;
        let mut name = X509NameBuilder::new()?;
        name.append_entry_by_text("C", "CZ")?;
        name.append_entry_by_text("O", "mojeID")?;
        name.append_entry_by_text("CN", "mojeID SAML signing")?;
        let name = name.build();
        let mut b = X509::builder()?;
        b.set_version(2)?;
        let mut serial = BigNum::new()?;
        serial.rand(128, openssl::bn::MsbOption::MAYBE_ZERO, false)?;
        let serial = serial.to_asn1_integer()?;
        b.set_serial_number(&serial)?;
        b.set_subject_name(&name)?;
        b.set_issuer_name(&name)?;
        b.set_pubkey(&key)?;
        let (from, to) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(3650)?);
        b.set_not_before(&from)?;
        b.set_not_after(&to)?;
        b.sign(&key, MessageDigest::sha256())?;
        Ok((key, b.build()))
    })()
    .map_err(|e| cfg(e.to_string()))?;
    std::fs::create_dir_all(dir).map_err(|e| cfg(e.to_string()))?;
    let key_pem = made
        .0
        .private_key_to_pem_pkcs8()
        .map_err(|e| cfg(e.to_string()))?;
    let cert_pem = made.1.to_pem().map_err(|e| cfg(e.to_string()))?;
    std::fs::write(&kp, key_pem).map_err(|e| cfg(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&kp, std::fs::Permissions::from_mode(0o600));
    }
    std::fs::write(&cp, cert_pem).map_err(|e| cfg(e.to_string()))?;
    Ok(made)
}

impl NiaClient {
    pub fn new(config: NiaConfig, key: PKey<Private>, cert: X509) -> Result<Self, NiaError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .connect_timeout(std::time::Duration::from_secs(3))
            .build()
            .map_err(|e| NiaError::Config(e.to_string()))?;
        Ok(Self {
            config,
            key,
            cert,
            http,
            nia_cert: RwLock::new(None),
            metadata_asked_at: std::sync::atomic::AtomicI64::new(i64::MIN),
        })
    }

    /// Our SAML metadata, one entity in both roles NIA knows us in: the service provider
    /// (the eObčanka login of pairing) and the identity provider (logins to government
    /// services through NIA), with the same signing certificate.
    pub fn sp_metadata(&self) -> String {
        let cert = STANDARD.encode(self.cert.to_der().unwrap_or_default());
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{id}">
<md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:Extensions><eidas:SPType xmlns:eidas="http://eidas.europa.eu/saml-extensions">private</eidas:SPType></md:Extensions>
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0" isDefault="true"/>
</md:SPSSODescriptor>
{idp}
</md:EntityDescriptor>"#,
            id = esc(&self.config.sp_entity_id),
            acs = esc(&self.config.acs_url),
            idp = self.idp_descriptor(&cert),
        )
    }

    /// The address that sends the browser to NIA with a signed AuthnRequest (ID
    /// `request_id`) asking for LoA substantial and the registry attributes.
    pub fn login_url(
        &self,
        request_id: &str,
        relay_state: &str,
        now: i64,
    ) -> Result<String, NiaError> {
        let requested: String = [
            "PersonIdentifier",
            "CurrentGivenName",
            "CurrentFamilyName",
            "DateOfBirth",
            "PlaceOfBirth",
            "CurrentAddress",
        ]
        .iter()
        .map(|a| {
            format!(
                r#"<eidas:RequestedAttribute Name="{NATURAL}{a}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" isRequired="true"/>"#
            )
        })
        .collect();
        let xml = format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:eidas="http://eidas.europa.eu/saml-extensions" ID="{id}" Version="2.0" IssueInstant="{at}" Destination="{dest}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>{issuer}</saml:Issuer><samlp:Extensions><eidas:SPType>private</eidas:SPType><eidas:RequestedAttributes>{requested}</eidas:RequestedAttributes></samlp:Extensions><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>{LOA_SUBSTANTIAL}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>"#,
            id = esc(request_id),
            at = instant(now),
            dest = esc(&self.config.sso_url),
            acs = esc(&self.config.acs_url),
            issuer = esc(&self.config.sp_entity_id),
        );
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(xml.as_bytes())
            .map_err(|e| NiaError::Config(e.to_string()))?;
        let deflated = enc.finish().map_err(|e| NiaError::Config(e.to_string()))?;
        let mut url = url::Url::parse(&self.config.sso_url)
            .map_err(|e| NiaError::Config(format!("NIA SSO URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("SAMLRequest", &STANDARD.encode(deflated))
            .append_pair("RelayState", relay_state);
        let signed = samael::crypto::sign_url(url, &self.key)
            .map_err(|e| NiaError::Config(format!("signing the request: {e}")))?;
        Ok(signed.to_string())
    }

    /// Whether NIA answers now (its metadata, within three seconds): asked before we answer
    /// a login, so that a citizen is not sent to an NIA that is down.
    pub async fn reachable(&self) -> Result<(), NiaError> {
        let res = self
            .http
            .get(&self.config.metadata_url)
            .timeout(std::time::Duration::from_secs(3))
            .send()
            .await
            .map_err(|e| NiaError::Unavailable(e.to_string()))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(NiaError::Unavailable(format!("metadata: {}", res.status())))
        }
    }

    /// NIA's certificates from its metadata (kept an hour; `fresh` asks again, but never
    /// more than once a minute, so forged messages cannot make us fetch it in a loop). With
    /// pins, both must be pinned.
    pub(crate) async fn nia_certificate(
        &self,
        now: i64,
        fresh: bool,
    ) -> Result<NiaCerts, NiaError> {
        let cached = self
            .nia_cert
            .read()
            .ok()
            .and_then(|g| g.as_ref().map(|(c, at)| (c.clone(), *at)));
        if let Some((c, at)) = &cached {
            let age = now - at;
            if age < METADATA_REFRESH_SECS || (!fresh && age < METADATA_TTL_SECS) {
                return Ok(c.clone());
            }
        }
        // at most one fetch a minute, also when the last one failed (or several arrive at
        // once): the cached certificate, or NIA counts as unavailable until then
        let asked = self
            .metadata_asked_at
            .load(std::sync::atomic::Ordering::Relaxed);
        if now.saturating_sub(asked) < METADATA_REFRESH_SECS
            || self
                .metadata_asked_at
                .compare_exchange(
                    asked,
                    now,
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                )
                .is_err()
        {
            return match cached {
                Some((c, _)) => Ok(c),
                None => Err(NiaError::Unavailable(
                    "NIA's metadata was asked for less than a minute ago".into(),
                )),
            };
        }
        let xml = self
            .http
            .get(&self.config.metadata_url)
            .send()
            .await
            .map_err(|e| NiaError::Unavailable(e.to_string()))?;
        if xml.status().is_server_error() {
            return Err(NiaError::Unavailable(format!("metadata: {}", xml.status())));
        }
        let xml = xml
            .error_for_status()
            .map_err(|e| NiaError::Invalid(e.to_string()))?
            .text()
            .await
            .map_err(|e| NiaError::Unavailable(e.to_string()))?;
        let entity: samael::metadata::EntityDescriptor = xml
            .parse()
            .map_err(|e| NiaError::Invalid(format!("NIA metadata: {e}")))?;
        let descriptor = entity
            .idp_sso_descriptors
            .as_ref()
            .and_then(|d| d.first())
            .ok_or_else(|| NiaError::Invalid("no IdP descriptor in NIA's metadata".into()))?;
        let of_use = |wanted: &str| -> Result<Option<Vec<u8>>, NiaError> {
            let Some(cert) = descriptor
                .key_descriptors
                .iter()
                .find(|k| k.key_use.as_deref().is_none_or(|u| u == wanted))
                .and_then(|k| k.key_info.x509_data.as_ref())
                .and_then(|x| x.certificates.first())
            else {
                return Ok(None);
            };
            let der = STANDARD
                .decode(cert.split_whitespace().collect::<String>())
                .map_err(|e| NiaError::Invalid(format!("metadata certificate: {e}")))?;
            if !self.config.signing_cert_pins.is_empty() {
                let fingerprint = hex::encode(sha2::Sha256::digest(&der));
                if !self
                    .config
                    .signing_cert_pins
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&fingerprint))
                {
                    return Err(NiaError::Invalid(format!(
                        "NIA's metadata names a {wanted} certificate that is not pinned (SHA-256 {fingerprint})"
                    )));
                }
            }
            Ok(Some(der))
        };
        let signing = of_use("signing")?
            .ok_or_else(|| NiaError::Invalid("no signing certificate in NIA's metadata".into()))?;
        let encryption = of_use("encryption")?.unwrap_or_else(|| signing.clone());
        let der = NiaCerts {
            signing,
            encryption,
        };
        if let Ok(mut guard) = self.nia_cert.write() {
            *guard = Some((der.clone(), now));
        }
        Ok(der)
    }

    /// The signed part of `xml` when NIA's certificate (as cached, then as fetched again)
    /// verifies it, else `None`. A document type declaration is refused before any parser
    /// sees it; the signature check runs on the blocking pool, never on the async workers.
    pub(crate) async fn verified_xml(
        &self,
        xml: String,
        now: i64,
    ) -> Result<Option<String>, NiaError> {
        if crate::public_edge::has_doctype(xml.as_bytes()) {
            return Err(NiaError::Invalid("a document type declaration".into()));
        }
        let xml = std::sync::Arc::new(xml);
        for fresh in [false, true] {
            let cert = self.nia_certificate(now, fresh).await?.signing;
            let doc = xml.clone();
            let verified = tokio::task::spawn_blocking(move || {
                samael::crypto::Crypto::reduce_xml_to_signed_with_allowed_algorithms(
                    &doc,
                    &[CertificateDer::from(cert)],
                    ReduceMode::ValidateAndMarkNoAncestors,
                    Some(&[AllowedSignatureAlgorithm::RsaSha256]),
                )
                .ok()
            })
            .await
            .map_err(|e| NiaError::Invalid(format!("verification stopped: {e}")))?;
            if verified.is_some() {
                return Ok(verified);
            }
        }
        Ok(None)
    }

    /// Verifies a Response posted to our ACS: NIA's signature (RSA-SHA256 only), issuer,
    /// destination, and for a success the assertion's audience, recipient, times and LoA.
    /// Which request it answers (InResponseTo) and replay are for the caller to check.
    pub async fn verify_response(
        &self,
        saml_response: &str,
        now: i64,
    ) -> Result<VerifiedResponse, NiaError> {
        let invalid = |m: &str| NiaError::Invalid(m.to_owned());
        if saml_response.len() > MAX_RESPONSE_BYTES {
            return Err(invalid("the response is too large"));
        }
        let xml = STANDARD
            .decode(saml_response.split_whitespace().collect::<String>())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| invalid("SAMLResponse is not base64 XML"))?;
        let signed = self
            .verified_xml(xml, now)
            .await?
            .ok_or_else(|| invalid("the signature does not verify with NIA's certificate"))?;
        read_response(&self.config, &signed, now)
    }

    /// Verifies a delivery of population-register data (the register's signed message
    /// that a Czech POINT office caused) and reads it.
    pub async fn verify_delivery(&self, xml: &str, now: i64) -> Result<Delivery, NiaError> {
        if xml.len() > MAX_DELIVERY_BYTES {
            return Err(NiaError::Invalid("the delivery is too large".into()));
        }
        let signed = self
            .verified_xml(xml.to_owned(), now)
            .await?
            .ok_or_else(|| NiaError::Invalid("the delivery's signature does not verify".into()))?;
        read_delivery(&signed)
    }

    /// Ztotožnění by personal data (the Czech POINT path has no BSI yet): the BSI of the
    /// one person the register finds.
    pub async fn match_by_data(&self, d: &RegistryData) -> Result<String, NiaError> {
        let url = format!("{}/ztotozneni", self.config.api_url);
        let body = self
            .call("ztotozneni", self.http.post(url).json(&serde_json::json!({
                "given_name": d.given_name, "family_name": d.family_name, "birth_date": d.birth_date,
            })))
            .await?;
        body["bsi"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| NiaError::Invalid("no bsi".into()))
    }

    /// One call to NIA's API (`endpoint` names it for the metrics), timed and counted by
    /// outcome.
    async fn call(
        &self,
        endpoint: &'static str,
        req: reqwest::RequestBuilder,
    ) -> Result<serde_json::Value, NiaError> {
        let started = std::time::Instant::now();
        let result = self.call_untimed(req).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(NiaError::Refused(_)) => "refused",
            Err(NiaError::Unavailable(_)) => "unavailable",
            Err(_) => "invalid",
        };
        crate::metrics::nia_call(endpoint, outcome, started.elapsed().as_secs_f64());
        result
    }

    async fn call_untimed(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<serde_json::Value, NiaError> {
        let res = req
            .bearer_auth(&self.config.api_token)
            .send()
            .await
            .map_err(|e| NiaError::Unavailable(e.to_string()))?;
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        if status.is_server_error() {
            return Err(NiaError::Unavailable(format!("HTTP {status}")));
        }
        if !status.is_success() {
            let code = body["error"].as_str().unwrap_or("UNKNOWN").to_owned();
            return Err(NiaError::Refused(code));
        }
        Ok(body)
    }

    /// Ztotožnění: matches the person behind `bsi` against the population register.
    pub async fn match_person(&self, bsi: &str) -> Result<(), NiaError> {
        let url = format!("{}/ztotozneni", self.config.api_url);
        self.call(
            "ztotozneni",
            self.http.post(url).json(&serde_json::json!({ "bsi": bsi })),
        )
        .await
        .map(|_| ())
    }

    /// Registers a means (one of our keys, `means_ref`) for the person at LoA substantial;
    /// registering the same reference again gives the same means.
    pub async fn register_means(&self, bsi: &str, means_ref: &str) -> Result<String, NiaError> {
        let url = format!("{}/prostredek/registrovat", self.config.api_url);
        let body = self
            .call(
                "prostredek/registrovat",
                self.http.post(url).json(&serde_json::json!({
                    "bsi": bsi, "means_ref": means_ref, "loa": "substantial"
                })),
            )
            .await?;
        body["means_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| NiaError::Invalid("no means_id".into()))
    }

    /// Deactivates a means.
    pub async fn deactivate_means(&self, bsi: &str, means_id: &str) -> Result<(), NiaError> {
        let url = format!("{}/prostredek/zneplatnit", self.config.api_url);
        match self
            .call(
                "prostredek/zneplatnit",
                self.http
                    .post(url)
                    .json(&serde_json::json!({ "bsi": bsi, "means_id": means_id })),
            )
            .await
        {
            Ok(_) => Ok(()),
            // already gone at NIA: what we wanted
            Err(NiaError::Refused(c)) if c == "UNKNOWN_MEANS" => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The person's active means that we registered (NIA's list, `prostredky`).
    pub async fn means_of(&self, bsi: &str) -> Result<Vec<ActiveMeans>, NiaError> {
        let url = format!("{}/prostredky", self.config.api_url);
        let body = self
            .call("prostredky", self.http.get(url).query(&[("bsi", bsi)]))
            .await?;
        serde_json::from_value(body["means"].clone()).map_err(|e| NiaError::Invalid(e.to_string()))
    }

    /// Registry changes of linked persons after `since`.
    pub async fn changes(&self, since: i64) -> Result<(Vec<Change>, i64), NiaError> {
        let url = format!("{}/zmeny?since={since}", self.config.api_url);
        let body = self.call("zmeny", self.http.get(url)).await?;
        let changes: Vec<Change> = serde_json::from_value(body["changes"].clone())
            .map_err(|e| NiaError::Invalid(e.to_string()))?;
        let last = body["last"].as_i64().unwrap_or(since);
        Ok((changes, last))
    }
}

/// Reads a Response whose signature has been verified (`signed` is the part the signature
/// covers): issuer, destination, times and, for a success, the assertion's audience,
/// recipient, LoA and the person's attributes. Which request it answers (InResponseTo) and
/// replay are for the caller to check.
pub(crate) fn read_response(
    config: &NiaConfig,
    signed: &str,
    now: i64,
) -> Result<VerifiedResponse, NiaError> {
    let invalid = |m: &str| NiaError::Invalid(m.to_owned());
    let resp: samael::schema::Response = signed
        .parse()
        .map_err(|e| NiaError::Invalid(format!("Response: {e}")))?;
    if resp.issuer.as_ref().and_then(|i| i.value.as_deref()) != Some(NIA_ENTITY_ID) {
        return Err(invalid("the issuer is not NIA"));
    }
    if resp.destination.as_deref() != Some(config.acs_url.as_str()) {
        return Err(invalid("the response is for another destination"));
    }
    let issued = resp.issue_instant.timestamp();
    if issued > now + SKEW_SECS || issued < now - 600 {
        return Err(invalid("the response is expired or from the future"));
    }
    let in_response_to = resp
        .in_response_to
        .clone()
        .ok_or_else(|| invalid("the response answers no request"))?;
    let top = resp
        .status
        .as_ref()
        .and_then(|s| s.status_code.value.clone())
        .unwrap_or_default();
    if !top.ends_with(":status:Success") {
        let outcome = if signed.contains(":status:RequestDenied") {
            SamlOutcome::ConsentRefused
        } else if signed.contains(":status:NoAuthnContext") {
            SamlOutcome::LoaTooLow
        } else if signed.contains(":status:AuthnFailed") {
            SamlOutcome::LoginFailed
        } else {
            SamlOutcome::Unavailable
        };
        return Ok(VerifiedResponse {
            in_response_to,
            outcome,
        });
    }
    let a = resp
        .assertion
        .as_ref()
        .ok_or_else(|| invalid("no assertion (encrypted assertions are not accepted yet)"))?;
    if a.issuer.value.as_deref() != Some(NIA_ENTITY_ID) {
        return Err(invalid("the assertion's issuer is not NIA"));
    }
    let c = a
        .conditions
        .as_ref()
        .ok_or_else(|| invalid("the assertion has no conditions"))?;
    let not_before = c.not_before.map(|t| t.timestamp()).unwrap_or(i64::MIN);
    let not_after = c
        .not_on_or_after
        .map(|t| t.timestamp())
        .ok_or_else(|| invalid("the assertion has no expiry"))?;
    if now + SKEW_SECS < not_before || now - SKEW_SECS >= not_after {
        return Err(invalid("the assertion is expired or not yet valid"));
    }
    let audience_ok = c.audience_restrictions.as_ref().is_some_and(|rs| {
        rs.iter()
            .all(|r| r.audience.iter().any(|x| x == &config.sp_entity_id))
            && !rs.is_empty()
    });
    if !audience_ok {
        return Err(invalid("the assertion is for another audience"));
    }
    let subject = a.subject.as_ref().ok_or_else(|| invalid("no subject"))?;
    let confirmed = subject.subject_confirmations.as_ref().is_some_and(|cs| {
        cs.iter().any(|sc| {
            sc.subject_confirmation_data.as_ref().is_some_and(|d| {
                d.recipient.as_deref() == Some(config.acs_url.as_str())
                    && d.in_response_to.as_deref() == Some(in_response_to.as_str())
                    && d.not_on_or_after
                        .is_some_and(|t| now - SKEW_SECS < t.timestamp())
            })
        })
    });
    if !confirmed {
        return Err(invalid(
            "the subject confirmation does not match this request",
        ));
    }
    let loa = a
        .authn_statements
        .as_ref()
        .and_then(|s| s.first())
        .and_then(|s| s.authn_context.as_ref())
        .and_then(|c| c.value.as_ref())
        .and_then(|v| v.value.clone())
        .unwrap_or_default();
    if loa != LOA_SUBSTANTIAL && loa != LOA_HIGH {
        return Ok(VerifiedResponse {
            in_response_to,
            outcome: SamlOutcome::LoaTooLow,
        });
    }
    let attr = |name: &str| -> Option<String> {
        a.attribute_statements.as_ref()?.iter().find_map(|s| {
            s.attributes
                .iter()
                .find(|at| at.name.as_deref() == Some(&format!("{NATURAL}{name}")))
                .and_then(|at| at.values.first())
                .and_then(|v| v.value.clone())
        })
    };
    let bsi = attr("PersonIdentifier")
        .or_else(|| subject.name_id.as_ref().map(|n| n.value.clone()))
        .ok_or_else(|| invalid("no PersonIdentifier"))?;
    let address = attr("CurrentAddress")
        .and_then(|b64| String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok());
    let part = |xml: &Option<String>, tag: &str| -> Option<String> {
        let xml = xml.as_ref()?;
        let open = format!("<eidas:{tag}>");
        let start = xml.find(&open)? + open.len();
        let end = xml[start..].find("</")? + start;
        Some(unescape(&xml[start..end]))
    };
    let data = RegistryData {
        bsi,
        given_name: attr("CurrentGivenName").ok_or_else(|| invalid("no CurrentGivenName"))?,
        family_name: attr("CurrentFamilyName").ok_or_else(|| invalid("no CurrentFamilyName"))?,
        birth_date: attr("DateOfBirth").ok_or_else(|| invalid("no DateOfBirth"))?,
        birth_place: attr("PlaceOfBirth"),
        street: part(&address, "Thoroughfare"),
        house_number: part(&address, "LocatorDesignator"),
        city: part(&address, "PostName"),
        postcode: part(&address, "PostCode"),
    };
    Ok(VerifiedResponse {
        in_response_to,
        outcome: SamlOutcome::Success {
            data: Box::new(data),
            assertion_id: a.id.clone(),
            valid_until: not_after,
        },
    })
}

/// Reads a register delivery whose signature has been verified.
pub(crate) fn read_delivery(signed: &str) -> Result<Delivery, NiaError> {
    let invalid = |m: &str| NiaError::Invalid(m.to_owned());
    let tag = |name: &str| -> Option<String> {
        let open = format!("<rob:{name}>");
        let start = signed.find(&open)? + open.len();
        let end = signed[start..].find(&format!("</rob:{name}>"))? + start;
        Some(unescape(signed[start..end].trim()))
    };
    let required = |name: &str| {
        tag(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid(&format!("no {name}")))
    };
    Ok(Delivery {
        message_id: required("PodaniId")?,
        message_for_recipient: tag("ZpravaProPrijemce").unwrap_or_default(),
        data: RegistryData {
            bsi: String::new(),
            given_name: required("Jmeno")?,
            family_name: required("Prijmeni")?,
            birth_date: required("DatumNarozeni")?,
            birth_place: tag("MistoNarozeni").filter(|v| !v.is_empty()),
            street: tag("Ulice").filter(|v| !v.is_empty()),
            house_number: tag("CisloDomovni").filter(|v| !v.is_empty()),
            city: tag("Obec").filter(|v| !v.is_empty()),
            postcode: tag("Psc").filter(|v| !v.is_empty()),
        },
        document: tag("Pdf"),
    })
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

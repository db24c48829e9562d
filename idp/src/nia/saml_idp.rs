//! Our identity-provider side of SAML toward NIA (DESIGN §7, role 2): the IdP descriptor in
//! our metadata, NIA's signed AuthnRequest as it arrives at our SSO endpoint (HTTP-POST
//! binding, enveloped signature) and the signed Response we answer with. The login flow
//! around them is `nia::login`.
//!
//! What an AuthnRequest must be before anyone sees a login page: signed by NIA (RSA-SHA256,
//! the certificate from NIA's pinned metadata), issued by NIA, addressed to our SSO
//! endpoint, issued within the last five minutes, asking for an answer at NIA's registered
//! assertion consumer and for a level we know. Its ID is seen once (the caller stores it).
//!
//! The Response: Response and Assertion both signed (RSA-SHA256, SHA-256 digests, exclusive
//! c14n), the assertion encrypted to NIA's certificate (AES-256-CBC, RSA-OAEP), the subject
//! NIA's identifier of the means (the key) that answered, with the level reached as
//! AuthnContextClassRef, AuthnInstant, SessionIndex, audience NIA and five minutes of
//! validity. A refusal is a signed Response with NIA's status codes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::client::{esc, instant, NiaClient, NiaError, NIA_ENTITY_ID, SKEW_SECS};
use super::loa::Loa;

/// The largest SAMLRequest (base64) the SSO endpoint reads; NIA's are a few kilobytes.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// How old an AuthnRequest may be when it arrives.
pub const REQUEST_MAX_AGE_SECS: i64 = 300;
/// How long our Response (and the assertion in it) is valid.
const RESPONSE_VALID_SECS: i64 = 300;

/// A verified AuthnRequest from NIA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginRequest {
    /// Its ID: our Response answers it (InResponseTo), and it is accepted once.
    pub id: String,
    /// The service the citizen is logging into, as NIA names it (`ProviderName`).
    pub service: String,
    /// The lowest level the service accepts.
    pub requested: Loa,
    pub force_authn: bool,
    pub issued_at: i64,
}

/// NIA's status for a login that does not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The citizen could not log in or cancelled.
    AuthnFailed,
    /// The citizen declined, or the account cannot serve NIA (not linked, no means).
    RequestDenied,
    /// The level asked for is above what the account can reach.
    NoAuthnContext,
}

impl Status {
    fn code(self) -> &'static str {
        match self {
            Status::AuthnFailed => "AuthnFailed",
            Status::RequestDenied => "RequestDenied",
            Status::NoAuthnContext => "NoAuthnContext",
        }
    }
}

/// What our Response says.
#[derive(Clone, Debug)]
pub enum Outcome {
    Success {
        /// NIA's identifier of the means that answered.
        means_id: String,
        loa: Loa,
        authn_instant: i64,
        session_index: String,
    },
    Refused {
        status: Status,
        message: String,
    },
}

/// A fresh SAML ID (an XML NCName: it must not start with a digit).
pub(crate) fn new_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("_{}", hex::encode(bytes))
}

fn signature_template(id: &str) -> String {
    format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue></ds:Signature>"##
    )
}

/// `xml` without a leading `<?xml …?>` declaration (to embed a signed element).
fn without_declaration(xml: &str) -> &str {
    let t = xml.trim_start();
    match t.strip_prefix("<?xml") {
        Some(rest) => rest.find("?>").map_or(t, |i| rest[i + 2..].trim_start()),
        None => t,
    }
}

impl NiaClient {
    /// The identity-provider descriptor of our metadata: the signing certificate and the
    /// SSO endpoint NIA sends citizens to.
    pub(crate) fn idp_descriptor(&self, cert_b64: &str) -> String {
        format!(
            r#"<md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{sso}"/>
</md:IDPSSODescriptor>"#,
            sso = esc(&self.config.idp_sso_url),
        )
    }

    /// Verifies an AuthnRequest NIA posted to our SSO endpoint (`SAMLRequest`, base64).
    /// Whether its ID was seen before is for the caller to check.
    pub async fn verify_login_request(
        &self,
        saml_request: &str,
        now: i64,
    ) -> Result<LoginRequest, NiaError> {
        let invalid = |m: &str| NiaError::Invalid(m.to_owned());
        if saml_request.len() > MAX_REQUEST_BYTES {
            return Err(invalid("the request is too large"));
        }
        let xml = STANDARD
            .decode(saml_request.split_whitespace().collect::<String>())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| invalid("SAMLRequest is not base64 XML"))?;
        let signed = self.verified_xml(xml, now).await?.ok_or_else(|| {
            invalid("the request's signature does not verify with NIA's certificate")
        })?;
        read_login_request(&self.config, &signed, now)
    }

    /// Our signed Response to NIA's request `in_response_to`, base64 for the HTTP-POST
    /// binding. Signing runs on the blocking pool.
    pub async fn login_response(
        &self,
        in_response_to: &str,
        outcome: &Outcome,
        now: i64,
    ) -> Result<String, NiaError> {
        let doc = self.unsigned_response(in_response_to, outcome, now);
        let der = self
            .key
            .private_key_to_der()
            .map_err(|e| NiaError::Config(e.to_string()))?;
        // the assertion is for NIA's eyes only: encrypted to its certificate
        let to = match doc.assertion {
            Some(_) => Some(self.nia_certificate(now, false).await?.encryption),
            None => None,
        };
        let signed = tokio::task::spawn_blocking(move || sign_response(doc, &der, to.as_deref()))
            .await
            .map_err(|e| NiaError::Config(format!("signing stopped: {e}")))??;
        Ok(STANDARD.encode(signed))
    }

    /// The Response with its assertion, each with an empty signature template; the assertion
    /// (if any) is returned apart, to be signed first.
    fn unsigned_response(&self, irt: &str, outcome: &Outcome, now: i64) -> Unsigned {
        let us = esc(&self.config.sp_entity_id);
        let acs = esc(&self.config.login_acs_url);
        let irt = esc(irt);
        let issued = instant(now);
        let until = instant(now + RESPONSE_VALID_SECS);
        let rid = new_id();
        let (status, assertion) = match outcome {
            Outcome::Success {
                means_id,
                loa,
                authn_instant,
                session_index,
            } => {
                let aid = new_id();
                let assertion = format!(
                    r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{aid}" Version="2.0" IssueInstant="{issued}"><saml:Issuer>{us}</saml:Issuer>{sig}<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" NameQualifier="{us}" SPNameQualifier="{NIA_ENTITY_ID}">{subject}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="{irt}" NotOnOrAfter="{until}" Recipient="{acs}"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{issued}" NotOnOrAfter="{until}"><saml:AudienceRestriction><saml:Audience>{NIA_ENTITY_ID}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{authn}" SessionIndex="{session}"><saml:AuthnContext><saml:AuthnContextClassRef>{loa}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement></saml:Assertion>"#,
                    sig = signature_template(&aid),
                    subject = esc(means_id),
                    authn = instant(*authn_instant),
                    session = esc(session_index),
                    loa = loa.uri(),
                );
                (
                    r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#.to_owned(),
                    Some(assertion),
                )
            }
            Outcome::Refused { status, message } => (
                format!(
                    r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:{code}"/></samlp:StatusCode><samlp:StatusMessage>{message}</samlp:StatusMessage></samlp:Status>"#,
                    code = status.code(),
                    message = esc(message),
                ),
                None,
            ),
        };
        Unsigned {
            head: format!(
                r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{rid}" Version="2.0" IssueInstant="{issued}" Destination="{acs}" InResponseTo="{irt}"><saml:Issuer>{us}</saml:Issuer>{sig}{status}"#,
                sig = signature_template(&rid),
            ),
            assertion,
            tail: "</samlp:Response>",
        }
    }
}

struct Unsigned {
    head: String,
    assertion: Option<String>,
    tail: &'static str,
}

/// Signs the assertion, encrypts it to `encrypt_to` (NIA's certificate, DER), puts it into
/// the Response and signs the Response (xmlsec signs the first empty template it finds, so
/// the assertion goes in only after it is signed).
fn sign_response(
    doc: Unsigned,
    key_der: &[u8],
    encrypt_to: Option<&[u8]>,
) -> Result<String, NiaError> {
    use samael::crypto::{Crypto, CryptoProvider};
    let sign = |xml: &str| {
        Crypto::sign_xml(xml, key_der).map_err(|e| NiaError::Config(format!("signing: {e}")))
    };
    let assertion = match (&doc.assertion, encrypt_to) {
        (Some(a), Some(cert)) => encrypt_assertion(without_declaration(&sign(a)?), cert)?,
        (Some(a), None) => sign(a)?,
        (None, _) => String::new(),
    };
    // the Response's template is now the first empty one; nothing is re-serialised between
    let whole = format!(
        "{}{}{}",
        doc.head,
        without_declaration(&assertion),
        doc.tail
    );
    sign(&whole)
}

/// `<saml:EncryptedAssertion>` of a signed assertion as NIA's profile has it (XML
/// Encryption: AES-256-CBC with the IV before the ciphertext, the key wrapped with RSA-OAEP
/// (MGF1, SHA-1) to `cert_der`).
fn encrypt_assertion(assertion: &str, cert_der: &[u8]) -> Result<String, NiaError> {
    use openssl::rsa::Padding;
    let e = |m: openssl::error::ErrorStack| NiaError::Config(format!("encrypting: {m}"));
    let cert = openssl::x509::X509::from_der(cert_der).map_err(e)?;
    let rsa = cert.public_key().and_then(|k| k.rsa()).map_err(e)?;
    let mut key = [0u8; 32];
    let mut iv = [0u8; 16];
    openssl::rand::rand_bytes(&mut key).map_err(e)?;
    openssl::rand::rand_bytes(&mut iv).map_err(e)?;
    let mut data = iv.to_vec();
    data.extend(
        openssl::symm::encrypt(
            openssl::symm::Cipher::aes_256_cbc(),
            &key,
            Some(&iv),
            assertion.as_bytes(),
        )
        .map_err(e)?,
    );
    let mut wrapped = vec![0u8; rsa.size() as usize];
    let n = rsa
        .public_encrypt(&key, &mut wrapped, Padding::PKCS1_OAEP)
        .map_err(e)?;
    wrapped.truncate(n);
    Ok(format!(
        r#"<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></xenc:EncryptionMethod><xenc:CipherData><xenc:CipherValue>{key}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>{data}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>"#,
        key = STANDARD.encode(wrapped),
        data = STANDARD.encode(data),
    ))
}

/// Reads an AuthnRequest whose signature has been verified (`signed` is the part the
/// signature covers) and checks what it asks for.
pub(crate) fn read_login_request(
    config: &super::client::NiaConfig,
    signed: &str,
    now: i64,
) -> Result<LoginRequest, NiaError> {
    let invalid = |m: &str| NiaError::Invalid(m.to_owned());
    let req: samael::schema::AuthnRequest = signed
        .parse()
        .map_err(|e| NiaError::Invalid(format!("AuthnRequest: {e}")))?;
    if req.issuer.as_ref().and_then(|i| i.value.as_deref()) != Some(NIA_ENTITY_ID) {
        return Err(invalid("the request is not from NIA"));
    }
    if req.destination.as_deref() != Some(config.idp_sso_url.as_str()) {
        return Err(invalid("the request is for another destination"));
    }
    let issued = req.issue_instant.timestamp();
    if issued > now + SKEW_SECS || issued < now - REQUEST_MAX_AGE_SECS {
        return Err(invalid("the request is expired or from the future"));
    }
    if req.assertion_consumer_service_url.as_deref() != Some(config.login_acs_url.as_str()) {
        return Err(invalid(
            "the request asks for an answer at an address that is not NIA's",
        ));
    }
    if req
        .protocol_binding
        .as_deref()
        .is_some_and(|b| b != "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")
    {
        return Err(invalid(
            "the request asks for a binding other than HTTP-POST",
        ));
    }
    let context = req
        .requested_authn_context
        .as_ref()
        .ok_or_else(|| invalid("the request names no level of assurance"))?;
    // `minimum` (NIA's) or `exact`: the lowest level named is what the service accepts
    let requested = context
        .authn_context_class_refs
        .iter()
        .flatten()
        .filter_map(|r| r.value.as_deref().and_then(Loa::from_uri))
        .min()
        .ok_or_else(|| invalid("the request names no level of assurance we know"))?;
    if req.id.is_empty() || req.id.len() > 256 {
        return Err(invalid("the request's ID is missing or too long"));
    }
    let service = req
        .provider_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(200).collect())
        .unwrap_or_default();
    Ok(LoginRequest {
        id: req.id,
        service,
        requested,
        force_authn: req.force_authn.unwrap_or(false),
        issued_at: issued,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../../fuzz/seeds/saml_authn_request/request.xml");
    /// The seed's IssueInstant (2026-11-25T10:00:00Z, the fuzzers' clock).
    const ISSUED: i64 = 1_795_600_800;

    fn config() -> super::super::client::NiaConfig {
        super::super::client::NiaConfig {
            sso_url: "https://nia.example/FPSTS/saml2/basic".into(),
            metadata_url: "https://nia.example/metadata".into(),
            api_url: "https://nia.example/idp-api".into(),
            api_token: String::new(),
            sp_entity_id: "https://mojeid.example/saml/metadata".into(),
            acs_url: "https://mojeid.example/nia/acs".into(),
            idp_sso_url: "https://mojeid.example/saml/idp/sso".into(),
            login_acs_url: "https://nia.example/FPSTS/mojeid/acs".into(),
            signing_cert_pins: Vec::new(),
        }
    }

    fn read(xml: &str, now: i64) -> Result<LoginRequest, String> {
        read_login_request(&config(), xml, now).map_err(|e| e.to_string())
    }

    #[test]
    fn a_request_from_nia_names_the_service_and_the_level() {
        let r = read(SEED, ISSUED + 10).expect("read");
        assert_eq!(r.id, "_0123456789abcdef0123456789abcdef");
        assert_eq!(r.service, "Portál občana");
        assert_eq!(r.requested, Loa::Substantial);
        assert!(r.force_authn);
        let high = SEED.replace("LoA/substantial", "LoA/high");
        assert_eq!(read(&high, ISSUED).expect("high").requested, Loa::High);
    }

    #[test]
    fn a_request_for_another_place_time_issuer_or_level_is_refused() {
        for (what, xml, now) in [
            (
                "issuer",
                SEED.replace("urn:microsoft:cgg2010:fpsts", "urn:evil"),
                ISSUED,
            ),
            (
                "destination",
                SEED.replace(
                    "https://mojeid.example/saml/idp/sso",
                    "https://other.example/sso",
                ),
                ISSUED,
            ),
            (
                "address that is not NIA's",
                SEED.replace(
                    "https://nia.example/FPSTS/mojeid/acs",
                    "https://evil.example/acs",
                ),
                ISSUED,
            ),
            (
                "expired",
                SEED.to_owned(),
                ISSUED + REQUEST_MAX_AGE_SECS + 1,
            ),
            ("from the future", SEED.to_owned(), ISSUED - SKEW_SECS - 1),
            (
                "level",
                SEED.replace("http://eidas.europa.eu/LoA/substantial", "urn:unknown"),
                ISSUED,
            ),
            (
                "binding",
                SEED.replace("bindings:HTTP-POST", "bindings:HTTP-Artifact"),
                ISSUED,
            ),
        ] {
            assert!(read(&xml, now).is_err(), "accepted with a wrong {what}");
        }
    }
}

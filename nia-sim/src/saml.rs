//! NIA's SAML side: its signing key and certificate (made on first start, kept in the data
//! directory), its metadata, checking a service provider's signed AuthnRequest (HTTP-Redirect
//! binding) and building the signed Response it posts back.

use std::io::Read;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use samael::crypto::{CertificateDer, CryptoProvider, UrlVerifier};
use samael::schema::AuthnRequest;

use crate::population::Citizen;

pub const ENTITY_ID: &str = "urn:microsoft:cgg2010:fpsts";
pub const LOA_SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";
pub const LOA_HIGH: &str = "http://eidas.europa.eu/LoA/high";
const NATURAL: &str = "http://eidas.europa.eu/attributes/naturalperson/";

/// The simulator's signing identity.
pub struct Signer {
    pub key: PKey<Private>,
    pub cert: X509,
}

#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    #[error("{0}")]
    Request(String),
    #[error("signing failed: {0}")]
    Signing(String),
}

impl Signer {
    /// Loads `nia-key.pem` and `nia-cert.pem` from `dir`, making them on first start.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Self> {
        let (kp, cp) = (dir.join("nia-key.pem"), dir.join("nia-cert.pem"));
        let err = |e: openssl::error::ErrorStack| std::io::Error::other(e.to_string());
        if kp.exists() && cp.exists() {
            let key = PKey::private_key_from_pem(&std::fs::read(&kp)?).map_err(err)?;
            let cert = X509::from_pem(&std::fs::read(&cp)?).map_err(err)?;
            return Ok(Self { key, cert });
        }
        std::fs::create_dir_all(dir)?;
        let (key, cert) = self_signed("GG_FPSTS_TEST (simulator)").map_err(err)?;
        std::fs::write(&kp, key.private_key_to_pem_pkcs8().map_err(err)?)?;
        std::fs::write(&cp, cert.to_pem().map_err(err)?)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&kp, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(Self { key, cert })
    }

    fn cert_b64(&self) -> String {
        STANDARD.encode(self.cert.to_der().unwrap_or_default())
    }

    /// `FederationMetadata.xml`: the IdP descriptor with the signing certificate and endpoints.
    pub fn metadata(&self, base: &str) -> String {
        let cert = self.cert_b64();
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{ENTITY_ID}">
<md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{base}/FPSTS/saml2/basic"/>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{base}/FPSTS/saml2/basic"/>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{base}/FPSTS/saml2/basic"/>
</md:IDPSSODescriptor>
</md:EntityDescriptor>"#
        )
    }
}

fn self_signed(cn: &str) -> Result<(PKey<Private>, X509), openssl::error::ErrorStack> {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::rsa::Rsa;
    use openssl::x509::{X509NameBuilder, X509};
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("C", "CZ")?;
    name.append_entry_by_text("O", "Správa základních registrů (simulátor)")?;
    name.append_entry_by_text("CN", cn)?;
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
}

/// A verified AuthnRequest: who asks, where to answer, and the LoA asked for.
#[derive(Clone, Debug)]
pub struct Request {
    pub id: String,
    pub issuer: String,
    pub acs_url: String,
    pub loa: String,
    pub relay_state: Option<String>,
}

/// Checks an HTTP-Redirect AuthnRequest (`query` as received, percent-encoded) against the
/// service provider's certificate (`sp_cert_der`, from its metadata).
pub fn verify_redirect_request(
    query: &str,
    sp_cert_der: &[u8],
    expected_issuer: &str,
) -> Result<Request, SamlError> {
    let bad = |m: &str| SamlError::Request(m.to_owned());
    let url = url::Url::parse(&format!("http://sim.invalid/?{query}"))
        .map_err(|_| bad("malformed query"))?;
    let param = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    let saml_request = param("SAMLRequest").ok_or_else(|| bad("no SAMLRequest"))?;
    let sig_alg = param("SigAlg").ok_or_else(|| bad("the request is not signed (no SigAlg)"))?;
    if sig_alg != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
        return Err(bad("only RSA-SHA256 signatures are accepted"));
    }
    param("Signature").ok_or_else(|| bad("the request is not signed"))?;
    let verifier = UrlVerifier::from_x509(&CertificateDer::from(sp_cert_der.to_vec()))
        .map_err(|e| bad(&format!("service provider certificate: {e}")))?;
    if !verifier.verify_signed_request_url(&url).unwrap_or(false) {
        return Err(bad("the request's signature does not verify"));
    }
    let deflated = STANDARD
        .decode(saml_request.as_bytes())
        .map_err(|_| bad("SAMLRequest is not base64"))?;
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&deflated[..])
        .take(256 * 1024)
        .read_to_string(&mut xml)
        .map_err(|_| bad("SAMLRequest is not deflated XML"))?;
    let req: AuthnRequest = xml
        .parse()
        .map_err(|e| bad(&format!("AuthnRequest: {e}")))?;
    let issuer = req
        .issuer
        .as_ref()
        .and_then(|i| i.value.clone())
        .ok_or_else(|| bad("no Issuer"))?;
    if issuer != expected_issuer {
        return Err(bad("unknown service provider"));
    }
    let acs_url = req
        .assertion_consumer_service_url
        .clone()
        .ok_or_else(|| bad("no AssertionConsumerServiceURL"))?;
    let loa = req
        .requested_authn_context
        .as_ref()
        .and_then(|c| c.authn_context_class_refs.as_ref())
        .and_then(|r| r.first())
        .and_then(|r| r.value.clone())
        .unwrap_or_else(|| LOA_SUBSTANTIAL.to_owned());
    Ok(Request {
        id: req.id,
        issuer,
        acs_url,
        loa,
        relay_state: param("RelayState"),
    })
}

/// The outcome the citizen's visit at the portal gives.
pub enum Outcome<'a> {
    /// Logged in with eObčanka (LoA high) and consented: the person and our BSI for the SP.
    Success { citizen: &'a Citizen, bsi: &'a str },
    /// Refused consent.
    RequestDenied,
    /// Could not log in (wrong PIN three times, card blocked).
    AuthnFailed,
    /// The means used is below the LoA asked for.
    NoAuthnContext,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn signature_template(id: &str) -> String {
    format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue></ds:Signature>"##
    )
}

fn attribute(name: &str, value: &str) -> String {
    format!(
        r#"<saml:Attribute Name="{name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"><saml:AttributeValue>{}</saml:AttributeValue></saml:Attribute>"#,
        esc(value)
    )
}

pub(crate) fn new_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

pub(crate) fn instant(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

/// The `CurrentAddress` attribute: base64 of the eIDAS address XML.
pub fn address_xml(c: &Citizen) -> Option<String> {
    let a = c.address.as_ref()?;
    let xml = format!(
        r#"<eidas:LocatorDesignator>{}</eidas:LocatorDesignator><eidas:Thoroughfare>{}</eidas:Thoroughfare><eidas:PostName>{}</eidas:PostName><eidas:PostCode>{}</eidas:PostCode><eidas:CvaddressArea>{}</eidas:CvaddressArea>"#,
        esc(&a.number),
        esc(&a.street),
        esc(&a.city),
        esc(&a.postcode),
        esc(&a.city)
    );
    Some(STANDARD.encode(xml))
}

/// The signed Response (Response and Assertion both signed, RSA-SHA256, exclusive c14n)
/// for `req`, valid for five minutes from `now`.
pub fn response(
    signer: &Signer,
    req: &Request,
    outcome: &Outcome<'_>,
    now: time::OffsetDateTime,
) -> Result<String, SamlError> {
    let rid = new_id();
    let issued = instant(now);
    let until = instant(now + time::Duration::minutes(5));
    let status = match outcome {
        Outcome::Success { .. } => {
            r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#.to_owned()
        }
        Outcome::RequestDenied => failure("RequestDenied", "The citizen refused consent."),
        Outcome::AuthnFailed => failure("AuthnFailed", "The login with eObčanka failed."),
        Outcome::NoAuthnContext => failure("NoAuthnContext", "The means is below the requested level."),
    };
    let assertion = match outcome {
        Outcome::Success { citizen, bsi } => {
            let aid = new_id();
            let mut attrs = vec![
                attribute(&format!("{NATURAL}PersonIdentifier"), bsi),
                attribute(&format!("{NATURAL}CurrentGivenName"), &citizen.given_name),
                attribute(&format!("{NATURAL}CurrentFamilyName"), &citizen.family_name),
                attribute(&format!("{NATURAL}DateOfBirth"), &citizen.birth_date),
                attribute(&format!("{NATURAL}PlaceOfBirth"), &citizen.birth_place),
            ];
            if let Some(a) = address_xml(citizen) {
                attrs.push(attribute(&format!("{NATURAL}CurrentAddress"), &a));
            }
            attrs.push(attribute(
                "http://schemas.identitaobcana.cz/moris/2016/identity/claims/idtype",
                "ID",
            ));
            attrs.push(attribute(
                "http://schemas.identitaobcana.cz/moris/2016/identity/claims/idnumber",
                &citizen.card_number,
            ));
            let unsigned = format!(
                r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{aid}" Version="2.0" IssueInstant="{issued}"><saml:Issuer>{ENTITY_ID}</saml:Issuer>{sig}<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{bsi}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="{irt}" NotOnOrAfter="{until}" Recipient="{acs}"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{issued}" NotOnOrAfter="{until}"><saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{issued}" SessionIndex="{aid}"><saml:AuthnContext><saml:AuthnContextClassRef>{LOA_HIGH}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>{attrs}</saml:AttributeStatement></saml:Assertion>"#,
                sig = signature_template(&aid),
                irt = esc(&req.id),
                acs = esc(&req.acs_url),
                aud = esc(&req.issuer),
                attrs = attrs.concat(),
            );
            sign(signer, &unsigned)?
        }
        _ => String::new(),
    };
    let assertion = without_declaration(&assertion);
    let doc = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{rid}" Version="2.0" IssueInstant="{issued}" Destination="{acs}" InResponseTo="{irt}"><saml:Issuer>{ENTITY_ID}</saml:Issuer>{sig}{status}{assertion}</samlp:Response>"#,
        acs = esc(&req.acs_url),
        irt = esc(&req.id),
        sig = signature_template(&rid),
    );
    sign(signer, &doc)
}

fn failure(code: &str, message: &str) -> String {
    format!(
        r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:{code}"/></samlp:StatusCode><samlp:StatusMessage>{message}</samlp:StatusMessage></samlp:Status>"#
    )
}

/// A Responder status for a request that cannot be served (outage).
pub fn unavailable(
    signer: &Signer,
    req: &Request,
    now: time::OffsetDateTime,
) -> Result<String, SamlError> {
    let rid = new_id();
    let doc = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{rid}" Version="2.0" IssueInstant="{issued}" Destination="{acs}" InResponseTo="{irt}"><saml:Issuer>{ENTITY_ID}</saml:Issuer>{sig}<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"/><samlp:StatusMessage>NIA is temporarily unavailable.</samlp:StatusMessage></samlp:Status></samlp:Response>"#,
        issued = instant(now),
        acs = esc(&req.acs_url),
        irt = esc(&req.id),
        sig = signature_template(&rid),
    );
    sign(signer, &doc)
}

/// `xml` without its leading `<?xml …?>` declaration (to embed a signed element).
fn without_declaration(xml: &str) -> &str {
    let t = xml.trim_start();
    match t.strip_prefix("<?xml") {
        Some(rest) => rest.find("?>").map_or(t, |i| rest[i + 2..].trim_start()),
        None => t,
    }
}

/// Signs the first empty signature template of `xml` (xmlsec, via samael).
fn sign(signer: &Signer, xml: &str) -> Result<String, SamlError> {
    let der = signer
        .key
        .private_key_to_der()
        .map_err(|e| SamlError::Signing(e.to_string()))?;
    samael::crypto::Crypto::sign_xml(xml, &der).map_err(|e| SamlError::Signing(e.to_string()))
}

/// The register's delivery of a person's reference data to the recipient named at Czech
/// POINT ("Poskytnutí údajů z registru obyvatel jiné osobě"), signed (enveloped, RSA-SHA256,
/// exclusive c14n). `message` is the office's "message for the recipient".
pub fn delivery(
    signer: &Signer,
    message_id: &str,
    recipient: &str,
    message: &str,
    c: &Citizen,
    pdf_b64: &str,
    now: time::OffsetDateTime,
) -> Result<String, SamlError> {
    let id = new_id();
    let a = c.address.clone().unwrap_or(crate::population::Address {
        street: String::new(),
        number: String::new(),
        city: String::new(),
        postcode: String::new(),
    });
    let doc = format!(
        r#"<rob:Doruceni xmlns:rob="urn:cz:isvs:rob:schemas:PoskytnutiUdajuJineOsobe:v1" ID="{id}" Vytvoreno="{at}"><rob:PodaniId>{mid}</rob:PodaniId><rob:Prijemce>{rcp}</rob:Prijemce><rob:ZpravaProPrijemce>{msg}</rob:ZpravaProPrijemce><rob:Osoba><rob:Jmeno>{g}</rob:Jmeno><rob:Prijmeni>{f}</rob:Prijmeni><rob:DatumNarozeni>{b}</rob:DatumNarozeni><rob:MistoNarozeni>{p}</rob:MistoNarozeni><rob:StatniObcanstvi>{cz}</rob:StatniObcanstvi><rob:Pobyt><rob:Ulice>{st}</rob:Ulice><rob:CisloDomovni>{nu}</rob:CisloDomovni><rob:Obec>{ci}</rob:Obec><rob:Psc>{pc}</rob:Psc></rob:Pobyt></rob:Osoba><rob:Pdf>{pdf}</rob:Pdf>{sig}</rob:Doruceni>"#,
        at = instant(now),
        mid = esc(message_id),
        rcp = esc(recipient),
        msg = esc(message),
        g = esc(&c.given_name),
        f = esc(&c.family_name),
        b = esc(&c.birth_date),
        p = esc(&c.birth_place),
        cz = esc(&c.citizenship),
        st = esc(&a.street),
        nu = esc(&a.number),
        ci = esc(&a.city),
        pc = esc(&a.postcode),
        pdf = pdf_b64,
        sig = signature_template(&id),
    );
    sign(signer, &doc)
}

/// A one-page PDF of the extract (Helvetica, so the text is kept to ASCII letters).
pub fn extract_pdf(c: &Citizen, message: &str) -> Vec<u8> {
    let ascii = |s: &str| -> String {
        s.chars()
            .map(|ch| match ch {
                'á' => 'a',
                'č' => 'c',
                'ď' => 'd',
                'é' | 'ě' => 'e',
                'í' => 'i',
                'ň' => 'n',
                'ó' => 'o',
                'ř' => 'r',
                'š' => 's',
                'ť' => 't',
                'ú' | 'ů' => 'u',
                'ý' => 'y',
                'ž' => 'z',
                'Á' => 'A',
                'Č' => 'C',
                'Ď' => 'D',
                'É' | 'Ě' => 'E',
                'Í' => 'I',
                'Ň' => 'N',
                'Ó' => 'O',
                'Ř' => 'R',
                'Š' => 'S',
                'Ť' => 'T',
                'Ú' | 'Ů' => 'U',
                'Ý' => 'Y',
                'Ž' => 'Z',
                'ü' => 'u',
                c if c.is_ascii() && c != '(' && c != ')' && c != '\\' => c,
                _ => ' ',
            })
            .collect()
    };
    let address = c
        .address
        .as_ref()
        .map(|a| format!("{} {}, {} {}", a.street, a.number, a.postcode, a.city))
        .unwrap_or_default();
    let lines = [
        "Vypis referencnich udaju z registru obyvatel".to_owned(),
        "Poskytnuti udaju z registru obyvatel jine osobe".to_owned(),
        format!("Jmeno a prijmeni: {} {}", c.given_name, c.family_name),
        format!(
            "Datum a misto narozeni: {}, {}",
            c.birth_date, c.birth_place
        ),
        format!("Adresa pobytu: {address}"),
        format!("Zprava pro prijemce: {message}"),
    ];
    let mut content = String::from("BT /F1 12 Tf 72 770 Td 16 TL\n");
    for l in lines {
        content.push_str(&format!("({}) Tj T*\n", ascii(&l)));
    }
    content.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        pdf.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

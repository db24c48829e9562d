//! Software FIDO for tests: a test certificate authority that signs metadata BLOBs and
//! attestation certificates, and a software security key that registers with `packed`
//! attestation and answers login challenges, so every verdict and every refusal can be
//! produced on demand.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde_cbor_2::Value as Cbor;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The FIDO extension that carries the AAGUID in an attestation certificate.
const AAGUID_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 45724, 1, 1, 4];

/// A certificate authority: the root of a test BLOB or of a vendor's attestation
/// certificates.
pub struct TestCa {
    key: KeyPair,
    cert: rcgen::Certificate,
}

fn dn(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (t, v) in parts {
        dn.push(t.clone(), *v);
    }
    dn
}

fn params(subject: DistinguishedName) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = subject;
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2046, 11, 1);
    p
}

fn der(c: &rcgen::Certificate) -> Vec<u8> {
    c.der().to_vec()
}

impl TestCa {
    /// A new self-signed P-256 root named `name`.
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("key");
        let mut p = params(dn(&[
            (DnType::CountryName, "CZ"),
            (DnType::OrganizationName, "mojeID tests"),
            (DnType::CommonName, name),
        ]));
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = p.self_signed(&key).expect("root");
        Self { key, cert }
    }

    /// The root certificate, DER.
    pub fn der(&self) -> Vec<u8> {
        der(&self.cert)
    }

    /// The root certificate, PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A metadata BLOB with `entries` (see [`entry`]), signed by a signer certificate this
    /// root issued; `next_update` is `YYYY-MM-DD`.
    pub fn blob(&self, serial: u64, next_update: &str, entries: Vec<Value>) -> String {
        let payload = json!({
            "legalHeader": "Test metadata for mojeID's tests; not FIDO Alliance data.",
            "no": serial,
            "nextUpdate": next_update,
            "entries": entries,
        });
        self.sign_jws(&payload)
    }

    /// Signs any JSON payload as the BLOB signer would (ES256 as RFC 7515 defines it: r‖s, x5c = the signer certificate).
    pub fn sign_jws(&self, payload: &Value) -> String {
        let signer_key = KeyPair::generate().expect("key");
        let mut p = params(dn(&[
            (DnType::CountryName, "CZ"),
            (DnType::OrganizationName, "mojeID tests"),
            (DnType::CommonName, "Test metadata signer"),
        ]));
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let signer = p
            .signed_by(&signer_key, &self.cert, &self.key)
            .expect("signer");
        let header =
            json!({ "alg": "ES256", "typ": "JWT", "x5c": [STANDARD.encode(der(&signer))] });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let sig = sign(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &signer_key,
            signing_input.as_bytes(),
        );
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// An attestation certificate this root issues, as FIDO requires for `packed`
    /// (OU "Authenticator Attestation", not a CA), with the AAGUID extension when given.
    fn attestation_certificate(&self, aaguid: Option<[u8; 16]>) -> (KeyPair, Vec<u8>) {
        let key = KeyPair::generate().expect("key");
        let mut p = params(dn(&[
            (DnType::CountryName, "CZ"),
            (DnType::OrganizationName, "mojeID tests"),
            (DnType::OrganizationalUnitName, "Authenticator Attestation"),
            (DnType::CommonName, "Test security key"),
        ]));
        p.is_ca = IsCa::ExplicitNoCa;
        if let Some(a) = aaguid {
            let mut content = vec![0x04, 0x10];
            content.extend_from_slice(&a);
            p.custom_extensions
                .push(CustomExtension::from_oid_content(AAGUID_OID, content));
        }
        let cert = p
            .signed_by(&key, &self.cert, &self.key)
            .expect("attestation");
        (key, der(&cert))
    }
}

fn sign(
    alg: &'static ring::signature::EcdsaSigningAlgorithm,
    key: &KeyPair,
    msg: &[u8],
) -> Vec<u8> {
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(alg, &key.serialize_der(), &rng).expect("pkcs8");
    pair.sign(&rng, msg).expect("sign").as_ref().to_vec()
}

/// A metadata entry for a FIDO2 model: `reports` are `(status, YYYY-MM-DD)` pairs, and
/// `roots` the attestation roots (DER) its keys chain to.
pub fn entry(
    aaguid: &str,
    description: &str,
    reports: &[(&str, &str)],
    roots: &[Vec<u8>],
) -> Value {
    json!({
        "aaguid": aaguid,
        "metadataStatement": {
            "description": description,
            "aaguid": aaguid,
            "protocolFamily": "fido2",
            "schema": 3,
            "attachmentHint": ["external", "wired"],
            "attestationTypes": ["basic_full"],
            "attestationRootCertificates": roots.iter().map(|r| STANDARD.encode(r)).collect::<Vec<_>>(),
        },
        "statusReports": reports
            .iter()
            .map(|(s, d)| json!({ "status": s, "effectiveDate": d }))
            .collect::<Vec<_>>(),
        "timeOfLastStatusChange": reports.last().map(|r| r.1).unwrap_or("2020-01-01"),
    })
}

/// The textual form of an AAGUID.
pub fn aaguid_text(a: &[u8; 16]) -> String {
    let h = hex::encode(a);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// How a [`SoftKey`] attests its keys.
pub enum Attestation {
    /// `packed` with an attestation certificate from this CA (`basic_full`).
    Packed,
    /// `packed` self attestation: signed with the credential's own key, no certificate.
    SelfAttestation,
    /// `none`: the browser hid the attestation.
    None,
}

/// A software security key with one credential.
pub struct SoftKey {
    pub aaguid: [u8; 16],
    pub credential_id: Vec<u8>,
    credential: KeyPair,
    attestation: Option<(KeyPair, Vec<u8>)>,
    mode: Attestation,
    /// The signature counter the next answer reports (then incremented).
    pub counter: u32,
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false })
        .to_string()
        .into_bytes()
}

fn bytes_of(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

impl SoftKey {
    /// A key of model `aaguid`, attested by `ca` as `mode` says.
    pub fn new(ca: &TestCa, aaguid: [u8; 16], mode: Attestation) -> Self {
        let attestation =
            matches!(mode, Attestation::Packed).then(|| ca.attestation_certificate(Some(aaguid)));
        let mut credential_id = vec![0u8; 32];
        ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut credential_id).expect("rng");
        Self {
            aaguid,
            credential_id,
            credential: KeyPair::generate().expect("key"),
            attestation,
            mode,
            counter: 1,
        }
    }

    fn cose_key(&self) -> Vec<u8> {
        let point = {
            let rng = SystemRandom::new();
            let pair = EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_ASN1_SIGNING,
                &self.credential.serialize_der(),
                &rng,
            )
            .expect("pkcs8");
            pair.public_key().as_ref().to_vec()
        };
        let mut m = BTreeMap::new();
        m.insert(Cbor::Integer(1), Cbor::Integer(2)); // kty: EC2
        m.insert(Cbor::Integer(3), Cbor::Integer(-7)); // alg: ES256
        m.insert(Cbor::Integer(-1), Cbor::Integer(1)); // crv: P-256
        m.insert(Cbor::Integer(-2), Cbor::Bytes(point[1..33].to_vec()));
        m.insert(Cbor::Integer(-3), Cbor::Bytes(point[33..65].to_vec()));
        serde_cbor_2::to_vec(&Cbor::Map(m)).expect("cbor")
    }

    fn auth_data(&self, rp_id: &str, flags: u8, with_credential: bool) -> Vec<u8> {
        let mut d = Sha256::digest(rp_id.as_bytes()).to_vec();
        d.push(flags);
        d.extend_from_slice(&self.counter.to_be_bytes());
        if with_credential {
            d.extend_from_slice(&self.aaguid);
            d.extend_from_slice(
                &u16::try_from(self.credential_id.len())
                    .expect("len")
                    .to_be_bytes(),
            );
            d.extend_from_slice(&self.credential_id);
            d.extend_from_slice(&self.cose_key());
        }
        d
    }

    /// The registration response (`navigator.credentials.create`'s result as JSON) for
    /// `options` (the creation options the server sent).
    pub fn register(&mut self, options: &Value, origin: &str) -> Value {
        let pk = &options["publicKey"];
        let rp_id = pk["rp"]["id"].as_str().unwrap_or_default().to_owned();
        let challenge = bytes_of(pk, "challenge");
        self.register_raw(&rp_id, &challenge, origin)
    }

    /// The registration response for an RP ID and a base64url challenge.
    pub fn register_raw(&mut self, rp_id: &str, challenge: &str, origin: &str) -> Value {
        let client_data = client_data("webauthn.create", challenge, origin);
        let auth_data = self.auth_data(rp_id, 0x45, true);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let (fmt, stmt) = match &self.mode {
            Attestation::None => ("none", BTreeMap::new()),
            Attestation::SelfAttestation => {
                let mut s = BTreeMap::new();
                s.insert(Cbor::Text("alg".into()), Cbor::Integer(-7));
                s.insert(
                    Cbor::Text("sig".into()),
                    Cbor::Bytes(sign(
                        &ECDSA_P256_SHA256_ASN1_SIGNING,
                        &self.credential,
                        &signed,
                    )),
                );
                ("packed", s)
            }
            Attestation::Packed => {
                let (key, cert) = self.attestation.as_ref().expect("attestation certificate");
                let mut s = BTreeMap::new();
                s.insert(Cbor::Text("alg".into()), Cbor::Integer(-7));
                s.insert(
                    Cbor::Text("sig".into()),
                    Cbor::Bytes(sign(&ECDSA_P256_SHA256_ASN1_SIGNING, key, &signed)),
                );
                s.insert(
                    Cbor::Text("x5c".into()),
                    Cbor::Array(vec![Cbor::Bytes(cert.clone())]),
                );
                ("packed", s)
            }
        };
        let mut obj = BTreeMap::new();
        obj.insert(Cbor::Text("fmt".into()), Cbor::Text(fmt.into()));
        obj.insert(Cbor::Text("attStmt".into()), Cbor::Map(stmt));
        obj.insert(Cbor::Text("authData".into()), Cbor::Bytes(auth_data));
        let attestation_object = serde_cbor_2::to_vec(&Cbor::Map(obj)).expect("cbor");
        self.counter += 1;
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "extensions": {},
            "response": {
                "attestationObject": URL_SAFE_NO_PAD.encode(attestation_object),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "transports": ["usb"],
            },
        })
    }

    /// The answer (`navigator.credentials.get`'s result as JSON) to request `options`.
    pub fn answer(&mut self, options: &Value, origin: &str) -> Value {
        let pk = &options["publicKey"];
        let rp_id = pk["rpId"].as_str().unwrap_or_default().to_owned();
        let challenge = bytes_of(pk, "challenge");
        self.answer_raw(&rp_id, &challenge, origin)
    }

    /// The answer for an RP ID and a base64url challenge.
    pub fn answer_raw(&mut self, rp_id: &str, challenge: &str, origin: &str) -> Value {
        let client_data = client_data("webauthn.get", challenge, origin);
        let auth_data = self.auth_data(rp_id, 0x05, false);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let sig = sign(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.credential, &signed);
        self.counter += 1;
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "extensions": {},
            "response": {
                "authenticatorData": URL_SAFE_NO_PAD.encode(auth_data),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "signature": URL_SAFE_NO_PAD.encode(sig),
                "userHandle": null,
            },
        })
    }
}

/// Flips one bit of a base64url field of a response (`path` like `response.signature`).
pub fn tamper(v: &mut Value, path: &str) {
    let mut cur = &mut *v;
    for p in path.split('.') {
        cur = &mut cur[p];
    }
    let mut bytes = URL_SAFE_NO_PAD
        .decode(cur.as_str().unwrap_or_default())
        .unwrap_or_default();
    if let Some(last) = bytes.last_mut() {
        *last ^= 1;
    }
    *cur = Value::String(URL_SAFE_NO_PAD.encode(bytes));
}

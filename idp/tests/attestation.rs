//! Verdicts on real registration responses (webauthn-rs's test vectors) against the shipped
//! FIDO metadata.

use idp::keys::attestation::{check, Ceremony, KeyKind, Reason, Verdict};
use idp::keys::mds::{Level, Metadata, Staleness};

const BLOB: &str = include_str!("../../fido/mds/blob.jwt");
const ROOT: &[u8] = include_bytes!("../../fido/mds/root-r3.crt");

fn metadata() -> Metadata {
    Metadata::load(BLOB, ROOT, Staleness::Allow, 1_795_600_800).expect("metadata")
}

fn verdict(md: &Metadata, name: &str) -> Verdict {
    let (credential, rp_id, origin, challenge) = load(name);
    let ceremony = Ceremony {
        rp_id: &rp_id,
        origin: &origin,
        challenge: &challenge,
    };
    check(&credential, &ceremony, md, std::time::SystemTime::now())
}

fn load(name: &str) -> (serde_json::Value, String, String, String) {
    let path = format!(
        "{}/../fido/vectors/webauthn-rs__{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("vector")).expect("json");
    let origin = v["client_data_origin"]
        .as_str()
        .or(v["origin"].as_str())
        .expect("origin")
        .to_owned();
    let rp_id = v["rp_id"].as_str().expect("rp_id").to_owned();
    let challenge = v["challenge_b64url"]
        .as_str()
        .expect("challenge")
        .to_owned();
    (v["credential"].clone(), rp_id, origin, challenge)
}

#[test]
fn certified_hardware_keys_are_eligible() {
    let md = metadata();
    for (name, aaguid, model) in [
        (
            "test_registration_packed_attestaion_works_with_valid_fido_aaguid_extension",
            Some("2fc0579f-8113-47ea-b116-bb5a8db9202a"),
            "YubiKey 5 Series with NFC",
        ),
        (
            "test_registration_ipados_5ci",
            Some("c5ef55ff-ad9a-4b9f-b580-adebafe026d0"),
            "YubiKey 5 Series with Lightning",
        ),
        // U2F keys carry no AAGUID: found by their attestation key identifier
        ("test_registration_yk", None, "YubiKey 5 Series"),
    ] {
        let v = verdict(&md, name);
        assert_eq!(v.aaguid.as_deref(), aaguid, "{name}");
        assert_eq!(v.model.as_deref(), Some(model), "{name}");
        assert_eq!(
            (v.kind, v.level, v.chain_valid, v.nia_eligible),
            (KeyKind::Hardware, Level::L1, Some(true), true),
            "{name}: {v:?}"
        );
        assert!(v.reasons.is_empty() && v.refused.is_none(), "{name}: {v:?}");
    }
}

#[test]
fn keys_that_cannot_serve_nia_say_why() {
    let md = metadata();
    let cases: [(&str, &str, KeyKind, Reason); 6] = [
        (
            "test_google_pixel_3a_none_attestation",
            "none",
            KeyKind::Unknown,
            Reason::AttestationHidden,
        ),
        (
            "test_win_hello_attest_none",
            "none",
            KeyKind::Unknown,
            Reason::AttestationHidden,
        ),
        (
            "test_registration_packed_attestation",
            "packed",
            KeyKind::Unknown,
            Reason::SelfAttestation,
        ),
        (
            "test_touchid_attest_apple_anonymous",
            "apple",
            KeyKind::Apple,
            Reason::AppleAnonymous,
        ),
        (
            "test_google_safetynet",
            "android-safetynet",
            KeyKind::Android,
            Reason::SafetyNetUnsupported,
        ),
        (
            "test_google_android_key",
            "android-key",
            KeyKind::Android,
            Reason::UnknownModel,
        ),
    ];
    for (name, format, kind, reason) in cases {
        let v = verdict(&md, name);
        assert_eq!(v.format.as_deref(), Some(format), "{name}");
        assert_eq!(v.kind, kind, "{name}");
        assert!(!v.nia_eligible, "{name}");
        assert_eq!(v.reasons, vec![reason], "{name}: {v:?}");
        assert_eq!(v.refused, None, "{name}");
    }
    // certified, but without a level: not enough for NIA
    let duo = verdict(&md, "test_registration_duo_go");
    assert_eq!(duo.model.as_deref(), Some("YK4 Series Key by Yubico"));
    assert_eq!(
        duo.reasons,
        vec![Reason::LevelTooLow {
            level: Level::Certified
        }]
    );
}

#[test]
fn malformed_or_unacceptable_registrations_are_refused() {
    let md = metadata();
    for (name, kind) in [
        // the AAGUID is cut short by the browser: the data cannot be parsed
        (
            "test_firefox_98_hello_incorrectly_truncates_aaguid",
            KeyKind::Unknown,
        ),
        ("test_solokey_v2_a_sealed_attestation", KeyKind::Unknown),
        // TPM attestation signed with SHA-1
        ("test_win_hello_attest_tpm", KeyKind::WindowsHello),
        ("test_yk5bio_fallback_alg_attest_none", KeyKind::Unknown),
    ] {
        let v = verdict(&md, name);
        assert!(v.refused.is_some(), "{name}: {v:?}");
        assert_eq!(v.kind, kind, "{name}");
        assert!(!v.nia_eligible);
    }
}

#[test]
fn wrong_origin_relying_party_or_challenge_is_refused() {
    let md = metadata();
    let (cred, rp_id, origin, challenge) =
        load("test_registration_packed_attestaion_works_with_valid_fido_aaguid_extension");
    let ok = check(
        &cred,
        &Ceremony {
            rp_id: &rp_id,
            origin: &origin,
            challenge: &challenge,
        },
        &md,
        std::time::SystemTime::now(),
    );
    assert!(ok.nia_eligible);
    let other_challenge = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for (rp, or, ch) in [
        (rp_id.as_str(), "https://evil.example", challenge.as_str()),
        ("evil.example", origin.as_str(), challenge.as_str()),
        (rp_id.as_str(), origin.as_str(), other_challenge),
    ] {
        let v = check(
            &cred,
            &Ceremony {
                rp_id: rp,
                origin: or,
                challenge: ch,
            },
            &md,
            std::time::SystemTime::now(),
        );
        assert!(v.refused.is_some(), "{rp} {or} {ch}: {v:?}");
        assert!(!v.nia_eligible);
    }
    // not a registration at all
    let v = check(
        &serde_json::json!({ "hello": 1 }),
        &Ceremony {
            rp_id: &rp_id,
            origin: &origin,
            challenge: &challenge,
        },
        &md,
        std::time::SystemTime::now(),
    );
    assert!(v.refused.is_some());
}

#[test]
fn a_chain_outside_the_certificates_validity_does_not_count() {
    let md = metadata();
    let (cred, rp_id, origin, challenge) =
        load("test_registration_packed_attestaion_works_with_valid_fido_aaguid_extension");
    // long before the YubiKey attestation CA existed
    let then = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(946_684_800);
    let v = check(
        &cred,
        &Ceremony {
            rp_id: &rp_id,
            origin: &origin,
            challenge: &challenge,
        },
        &md,
        then,
    );
    assert_eq!(v.chain_valid, Some(false));
    assert!(matches!(
        v.reasons.as_slice(),
        [Reason::ChainInvalid { .. }]
    ));
    assert_eq!((v.level, v.nia_eligible), (Level::NotCertified, false));
}

#[test]
fn support_analysis_agrees_with_the_check_and_with_its_own_download() {
    let md = metadata();
    let now = std::time::SystemTime::now();
    for name in [
        "test_registration_packed_attestaion_works_with_valid_fido_aaguid_extension",
        "test_google_pixel_3a_none_attestation",
        "test_touchid_attest_apple_anonymous",
        "test_registration_duo_go",
    ] {
        let (credential, ..) = load(name);
        let direct = verdict(&md, name);
        let analysed = idp::keys::attestation::analyze(&credential, &md, now).expect("analysable");
        assert_eq!(analysed, direct, "{name}");
        // the JSON a user downloads from the key check: the raw response plus the verdict
        let download = serde_json::json!({ "credential": credential, "verdict": direct });
        assert_eq!(
            idp::keys::attestation::analyze(&download, &md, now).expect("download"),
            direct,
            "{name}"
        );
    }
    let err = idp::keys::attestation::analyze(&serde_json::json!({ "id": "x" }), &md, now)
        .expect_err("not webauthn");
    assert!(err.contains("clientDataJSON"), "{err}");
}

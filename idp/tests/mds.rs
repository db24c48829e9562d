//! The FIDO metadata BLOB shipped with the product: verified, indexed, levels as the FIDO
//! Alliance reports them; tampering, a wrong root and staleness are refused.

use base64::Engine;
use idp::keys::mds::{Level, MdsError, Metadata, Problem, Staleness};

const BLOB: &str = include_str!("../../fido/mds/blob.jwt");
const ROOT: &[u8] = include_bytes!("../../fido/mds/root-r3.crt");
/// 2026-11-25, long after the BLOB's nextUpdate (2025-01-01)
const TODAY: i64 = 1_795_600_800;
/// 2024-12-15, while the BLOB was current
const WHILE_CURRENT: i64 = 1_734_220_800;

#[test]
fn stale_blob_loads_only_when_allowed_and_says_so() {
    assert_eq!(
        Metadata::load(BLOB, ROOT, Staleness::Refuse, TODAY).err(),
        Some(MdsError::Stale {
            next_update: "2025-01-01".into()
        })
    );
    let md = Metadata::load(BLOB, ROOT, Staleness::Allow, TODAY).expect("stale but allowed");
    assert_eq!(md.stale_since.as_deref(), Some("2025-01-01"));
    assert_eq!(md.serial, 121);
    assert_eq!(md.models.len(), 280);
}

#[test]
fn current_blob_loads_without_warning() {
    let md = Metadata::load(BLOB, ROOT, Staleness::Refuse, WHILE_CURRENT).expect("current");
    assert_eq!(md.stale_since, None);
}

#[test]
fn levels_and_problems_of_known_models() {
    let md = Metadata::load(BLOB, ROOT, Staleness::Allow, TODAY).expect("load");
    let yubikey = md
        .by_aaguid("2FC0579F-8113-47EA-B116-BB5A8DB9202A")
        .expect("YubiKey 5 NFC");
    assert_eq!(yubikey.description, "YubiKey 5 Series with NFC");
    assert_eq!((yubikey.level, yubikey.nia_eligible()), (Level::L1, true));
    let fips = md
        .by_aaguid("73bb0cd4-e502-49b8-9c6f-b59445bf720b")
        .expect("YubiKey 5 FIPS");
    assert_eq!(fips.level, Level::L2);
    let hello = md
        .by_aaguid("08987058-cadc-4b81-b6e1-30de50dcbe96")
        .expect("Windows Hello");
    assert_eq!(hello.level, Level::L1);
    let truu = md
        .models
        .iter()
        .find(|m| {
            m.aaguid
                .as_deref()
                .is_some_and(|a| a.starts_with("ba86dc56"))
        })
        .expect("TruU");
    assert!(matches!(truu.problem, Some((Problem::Revoked, Some(_)))));
    assert!(!truu.nia_eligible());

    let count = |l: Level| {
        md.models
            .iter()
            .filter(|m| m.level == l && m.problem.is_none())
            .count()
    };
    // the BLOB's own statistics (latest report per entry): 155 L1, 45 L2, 18 FIDO_CERTIFIED,
    // 61 NOT_FIDO_CERTIFIED, 1 REVOKED
    assert_eq!(
        (
            count(Level::L1),
            count(Level::L2),
            count(Level::Certified),
            count(Level::NotCertified)
        ),
        (155, 45, 18, 61)
    );
    assert_eq!(md.models.iter().filter(|m| m.problem.is_some()).count(), 1);
}

#[test]
fn a_tampered_blob_never_loads() {
    let parts: Vec<&str> = BLOB.trim().split('.').collect();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .expect("payload");
    let text = String::from_utf8(payload).expect("utf-8");
    // promote every L1 model to L3
    let forged = text.replace("FIDO_CERTIFIED_L1\"", "FIDO_CERTIFIED_L3\"");
    assert_ne!(forged, text);
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged);
    let blob = format!("{}.{}.{}", parts[0], forged, parts[2]);
    assert_eq!(
        Metadata::load(&blob, ROOT, Staleness::Allow, TODAY).err(),
        Some(MdsError::Signature)
    );
}

#[test]
fn a_blob_from_another_root_never_loads() {
    use crypto_glue::traits::{DecodePem, EncodeDer};
    let pem = include_str!("../../fido/test/other-root.pem");
    let other = crypto_glue::x509::Certificate::from_pem(pem)
        .expect("pem")
        .to_der()
        .expect("der");
    assert!(matches!(
        Metadata::load(BLOB, &other, Staleness::Allow, TODAY),
        Err(MdsError::Chain(_))
    ));
}

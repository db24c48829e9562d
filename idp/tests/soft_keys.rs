//! Software security keys attested by a test vendor root, against a test metadata BLOB signed
//! by a test root: every level, every refusal, and the whole add/login life of a key on both
//! databases.

mod common;

use common::{fresh, req, START};
use idp::keys::attestation::{check, Ceremony, KeyKind, Reason};
use idp::keys::mds::{Level, Metadata, Staleness};
use idp::keys::LoginStep;
use idp::testing::fido::{aaguid_text, entry, tamper, Attestation, SoftKey, TestCa};
use idp::{Error, Idp};
use std::time::SystemTime;

const PW: &str = "kobyla ma maly bok u potoka";
const ORIGIN: &str = "http://localhost:3000";
const L1: [u8; 16] = [0x11; 16];
const L2: [u8; 16] = [0x22; 16];
const UNCERTIFIED: [u8; 16] = [0x33; 16];
const REVOKED: [u8; 16] = [0x44; 16];
const UNKNOWN: [u8; 16] = [0x55; 16];

struct World {
    vendor: TestCa,
    stranger: TestCa,
    metadata: Metadata,
}

fn world() -> World {
    let fido = TestCa::new("Test FIDO metadata root");
    let vendor = TestCa::new("Test key vendor root");
    let stranger = TestCa::new("Somebody else's root");
    let roots = [vendor.der()];
    let blob = fido.blob(
        7,
        "2046-10-01",
        vec![
            entry(
                &aaguid_text(&L1),
                "Test key L1",
                &[("FIDO_CERTIFIED_L1", "2024-01-10")],
                &roots,
            ),
            entry(
                &aaguid_text(&L2),
                "Test key L2",
                &[("FIDO_CERTIFIED_L2", "2024-02-10")],
                &roots,
            ),
            entry(
                &aaguid_text(&UNCERTIFIED),
                "Test key uncertified",
                &[("NOT_FIDO_CERTIFIED", "2024-03-10")],
                &roots,
            ),
            entry(
                &aaguid_text(&REVOKED),
                "Test key revoked",
                &[
                    ("FIDO_CERTIFIED_L1", "2022-01-10"),
                    ("REVOKED", "2025-06-01"),
                ],
                &roots,
            ),
        ],
    );
    let metadata =
        Metadata::load(&blob, &fido.der(), Staleness::Refuse, START).expect("test BLOB loads");
    World {
        vendor,
        stranger,
        metadata,
    }
}

const CHALLENGE: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

fn ceremony() -> Ceremony<'static> {
    Ceremony {
        rp_id: "localhost",
        origin: ORIGIN,
        challenge: CHALLENGE,
    }
}

fn verdict_of(w: &World, key: &mut SoftKey) -> idp::keys::attestation::Verdict {
    let response = key.register_raw("localhost", CHALLENGE, ORIGIN);
    check(&response, &ceremony(), &w.metadata, SystemTime::now())
}

#[test]
fn a_test_blob_signed_by_another_root_never_loads() {
    let fido = TestCa::new("Test FIDO metadata root");
    let other = TestCa::new("Other");
    let blob = fido.blob(1, "2046-10-01", vec![]);
    assert!(Metadata::load(&blob, &other.der(), Staleness::Allow, START).is_err());
    assert!(Metadata::load(&blob, &fido.der(), Staleness::Refuse, START).is_ok());
}

#[test]
fn levels_come_from_the_metadata_when_the_chain_verifies() {
    let w = world();
    for (aaguid, level, eligible) in [(L1, Level::L1, true), (L2, Level::L2, true)] {
        let v = verdict_of(
            &w,
            &mut SoftKey::new(&w.vendor, aaguid, Attestation::Packed),
        );
        assert_eq!(
            (
                v.format.as_deref(),
                v.kind,
                v.level,
                v.chain_valid,
                v.nia_eligible,
                v.refused.clone()
            ),
            (
                Some("packed"),
                KeyKind::Hardware,
                level,
                Some(true),
                eligible,
                None
            ),
            "{v:?}"
        );
        assert!(v.reasons.is_empty(), "{v:?}");
    }
}

#[test]
fn uncertified_revoked_and_unknown_models_are_not_eligible_and_say_why() {
    let w = world();
    let v = verdict_of(
        &w,
        &mut SoftKey::new(&w.vendor, UNCERTIFIED, Attestation::Packed),
    );
    assert!(!v.nia_eligible);
    assert!(
        matches!(v.reasons.as_slice(), [Reason::LevelTooLow { .. }]),
        "{v:?}"
    );

    let v = verdict_of(
        &w,
        &mut SoftKey::new(&w.vendor, REVOKED, Attestation::Packed),
    );
    assert!(!v.nia_eligible);
    assert!(
        v.reasons.iter().any(|r| matches!(r, Reason::Problem { status, since } if status == "REVOKED" && since.as_deref() == Some("2025-06-01"))),
        "{v:?}"
    );

    let v = verdict_of(
        &w,
        &mut SoftKey::new(&w.vendor, UNKNOWN, Attestation::Packed),
    );
    assert!(!v.nia_eligible);
    assert_eq!(v.reasons, vec![Reason::UnknownModel], "{v:?}");
}

#[test]
fn a_certified_aaguid_with_a_foreign_chain_does_not_count() {
    let w = world();
    let v = verdict_of(&w, &mut SoftKey::new(&w.stranger, L1, Attestation::Packed));
    assert_eq!(
        (v.chain_valid, v.nia_eligible),
        (Some(false), false),
        "{v:?}"
    );
    assert!(
        v.reasons
            .iter()
            .any(|r| matches!(r, Reason::ChainInvalid { .. })),
        "{v:?}"
    );
}

#[test]
fn self_and_none_attestation_are_not_certified_with_the_reason() {
    let w = world();
    let v = verdict_of(
        &w,
        &mut SoftKey::new(&w.vendor, L1, Attestation::SelfAttestation),
    );
    assert_eq!(
        (v.level, v.nia_eligible),
        (Level::NotCertified, false),
        "{v:?}"
    );
    assert!(v.reasons.contains(&Reason::SelfAttestation), "{v:?}");
    let v = verdict_of(&w, &mut SoftKey::new(&w.vendor, L1, Attestation::None));
    assert_eq!(
        (v.level, v.nia_eligible),
        (Level::NotCertified, false),
        "{v:?}"
    );
    assert!(v.reasons.contains(&Reason::AttestationHidden), "{v:?}");
}

#[test]
fn registrations_for_another_site_or_challenge_or_with_a_bad_signature_are_refused() {
    let w = world();
    let mut key = SoftKey::new(&w.vendor, L1, Attestation::Packed);
    let refused = |response: &serde_json::Value| {
        check(response, &ceremony(), &w.metadata, SystemTime::now())
            .refused
            .is_some()
    };
    assert!(!refused(&key.register_raw("localhost", CHALLENGE, ORIGIN)));
    assert!(
        refused(&key.register_raw("localhost", CHALLENGE, "https://evil.example")),
        "wrong origin"
    );
    assert!(
        refused(&key.register_raw("evil.example", CHALLENGE, ORIGIN)),
        "wrong RP ID"
    );
    assert!(
        refused(&key.register_raw(
            "localhost",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ORIGIN
        )),
        "other challenge"
    );
    let mut bad = key.register_raw("localhost", CHALLENGE, ORIGIN);
    tamper(&mut bad, "response.clientDataJSON");
    assert!(refused(&bad), "client data changed after signing");
    let mut bad = key.register_raw("localhost", CHALLENGE, ORIGIN);
    tamper(&mut bad, "response.attestationObject");
    assert!(refused(&bad), "attestation object changed");
}

async fn key_count(idp: &Idp, account_id: i64) -> usize {
    idp.security_keys(account_id).await.expect("keys").len()
}

/// Password, then the key's answer to the login challenge.
async fn log_in(idp: &Idp, key: &mut SoftKey, ip: &str) -> Result<String, Error> {
    let (_, step) = idp
        .login("soft", PW, None, ORIGIN, &req(ip))
        .await
        .expect("password");
    let LoginStep::KeyRequired { ticket, options } = step else {
        panic!("a key is required");
    };
    let answer = key.answer(&serde_json::to_value(&options).expect("json"), ORIGIN);
    idp.finish_key_login(&ticket, &answer, None, &req(ip))
        .await
        .map(|s| s.token)
}

both_databases!(
    a_soft_key_is_added_and_logs_in_and_every_bad_answer_is_refused,
    |idp: Idp| async move {
        let w = world();
        idp.set_metadata(w.metadata);
        let (account, _) = idp
            .create_account("soft", PW, &req("10.0.9.1"))
            .await
            .expect("account");
        let mut key = SoftKey::new(&w.vendor, L2, Attestation::Packed);

        // refused registrations store nothing
        for (origin, rp_tamper) in [("https://evil.example", false), (ORIGIN, true)] {
            let (ticket, options) = idp
                .start_add_key(
                    &idp::Caller {
                        account_id: account.id,
                        username: "soft",
                        auth: &fresh(&idp),
                        req: &req("10.0.9.1"),
                    },
                    ORIGIN,
                )
                .await
                .expect("start");
            let mut options = serde_json::to_value(&options).expect("json");
            if rp_tamper {
                options["publicKey"]["rp"]["id"] = "evil.example".into();
            }
            let response = key.register(&options, origin);
            let e = idp
                .finish_add_key(
                    &idp::Caller {
                        account_id: account.id,
                        username: "soft",
                        auth: &fresh(&idp),
                        req: &req("10.0.9.1"),
                    },
                    &ticket,
                    "Klíč",
                    &response,
                )
                .await
                .expect_err("refused");
            assert!(matches!(e, Error::Invalid(_)), "{e:?}");
            assert_eq!(key_count(&idp, account.id).await, 0);
        }

        // an expired challenge
        let (ticket, options) = idp
            .start_add_key(
                &idp::Caller {
                    account_id: account.id,
                    username: "soft",
                    auth: &fresh(&idp),
                    req: &req("10.0.9.1"),
                },
                ORIGIN,
            )
            .await
            .expect("start");
        let response = key.register(&serde_json::to_value(&options).expect("json"), ORIGIN);
        idp.clock.advance(301);
        let e = idp
            .finish_add_key(
                &idp::Caller {
                    account_id: account.id,
                    username: "soft",
                    auth: &fresh(&idp),
                    req: &req("10.0.9.1"),
                },
                &ticket,
                "Klíč",
                &response,
            )
            .await
            .expect_err("expired");
        assert!(matches!(e, Error::NotFound), "{e:?}");
        assert_eq!(key_count(&idp, account.id).await, 0);

        // accepted, with its level
        let (ticket, options) = idp
            .start_add_key(
                &idp::Caller {
                    account_id: account.id,
                    username: "soft",
                    auth: &fresh(&idp),
                    req: &req("10.0.9.1"),
                },
                ORIGIN,
            )
            .await
            .expect("start");
        let response = key.register(&serde_json::to_value(&options).expect("json"), ORIGIN);
        let (stored, verdict) = idp
            .finish_add_key(
                &idp::Caller {
                    account_id: account.id,
                    username: "soft",
                    auth: &fresh(&idp),
                    req: &req("10.0.9.1"),
                },
                &ticket,
                "Klíč",
                &response,
            )
            .await
            .expect("added");
        assert_eq!(
            (
                stored.level.fido_name(),
                stored.nia_eligible,
                verdict.model.as_deref()
            ),
            ("FIDO_CERTIFIED_L2", true, Some("Test key L2"))
        );
        // the same response again: its ticket is used up
        let e = idp
            .finish_add_key(
                &idp::Caller {
                    account_id: account.id,
                    username: "soft",
                    auth: &fresh(&idp),
                    req: &req("10.0.9.1"),
                },
                &ticket,
                "Klíč",
                &response,
            )
            .await
            .expect_err("replayed");
        assert!(matches!(e, Error::NotFound), "{e:?}");
        assert_eq!(key_count(&idp, account.id).await, 1);

        // log in with it
        log_in(&idp, &mut key, "10.0.9.2")
            .await
            .expect("login with the key");

        // a replayed answer: to its own (used) ticket, and to a fresh challenge
        let (_, step) = idp
            .login("soft", PW, None, ORIGIN, &req("10.0.9.3"))
            .await
            .expect("password");
        let LoginStep::KeyRequired { ticket, options } = step else {
            panic!("key")
        };
        let answer = key.answer(&serde_json::to_value(&options).expect("json"), ORIGIN);
        idp.finish_key_login(&ticket, &answer, None, &req("10.0.9.3"))
            .await
            .expect("login");
        let e = idp
            .finish_key_login(&ticket, &answer, None, &req("10.0.9.3"))
            .await
            .expect_err("used ticket");
        assert!(matches!(e, Error::NotFound), "{e:?}");
        let (_, step) = idp
            .login("soft", PW, None, ORIGIN, &req("10.0.9.3"))
            .await
            .expect("password");
        let LoginStep::KeyRequired { ticket, .. } = step else {
            panic!("key")
        };
        let e = idp
            .finish_key_login(&ticket, &answer, None, &req("10.0.9.3"))
            .await
            .expect_err("old answer");
        assert!(matches!(e, Error::BadSecurityKey), "{e:?}");

        // a bad signature
        let (_, step) = idp
            .login("soft", PW, None, ORIGIN, &req("10.0.9.4"))
            .await
            .expect("password");
        let LoginStep::KeyRequired { ticket, options } = step else {
            panic!("key")
        };
        let mut answer = key.answer(&serde_json::to_value(&options).expect("json"), ORIGIN);
        tamper(&mut answer, "response.signature");
        let e = idp
            .finish_key_login(&ticket, &answer, None, &req("10.0.9.4"))
            .await
            .expect_err("bad signature");
        assert!(matches!(e, Error::BadSecurityKey), "{e:?}");

        // a counter that went backwards: a cloned key
        key.counter = 1;
        let e = log_in(&idp, &mut key, "10.0.9.5")
            .await
            .expect_err("counter regression");
        assert!(matches!(e, Error::BadSecurityKey), "{e:?}");

        // another key of the same model that the account never registered
        let mut other = SoftKey::new(&w.vendor, L2, Attestation::Packed);
        let e = log_in(&idp, &mut other, "10.0.9.6")
            .await
            .expect_err("foreign key");
        assert!(matches!(e, Error::BadSecurityKey), "{e:?}");

        // and the genuine key still works
        key.counter = 1000;
        let token = log_in(&idp, &mut key, "10.0.9.7")
            .await
            .expect("login with the key");

        // a step-up made for an action: the key's challenge carries the action, and the
        // proof names it; a plain step-up gives none
        let key_id = idp.security_keys(account.id).await.expect("keys")[0].id;
        let mut token = token;
        for action in [
            None,
            Some(idp::account::action_login::Action::RemoveKey(key_id)),
            Some(idp::account::action_login::Action::Detach),
        ] {
            let step = idp
                .start_reauth(&token, PW, action, ORIGIN, &req("10.0.9.8"))
                .await
                .expect("password");
            let idp::keys::StepUp::KeyRequired { ticket, options } = step else {
                panic!("a key is required")
            };
            let answer = key.answer(&serde_json::to_value(&*options).expect("json"), ORIGIN);
            let (session, proof) = idp
                .finish_reauth(&token, &ticket, &answer, &req("10.0.9.8"))
                .await
                .expect("stepped up");
            assert_eq!(proof.map(|p| p.action()), action);
            token = session.token;
        }
        // a ticket of a plain login cannot finish a step-up
        let (_, step) = idp
            .login("soft", PW, None, ORIGIN, &req("10.0.9.9"))
            .await
            .expect("password");
        let LoginStep::KeyRequired { ticket, options } = step else {
            panic!("key")
        };
        let answer = key.answer(&serde_json::to_value(&options).expect("json"), ORIGIN);
        let e = idp
            .finish_reauth(&token, &ticket, &answer, &req("10.0.9.9"))
            .await
            .expect_err("a login ticket");
        assert!(matches!(e, Error::NotFound), "{e:?}");
    }
);

#[test]
fn the_metadata_may_name_the_attestation_certificate_itself_as_trust_anchor() {
    // Chromium's virtual authenticator signs with a self-signed "Batch Certificate" that is no
    // CA; listed as the model's trust anchor, it makes the key certified
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fido/test/");
    let rec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}chromium-registration-localhost.json"))
            .expect("file"),
    )
    .expect("json");
    let response = serde_json::json!({
        "id": rec["id"], "rawId": rec["id"], "type": "public-key", "extensions": {},
        "response": { "attestationObject": rec["att"], "clientDataJSON": rec["cd"] },
    });
    let pem = std::fs::read_to_string(format!("{dir}other-root.pem")).expect("pem");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    let batch = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64");
    let fido = TestCa::new("Test FIDO metadata root");
    let aaguid = "01020304-0506-0708-0102-030405060708";
    let with_batch = fido.blob(
        1,
        "2046-10-01",
        vec![entry(
            aaguid,
            "Chromium",
            &[("FIDO_CERTIFIED_L1", "2024-01-10")],
            &[batch],
        )],
    );
    let without = fido.blob(
        1,
        "2046-10-01",
        vec![entry(
            aaguid,
            "Chromium",
            &[("FIDO_CERTIFIED_L1", "2024-01-10")],
            &[TestCa::new("x").der()],
        )],
    );
    let ceremony = Ceremony {
        rp_id: "localhost",
        origin: "http://localhost:3100",
        challenge: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    let origin = serde_json::from_slice::<serde_json::Value>(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(rec["cd"].as_str().expect("cd"))
            .expect("cd"),
    )
    .expect("client data")["origin"]
        .as_str()
        .expect("origin")
        .to_owned();
    let ceremony = Ceremony {
        origin: &origin,
        ..ceremony
    };
    for (blob, eligible) in [(with_batch, true), (without, false)] {
        let md = Metadata::load(&blob, &fido.der(), Staleness::Refuse, START).expect("metadata");
        let v = check(&response, &ceremony, &md, SystemTime::now());
        assert_eq!(
            (v.chain_valid, v.nia_eligible),
            (Some(eligible), eligible),
            "{v:?}"
        );
    }
}

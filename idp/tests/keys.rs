//! The rules for adding a further security key, on both databases.

mod common;

use common::req;
use idp::account::sessions::{AuthMethod, AuthRecord};
use idp::keys::attestation::{check_registration, Ceremony};
use idp::keys::mds::{Metadata, Staleness};
use idp::{Error, Idp};

const PW: &str = "kobyla ma maly bok u potoka";
const ORIGIN: &str = "http://localhost:3000";

/// A real stored credential (a YubiKey's, from webauthn-rs's vectors), filed under `kind`.
async fn store_key(idp: &Idp, account_id: i64, kind: &str, credential_id: &str) -> i64 {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fido/vectors/webauthn-rs__test_registration_ipados_5ci.json"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vector")).expect("json");
    let md = Metadata::load(
        include_str!("../../fido/mds/blob.jwt"),
        include_bytes!("../../fido/mds/root-r3.crt"),
        Staleness::Allow,
        idp.clock.now(),
    )
    .expect("metadata");
    let ceremony = Ceremony {
        rp_id: v["rp_id"].as_str().expect("rp"),
        origin: v["client_data_origin"].as_str().expect("origin"),
        challenge: v["challenge_b64url"].as_str().expect("challenge"),
    };
    let (verdict, cred) = check_registration(
        &v["credential"],
        &ceremony,
        &md,
        std::time::SystemTime::now(),
    );
    let cred = cred.expect("accepted");
    let row: (i64,) = sqlx::query_as(
        "INSERT INTO security_keys (account_id, credential_id, credential, name, kind, level, nia_eligible, verdict, created_at, format, aaguid) \
         VALUES ($1, $2, $3, 'test', $4, 'FIDO_CERTIFIED_L1', 1, $5, $6, 'packed', 'c5ef55ff-ad9a-4b9f-b580-adebafe026d0') RETURNING id",
    )
    .bind(account_id)
    .bind(credential_id)
    .bind(serde_json::to_string(&cred).expect("credential"))
    .bind(kind)
    .bind(serde_json::to_string(&verdict).expect("verdict"))
    .bind(idp.clock.now())
    .fetch_one(&idp.db.pool)
    .await
    .expect("insert");
    row.0
}

fn key_auth(id: i64, at: i64) -> Vec<AuthRecord> {
    vec![
        AuthRecord {
            method: AuthMethod::Password,
            at,
        },
        AuthRecord {
            method: AuthMethod::SecurityKey { id },
            at,
        },
    ]
}

both_databases!(
    a_further_key_needs_a_recent_key_login,
    |idp: Idp| async move {
        let (a, _) = idp
            .create_account("dalsi", PW, &req("10.0.2.1"))
            .await
            .expect("create");
        let password_only = vec![AuthRecord {
            method: AuthMethod::Password,
            at: idp.clock.now(),
        }];
        // the first key needs only a fresh password login
        let stale = vec![AuthRecord {
            method: AuthMethod::Password,
            at: idp.clock.now() - 301,
        }];
        assert!(matches!(
            idp.start_add_key(
                &idp::Caller {
                    account_id: a.id,
                    username: "dalsi",
                    auth: &stale,
                    req: &req("10.0.2.1")
                },
                ORIGIN
            )
            .await,
            Err(Error::StepUpRequired)
        ));
        idp.start_add_key(
            &idp::Caller {
                account_id: a.id,
                username: "dalsi",
                auth: &password_only,
                req: &req("10.0.2.1"),
            },
            ORIGIN,
        )
        .await
        .expect("first key");
        let hw = store_key(&idp, a.id, "hardware", "cred-hw").await;
        assert!(matches!(
            idp.start_add_key(
                &idp::Caller {
                    account_id: a.id,
                    username: "dalsi",
                    auth: &password_only,
                    req: &req("10.0.2.1")
                },
                ORIGIN
            )
            .await,
            Err(Error::StepUpRequired)
        ));
        let now = idp.clock.now();
        idp.start_add_key(
            &idp::Caller {
                account_id: a.id,
                username: "dalsi",
                auth: &key_auth(hw, now),
                req: &req("10.0.2.1"),
            },
            ORIGIN,
        )
        .await
        .expect("right after a key login");
        assert!(matches!(
            idp.start_add_key(
                &idp::Caller {
                    account_id: a.id,
                    username: "dalsi",
                    auth: &key_auth(hw, now - 301),
                    req: &req("10.0.2.1")
                },
                ORIGIN
            )
            .await,
            Err(Error::StepUpRequired)
        ));
    }
);

both_databases!(
    with_a_system_key_the_new_key_is_added_on_that_device,
    |idp: Idp| async move {
        let (a, _) = idp
            .create_account("systemovy", PW, &req("10.0.2.2"))
            .await
            .expect("create");
        let hw = store_key(&idp, a.id, "hardware", "cred-hw2").await;
        let hello = store_key(&idp, a.id, "windows_hello", "cred-hello").await;
        let now = idp.clock.now();
        assert!(matches!(
            idp.start_add_key(
                &idp::Caller {
                    account_id: a.id,
                    username: "systemovy",
                    auth: &key_auth(hw, now),
                    req: &req("10.0.2.2")
                },
                ORIGIN
            )
            .await,
            Err(Error::StepUpWithSystemKey)
        ));
        idp.start_add_key(
            &idp::Caller {
                account_id: a.id,
                username: "systemovy",
                auth: &key_auth(hello, now),
                req: &req("10.0.2.2"),
            },
            ORIGIN,
        )
        .await
        .expect("on the system key's device");
        // and the options exclude the keys already added
        let (_, options) = idp
            .start_add_key(
                &idp::Caller {
                    account_id: a.id,
                    username: "systemovy",
                    auth: &key_auth(hello, now),
                    req: &req("10.0.2.2"),
                },
                ORIGIN,
            )
            .await
            .expect("options");
        let json = serde_json::to_value(&options).expect("json");
        assert_eq!(
            json["publicKey"]["excludeCredentials"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
    }
);

both_databases!(
    the_options_of_a_challenge_are_kept_with_it_until_it_is_used,
    |idp: Idp| async move {
        let (a, _) = idp
            .create_account("ceremonie", PW, &req("10.0.2.9"))
            .await
            .expect("create");
        let hw = store_key(&idp, a.id, "hardware", "cred-kept").await;
        let caller = idp::Caller {
            account_id: a.id,
            username: "ceremonie",
            auth: &key_auth(hw, idp.clock.now()),
            req: &req("10.0.2.9"),
        };
        let (ticket, options) = idp.start_add_key(&caller, ORIGIN).await.expect("start");
        // nothing kept yet: the page of the ceremony has nothing to show
        assert!(matches!(
            idp.ticket_options(&ticket).await,
            Err(Error::NotFound)
        ));
        let json = serde_json::to_string(&options).expect("json");
        idp.keep_ticket_options(&ticket, &json).await.expect("keep");
        assert_eq!(idp.ticket_options(&ticket).await.expect("kept"), json);
        assert!(matches!(
            idp.ticket_options("another-ticket").await,
            Err(Error::NotFound)
        ));
        // used: gone with the ticket
        let _ = idp
            .finish_add_key(&caller, &ticket, "x", &serde_json::Value::Null)
            .await;
        assert!(matches!(
            idp.ticket_options(&ticket).await,
            Err(Error::NotFound)
        ));
    }
);

both_databases!(
    new_metadata_re_evaluates_stored_keys,
    |idp: Idp| async move {
        let (a, _) = idp
            .create_account("metadata", PW, &req("10.0.2.3"))
            .await
            .expect("create");
        let id = store_key(&idp, a.id, "hardware", "cred-md").await;
        let shipped = Metadata::load(
            include_str!("../../fido/mds/blob.jwt"),
            include_bytes!("../../fido/mds/root-r3.crt"),
            Staleness::Allow,
            idp.clock.now(),
        )
        .expect("metadata");
        idp.set_metadata(shipped.clone());
        // stored as eligible, still eligible: nothing to report
        assert_eq!(
            idp.reevaluate_keys().await.expect("re-evaluate"),
            Vec::<i64>::new()
        );
        // metadata that no longer lists the model: the key loses NIA eligibility, visibly
        idp.set_metadata(Metadata::default());
        assert_eq!(idp.reevaluate_keys().await.expect("re-evaluate"), vec![id]);
        let keys = idp.security_keys(a.id).await.expect("keys");
        assert_eq!(
            (
                keys[0].nia_eligible,
                keys[0].level.fido_name(),
                keys[0].model.as_deref()
            ),
            (false, "NOT_FIDO_CERTIFIED", None)
        );
        // and back
        idp.set_metadata(shipped);
        assert_eq!(idp.reevaluate_keys().await.expect("re-evaluate"), vec![id]);
        let keys = idp.security_keys(a.id).await.expect("keys");
        assert_eq!(
            (keys[0].nia_eligible, keys[0].level.fido_name()),
            (true, "FIDO_CERTIFIED_L1")
        );
        assert_eq!(
            keys[0].model.as_deref(),
            Some("YubiKey 5 Series with Lightning")
        );
        let events = idp.audit_for_account(a.id, 10).await.expect("audit");
        assert_eq!(
            events
                .iter()
                .filter(|e| e.event == "security_key.reevaluated")
                .count(),
            2
        );
    }
);

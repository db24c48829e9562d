//! Support requests, on both databases: a draft keeps every value and names what is wrong, a
//! citizen without an account sends one, a logged-in citizen's request carries the account's
//! keys, sending is acknowledged by e-mail with the reference and rate-limited, and the
//! support console (only the `support` role, every reading audited) sees the key verdict and
//! answers by e-mail.

mod common;

use common::req;
use idp::account::sessions::{AuthMethod, AuthRecord, Session};
use idp::keys::mds::{Metadata, Staleness};
use idp::staff::Role;
use idp::support::{RequestState, SupportInput};
use idp::{Error, Idp, Violation};

const PW: &str = "kobyla ma maly bok u potoka";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn vector(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../fido/vectors/webauthn-rs__{name}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("vector")
}

fn input() -> SupportInput {
    SupportInput {
        username: "jana.novakova".into(),
        email: "jana@example.cz".into(),
        os: "Windows 11".into(),
        browser: "Chrome 131".into(),
        key_type: "YubiKey 5 NFC".into(),
        description: "Po vložení klíče se zobrazí chyba.".into(),
        happened_at: "3. 12. 2026 10:15".into(),
        key_check: String::new(),
        screenshot: PNG.to_vec(),
    }
}

async fn outbox_to(idp: &Idp, to: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT body FROM outbox WHERE recipient = $1 ORDER BY id")
        .bind(to)
        .fetch_all(&idp.db.pool)
        .await
        .expect("outbox")
}

async fn staff(idp: &Idp, username: &str, role: Option<Role>) -> Session {
    let (account, _) = idp
        .create_account(username, PW, &req("10.9.0.1"))
        .await
        .expect("staff account");
    if let Some(role) = role {
        idp.grant_role(username, role).await.expect("role");
    }
    Session {
        account_id: account.id,
        username: username.into(),
        created_at: idp.clock.now(),
        auth: vec![AuthRecord {
            method: AuthMethod::SecurityKey { id: 1 },
            at: idp.clock.now(),
        }],
    }
}

both_databases!(
    a_draft_keeps_everything_and_names_what_is_wrong,
    |idp: Idp| async move {
        let mut bad = input();
        bad.email = "jana@".into();
        bad.description = "  ".into();
        bad.key_check = "{ not json".into();
        bad.screenshot = b"<svg onload=alert(1)>".to_vec();
        let (token, draft) = idp
            .write_support_draft(None, None, &bad, &req("10.9.1.1"))
            .await
            .expect("draft");
        let fields: Vec<(&str, &Violation)> = draft
            .problems
            .iter()
            .map(|p| (p.field.as_str(), &p.violation))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("email", &Violation::EmailInvalid),
                ("description", &Violation::Required),
                ("key_check", &Violation::NotJson),
                ("screenshot", &Violation::ImageType),
            ]
        );
        // what was typed is kept for the form; the refused file is not stored
        assert_eq!(draft.email, "jana@");
        assert_eq!(draft.key_check.as_deref(), Some("{ not json"));
        assert_eq!(draft.screenshot_type, None);
        assert!(matches!(
            idp.send_support_request(&token, None, &req("10.9.1.1")).await,
            Err(Error::Invalid(v)) if v.len() == 4
        ));

        // corrected: the same draft, now with the screenshot; sending needs nothing more
        let (again, corrected) = idp
            .write_support_draft(None, Some(&token), &input(), &req("10.9.1.1"))
            .await
            .expect("corrected");
        assert_eq!(corrected.id, draft.id, "the same draft");
        // a new token at every write: the old one (seen, or planted by someone) reads nothing
        assert_ne!(again, token);
        assert!(matches!(
            idp.support_draft(&token, None).await,
            Err(Error::NotFound)
        ));
        let token = again;
        assert!(corrected.problems.is_empty(), "{:?}", corrected.problems);
        assert_eq!(corrected.screenshot_type.as_deref(), Some("image/png"));
        // editing without attaching a file again keeps the screenshot
        let mut edited = input();
        edited.screenshot.clear();
        let (token, draft) = idp
            .write_support_draft(None, Some(&token), &edited, &req("10.9.1.1"))
            .await
            .expect("edited");
        assert_eq!(draft.screenshot_type.as_deref(), Some("image/png"));
        let (kind, bytes) = idp
            .support_draft_screenshot(&token, None)
            .await
            .expect("preview");
        assert_eq!((kind.as_str(), bytes.as_slice()), ("image/png", PNG));

        let mut big = input();
        big.screenshot = PNG.to_vec();
        big.screenshot
            .resize(idp::support::SCREENSHOT_MAX_BYTES + 1, 0);
        let (_, draft) = idp
            .write_support_draft(None, None, &big, &req("10.9.1.1"))
            .await
            .expect("draft");
        assert_eq!(
            draft.problems[0].violation,
            Violation::ImageTooLarge { max_mb: 2 }
        );
    }
);

both_databases!(
    a_citizen_without_an_account_sends_one_and_gets_the_reference_by_email,
    |idp: Idp| async move {
        let (token, _) = idp
            .write_support_draft(None, None, &input(), &req("10.9.2.1"))
            .await
            .expect("draft");
        let reference = idp
            .send_support_request(&token, None, &req("10.9.2.1"))
            .await
            .expect("sent");
        assert!(reference.starts_with("MID-"), "{reference}");
        let mails = outbox_to(&idp, "jana@example.cz").await;
        assert_eq!(mails.len(), 1);
        assert!(mails[0].contains(&reference), "{}", mails[0]);
        // the draft is gone: it cannot be sent twice or read back by its token
        assert!(matches!(
            idp.support_draft(&token, None).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            idp.send_support_request(&token, None, &req("10.9.2.1"))
                .await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            idp.support_draft_screenshot(&token, None).await,
            Err(Error::NotFound)
        ));
    }
);

both_databases!(
    sending_is_limited_per_address_and_per_email,
    |idp: Idp| async move {
        let send = |ip: &'static str, email: &'static str| {
            let idp = idp.clone();
            async move {
                let mut i = input();
                i.email = email.into();
                let (token, _) = idp.write_support_draft(None, None, &i, &req(ip)).await?;
                idp.send_support_request(&token, None, &req(ip)).await
            }
        };
        for n in 0..5 {
            send("10.9.3.1", ["a@example.cz", "b@example.cz"][n % 2])
                .await
                .expect("within the limit");
        }
        assert!(matches!(
            send("10.9.3.1", "c@example.cz").await,
            Err(Error::Throttled {
                retry_after_secs: 3600
            })
        ));
        // another address, but an e-mail that had five today
        for ip in ["10.9.3.2", "10.9.3.3", "10.9.3.4"] {
            send(ip, "d@example.cz").await.expect("within the limit");
        }
        send("10.9.3.5", "d@example.cz").await.expect("four");
        send("10.9.3.6", "D@example.cz").await.expect("five");
        // the same mailbox however its letters are written
        assert!(matches!(
            send("10.9.3.7", "D@Example.CZ").await,
            Err(Error::Throttled {
                retry_after_secs: 86_400
            })
        ));
        // an IPv6 subscriber is one address for the limits, whatever its last 64 bits
        for (n, ip) in [
            "2001:db8:5::1",
            "2001:db8:5::2",
            "2001:db8:5::3",
            "2001:db8:5::4",
            "2001:db8:5::5",
        ]
        .into_iter()
        .enumerate()
        {
            send(ip, ["e@example.cz", "f@example.cz"][n % 2])
                .await
                .expect("within the limit");
        }
        assert!(matches!(
            send("2001:db8:5::99", "g@example.cz").await,
            Err(Error::Throttled {
                retry_after_secs: 3600
            })
        ));
        // the limit counts where a request is sent from, not where its draft was written
        let mut i = input();
        i.email = "h@example.cz".into();
        let (token, _) = idp
            .write_support_draft(None, None, &i, &req("10.9.3.8"))
            .await
            .expect("draft elsewhere");
        assert!(matches!(
            idp.send_support_request(&token, None, &req("10.9.3.1"))
                .await,
            Err(Error::Throttled {
                retry_after_secs: 3600
            })
        ));
    }
);

both_databases!(
    a_logged_in_citizens_request_carries_their_keys_and_support_sees_the_verdict,
    |idp: Idp| async move {
        idp.set_metadata(
            Metadata::load(
                include_str!("../../fido/mds/blob.jwt"),
                include_bytes!("../../fido/mds/root-r3.crt"),
                Staleness::Allow,
                idp.clock.now(),
            )
            .expect("metadata"),
        );
        let (account, _) = idp
            .create_account("obcan.podpora", PW, &req("10.9.4.1"))
            .await
            .expect("account");
        let account = account.id;
        sqlx::query(
            "INSERT INTO security_keys (account_id, credential_id, credential, name, kind, level, nia_eligible, verdict, created_at, format, aaguid) \
             VALUES ($1, 'cred-1', '{}', 'Klíč v kapse', 'hardware', 'FIDO_CERTIFIED_L1', 1, '{}', $2, 'packed', 'c5ef55ff-ad9a-4b9f-b580-adebafe026d0')",
        )
        .bind(account)
        .bind(idp.clock.now())
        .execute(&idp.db.pool)
        .await
        .expect("key");
        let citizen = Session {
            account_id: account,
            username: "obcan.podpora".into(),
            created_at: idp.clock.now(),
            auth: vec![AuthRecord {
                method: AuthMethod::Password,
                at: idp.clock.now(),
            }],
        };
        let mut i = input();
        i.username = "someone.else".into();
        // the key test's download of an Apple device: support must see why it is not certified
        i.key_check = vector("test_touchid_attest_apple_anonymous");
        let (token, draft) = idp
            .write_support_draft(Some(&citizen), None, &i, &req("10.9.4.1"))
            .await
            .expect("draft");
        assert_eq!(
            draft.username, "obcan.podpora",
            "the session's, not the typed one"
        );
        assert!(
            draft.account_keys.contains("Klíč v kapse")
                && draft.account_keys.contains("FIDO_CERTIFIED_L1"),
            "{}",
            draft.account_keys
        );
        // a Czech POINT delivery the register sent for this person that no request took, and
        // one for somebody else
        sqlx::query(
            "UPDATE profiles SET first_name = 'Jana', last_name = 'Nováková' WHERE account_id = $1",
        )
        .bind(account)
        .execute(&idp.db.pool)
        .await
        .expect("profile");
        for (id, given, family) in [
            ("msg-ours", "JANA", "nováková"),
            ("msg-other", "Petr", "Novák"),
        ] {
            sqlx::query(
                "INSERT INTO office_deliveries (message_id, received_at, code, request_id, status, person) \
                 VALUES ($1, $2, 'CP-WRONG', NULL, 'unmatched', $3)",
            )
            .bind(id)
            .bind(idp.clock.now() - 86_400)
            .bind(serde_json::json!({ "given_name": given, "family_name": family }).to_string())
            .execute(&idp.db.pool)
            .await
            .expect("delivery");
        }
        // the draft is the account's: not readable without its session, nor by another
        assert!(matches!(
            idp.support_draft(&token, None).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            idp.support_draft(&token, Some(account + 1000)).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            idp.send_support_request(&token, None, &req("10.9.4.1"))
                .await,
            Err(Error::NotFound)
        ));
        let reference = idp
            .send_support_request(&token, Some(account), &req("10.9.4.1"))
            .await
            .expect("sent");

        // only the support role reads the queue
        let helpdesk = staff(&idp, "helpdesk.podpora", Some(Role::Helpdesk)).await;
        assert!(matches!(
            idp.support_queue(&helpdesk, &req("10.9.0.1")).await,
            Err(Error::Forbidden)
        ));
        let support = staff(&idp, "technik", Some(Role::Support)).await;
        let queue = idp
            .support_queue(&support, &req("10.9.0.1"))
            .await
            .expect("queue");
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0].reference, reference);
        assert_eq!(queue[0].state, RequestState::Open);

        let case = idp
            .support_case(&support, queue[0].id, &req("10.9.0.1"))
            .await
            .expect("case");
        let verdict = case.verdict.expect("key json").expect("analysed");
        assert_eq!(verdict.kind, idp::keys::attestation::KeyKind::Apple);
        assert!(!verdict.nia_eligible);
        assert_eq!(case.keys.len(), 1);
        let candidates: Vec<&str> = case
            .deliveries
            .iter()
            .map(|d| d.message_id.as_str())
            .collect();
        assert_eq!(
            candidates,
            vec!["msg-ours"],
            "by the account's name, letter case aside"
        );
        assert!(case.pairing.is_none());
        assert!(case
            .events
            .iter()
            .any(|e| e.event == "support.request_sent"));
        let (kind, _) = idp
            .support_screenshot(&support, queue[0].id, &req("10.9.0.1"))
            .await
            .expect("screenshot");
        assert_eq!(kind, "image/png");

        // every reading is in the account's audit trail, with who read it
        let readings: Vec<(String, String)> = idp
            .audit_for_account(account, 50)
            .await
            .expect("audit")
            .into_iter()
            .filter(|e| e.event.starts_with("support."))
            .map(|e| (e.event, e.actor))
            .collect();
        assert_eq!(
            readings,
            vec![
                ("support.screenshot_viewed".into(), "technik".into()),
                ("support.request_viewed".into(), "technik".into()),
                ("support.request_sent".into(), "citizen".into()),
            ]
        );

        assert!(matches!(
            idp.answer_support_request(&support, queue[0].id, " ", &req("10.9.0.1"))
                .await,
            Err(Error::Invalid(_))
        ));
        idp.answer_support_request(
            &support,
            queue[0].id,
            "Zařízení Apple nelze použít; použijte hardwarový klíč.",
            &req("10.9.0.1"),
        )
        .await
        .expect("answered");
        let mails = outbox_to(&idp, "jana@example.cz").await;
        assert_eq!(mails.len(), 2, "acknowledgement and answer");
        assert!(mails[1].contains("Zařízení Apple nelze použít"));
        let queue = idp
            .support_queue(&support, &req("10.9.0.1"))
            .await
            .expect("queue");
        assert_eq!(queue[0].state, RequestState::Answered);
    }
);

both_databases!(
    edits_count_toward_the_limit_and_unsent_drafts_are_deleted_after_an_hour,
    |idp: Idp| async move {
        let (mut token, first) = idp
            .write_support_draft(None, None, &input(), &req("10.9.5.1"))
            .await
            .expect("draft");
        for _ in 1..30 {
            token = idp
                .write_support_draft(None, Some(&token), &input(), &req("10.9.5.1"))
                .await
                .expect("edit")
                .0;
        }
        assert!(matches!(
            idp.write_support_draft(None, Some(&token), &input(), &req("10.9.5.1"))
                .await,
            Err(Error::Throttled {
                retry_after_secs: 3600
            })
        ));
        let (sent_token, _) = idp
            .write_support_draft(None, None, &input(), &req("10.9.5.2"))
            .await
            .expect("another");
        idp.send_support_request(&sent_token, None, &req("10.9.5.2"))
            .await
            .expect("sent");
        idp.clock.advance(3601);
        idp.housekeeping().await.expect("housekeeping");
        let left: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, state FROM support_requests ORDER BY id")
                .fetch_all(&idp.db.pool)
                .await
                .expect("rows");
        assert_eq!(left.len(), 1, "{left:?}");
        assert_ne!(left[0].0, first.id);
        assert_eq!(left[0].1, "open", "a sent request stays");
    }
);

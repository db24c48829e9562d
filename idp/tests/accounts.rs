//! Accounts, login throttling, sessions, profile, contacts and the audit log, on both databases.

mod common;

use common::{fresh, req};
use idp::account::contacts::ContactKind;
use idp::account::profile::ProfileInput;
use idp::keys::LoginStep;
use idp::outbox::Outgoing;
use idp::{Error, Idp, Violation};

const PW: &str = "kobyla ma maly bok u potoka";
const ORIGIN: &str = "http://localhost:3000";

fn violations(e: Error) -> Vec<(String, Violation)> {
    match e {
        Error::Invalid(v) => v.into_iter().map(|f| (f.field, f.violation)).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

fn compose(code: &str) -> Outgoing {
    Outgoing {
        subject: "code".into(),
        body: format!("Your code is {code}."),
    }
}

async fn last_code(idp: &Idp) -> String {
    let m = idp.outbox_recent(1).await.expect("outbox");
    let body = &m[0].body;
    body.chars().filter(char::is_ascii_digit).collect()
}

both_databases!(
    create_account_then_duplicate_is_refused,
    |idp: Idp| async move {
        let (account, session) = idp
            .create_account("Jan.Novak", PW, &req("10.0.0.1"))
            .await
            .expect("create");
        assert_eq!(account.username, "jan.novak");
        let s = idp
            .session(&session.token)
            .await
            .expect("logged in after registration");
        assert_eq!(s.account_id, account.id);

        let err = idp
            .create_account("JAN.NOVAK", PW, &req("10.0.0.1"))
            .await
            .expect_err("duplicate");
        assert_eq!(
            violations(err),
            vec![("username".into(), Violation::UsernameTaken)]
        );

        let err = idp
            .create_account("x", "short", &req("10.0.0.1"))
            .await
            .expect_err("bad input");
        assert_eq!(
            violations(err),
            vec![
                ("username".into(), Violation::TooShort { min: 3 }),
                ("password".into(), Violation::TooShort { min: 15 })
            ]
        );
        let events = idp.audit_for_account(account.id, 10).await.expect("audit");
        assert_eq!(
            events.last().map(|e| e.event.as_str()),
            Some("account.created")
        );
        assert_eq!(events.last().map(|e| e.ip.as_str()), Some("10.0.0.1"));
    }
);

both_databases!(
    login_rotates_session_and_logout_ends_it,
    |idp: Idp| async move {
        let (_, first) = idp
            .create_account("eva", PW, &req("10.0.0.2"))
            .await
            .expect("create");
        let (_, step) = idp
            .login("EVA", PW, Some(&first.token), ORIGIN, &req("10.0.0.2"))
            .await
            .expect("login");
        let LoginStep::Done(second) = step else {
            panic!("no keys, no key step")
        };
        assert_ne!(first.token, second.token);
        assert!(matches!(
            idp.session(&first.token).await,
            Err(Error::NotAuthenticated)
        ));
        idp.session(&second.token).await.expect("new session works");
        idp.logout(&second.token, &req("10.0.0.2"))
            .await
            .expect("logout");
        assert!(matches!(
            idp.session(&second.token).await,
            Err(Error::NotAuthenticated)
        ));
    }
);

both_databases!(
    wrong_passwords_delay_the_guessing_address_but_never_lock_out_the_owner,
    |idp: Idp| async move {
        let (account, _) = idp
            .create_account("petr", PW, &req("10.0.0.3"))
            .await
            .expect("create");
        let attacker = req("10.1.0.1");
        for _ in 0..5 {
            let err = idp
                .login("petr", "wrong password here", None, ORIGIN, &attacker)
                .await
                .expect_err("wrong");
            assert!(matches!(err, Error::BadCredentials), "{err:?}");
        }
        // the guessing address now waits, and the wait grows with each failure
        let wait = |r: Result<_, Error>| match r {
            Err(Error::Throttled { retry_after_secs }) => retry_after_secs,
            other => panic!("expected a delay, got {other:?}"),
        };
        assert_eq!(
            wait(
                idp.login("petr", PW, None, ORIGIN, &attacker)
                    .await
                    .map(|_| ())
            ),
            1
        );
        idp.clock.advance(1);
        assert!(matches!(
            idp.login("petr", "wrong password here", None, ORIGIN, &attacker)
                .await,
            Err(Error::BadCredentials)
        ));
        assert_eq!(
            wait(
                idp.login("petr", "x", None, ORIGIN, &attacker)
                    .await
                    .map(|_| ())
            ),
            2
        );
        // the owner's right password from another address works at once
        idp.login("petr", PW, None, ORIGIN, &req("10.9.9.9"))
            .await
            .expect("the owner is not locked out");
        // and the guessing address, once its delay has passed, may try the right one
        idp.clock.advance(2);
        idp.login("petr", PW, None, ORIGIN, &attacker)
            .await
            .expect("a delay, not a stop");
        let events = idp.audit_for_account(account.id, 20).await.expect("audit");
        assert_eq!(
            events.iter().filter(|e| e.event == "login.failed").count(),
            6
        );
        assert_eq!(events[0].event, "login.succeeded");
    }
);

both_databases!(
    guesses_sent_in_parallel_are_counted_before_they_are_judged,
    |idp: Idp| async move {
        idp.create_account("soubeh", PW, &req("10.0.0.6"))
            .await
            .expect("create");
        // twenty guesses at once from one address: no more than the five free ones are ever
        // checked against the password
        let guesses: Vec<_> = (0..20)
            .map(|_| {
                let idp = idp.clone();
                tokio::spawn(async move {
                    idp.login(
                        "soubeh",
                        "wrong password here",
                        None,
                        ORIGIN,
                        &req("10.4.4.4"),
                    )
                    .await
                })
            })
            .collect();
        let mut checked = 0;
        for g in guesses {
            match g.await.expect("join") {
                Err(Error::BadCredentials) => checked += 1,
                Err(Error::Throttled { .. }) | Err(Error::Overloaded) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(checked, 5);
        // and the owner elsewhere is in
        idp.login("soubeh", PW, None, ORIGIN, &req("10.0.0.6"))
            .await
            .expect("owner");
    }
);

both_databases!(
    a_login_shed_under_load_is_refused_before_it_reads_or_writes_anything,
    |idp: Idp| async move {
        let (account, _) = idp
            .create_account("vytizena", PW, &req("10.0.0.7"))
            .await
            .expect("create");
        let audited = idp
            .audit_for_account(account.id, 20)
            .await
            .expect("audit")
            .len();
        // every hashing place taken (the test holds them as logins in progress would)
        let mut held = Vec::new();
        while let Ok(place) = idp.hasher.admit_login() {
            held.push(place);
        }
        assert!(!held.is_empty());
        // and the attempts table locked for writing by somebody else: a refusal that wrote
        // (or waited to write) would not come back at once
        let mut lock = idp.db.begin().await.expect("write lock");
        if idp.db.backend == idp::db::Backend::Postgres {
            sqlx::query("LOCK TABLE login_failures IN EXCLUSIVE MODE")
                .execute(&mut *lock)
                .await
                .expect("lock");
        }
        for _ in 0..50 {
            let refused = tokio::time::timeout(
                std::time::Duration::from_secs(2),
                idp.login("vytizena", PW, None, ORIGIN, &req("10.5.5.5")),
            )
            .await
            .expect("refused at once, not after waiting for the database");
            assert!(matches!(refused, Err(Error::Overloaded)));
        }
        lock.rollback().await.expect("unlock");
        // fifty refusals wrote nothing: no attempt rows to take back, nothing audited
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures")
            .fetch_one(&idp.db.pool)
            .await
            .expect("count");
        assert_eq!(rows, 0);
        assert_eq!(
            idp.audit_for_account(account.id, 20)
                .await
                .expect("audit")
                .len(),
            audited
        );
        // places free again: the login goes through
        drop(held);
        idp.login("vytizena", PW, None, ORIGIN, &req("10.5.5.5"))
            .await
            .expect("login once there is room");
    }
);

both_databases!(
    guesses_from_many_addresses_delay_those_addresses_not_the_owner,
    |idp: Idp| async move {
        idp.create_account("jana", PW, &req("10.0.0.5"))
            .await
            .expect("create");
        // a botnet: 100 addresses, one wrong guess each
        for i in 0..100 {
            let _ = idp
                .login(
                    "jana",
                    "wrong password here",
                    None,
                    ORIGIN,
                    &req(&format!("10.7.{}.{}", i / 250, i % 250)),
                )
                .await;
        }
        // each of them is delayed now, however few guesses it made itself, and so is any new
        // address: a thousand addresses do not buy a thousand guesses
        for ip in ["10.7.0.1", "10.99.0.1"] {
            assert!(matches!(
                idp.login("jana", PW, None, ORIGIN, &req(ip)).await,
                Err(Error::Throttled { retry_after_secs }) if retry_after_secs <= 60
            ));
        }
        // the owner's own address (where the account was made): in at once
        idp.login("jana", PW, None, ORIGIN, &req("10.0.0.5"))
            .await
            .expect("the owner is not locked out");
        // and at a new address after at most a minute
        idp.clock.advance(60);
        idp.login("jana", PW, None, ORIGIN, &req("10.98.0.1"))
            .await
            .expect("a delay, not a stop");
    }
);

both_databases!(
    one_address_trying_many_accounts_is_throttled,
    |idp: Idp| async move {
        idp.create_account("victim", PW, &req("10.0.0.4"))
            .await
            .expect("create");
        for i in 0..20 {
            let _ = idp
                .login(
                    &format!("guess{i}"),
                    "wrong password here",
                    None,
                    ORIGIN,
                    &req("10.6.6.6"),
                )
                .await;
        }
        assert!(matches!(
            idp.login("victim", PW, None, ORIGIN, &req("10.6.6.6"))
                .await,
            Err(Error::Throttled { .. })
        ));
        // a delay, not a stop: it ends
        idp.clock.advance(2);
        idp.login("victim", PW, None, ORIGIN, &req("10.6.6.6"))
            .await
            .expect("allowed after the delay");
        idp.login("victim", PW, None, ORIGIN, &req("10.0.0.4"))
            .await
            .expect("other addresses unaffected");
    }
);

both_databases!(
    one_address_creates_a_limited_number_of_accounts,
    |idp: Idp| async move {
        for i in 0..20 {
            idp.create_account(&format!("bulk{i}"), PW, &req("10.7.7.7"))
                .await
                .expect("within limit");
        }
        match idp.create_account("bulk20", PW, &req("10.7.7.7")).await {
            Err(Error::TooManyRegistrations { retry_after_secs }) => {
                assert!(retry_after_secs > 0 && retry_after_secs <= 3600)
            }
            other => panic!("expected a limit, got {other:?}"),
        }
        idp.create_account("elsewhere", PW, &req("10.7.7.8"))
            .await
            .expect("other addresses unaffected");
        idp.clock.advance(3600);
        idp.create_account("bulk20", PW, &req("10.7.7.7"))
            .await
            .expect("allowed an hour later");
    }
);

both_databases!(
    an_overlong_password_is_simply_wrong,
    |idp: Idp| async move {
        idp.create_account("dlouhe", PW, &req("10.0.0.10"))
            .await
            .expect("create");
        let huge = "x".repeat(1 << 20);
        assert!(matches!(
            idp.login("dlouhe", &huge, None, ORIGIN, &req("10.0.0.10"))
                .await,
            Err(Error::BadCredentials)
        ));
    }
);

both_databases!(idle_session_expires, |idp: Idp| async move {
    let (_, s) = idp
        .create_account("idle", PW, &req("10.0.0.5"))
        .await
        .expect("create");
    idp.clock.advance(29 * 60);
    idp.session(&s.token).await.expect("still alive");
    idp.clock.advance(31 * 60);
    assert!(matches!(
        idp.session(&s.token).await,
        Err(Error::NotAuthenticated)
    ));
});

both_databases!(profile_bad_input_changes_nothing, |idp: Idp| async move {
    let (a, _) = idp
        .create_account("profil", PW, &req("10.0.0.6"))
        .await
        .expect("create");
    let good = ProfileInput {
        first_name: "Jan".into(),
        last_name: "Novák".into(),
        birth_date: "31. 12. 1980".into(),
        street: "Milešovská".into(),
        house_number: "1136/5".into(),
        city: "Praha 3".into(),
        postcode: "13000".into(),
        country: "CZ".into(),
        organization: String::new(),
    };
    let saved = idp
        .update_profile(a.id, &a.username, &good, &req("10.0.0.6"))
        .await
        .expect("save");
    assert_eq!(saved.birth_date.as_deref(), Some("1980-12-31"));
    assert_eq!(saved.postcode.as_deref(), Some("130 00"));

    let bad = ProfileInput {
        first_name: "J".repeat(101),
        birth_date: "30.2.1990".into(),
        postcode: "1300".into(),
        ..good.clone()
    };
    let err = idp
        .update_profile(a.id, &a.username, &bad, &req("10.0.0.6"))
        .await
        .expect_err("invalid");
    assert_eq!(
        violations(err),
        vec![
            ("first_name".into(), Violation::TooLong { max: 100 }),
            ("birth_date".into(), Violation::DateInvalid),
            ("postcode".into(), Violation::PostcodeInvalid),
        ]
    );
    assert_eq!(idp.profile(a.id).await.expect("profile"), saved);
    let events = idp.audit_for_account(a.id, 10).await.expect("audit");
    assert_eq!(events[0].event, "profile.changed");
    assert!(events[0].details.contains("first_name") && !events[0].details.contains("Jan"));
});

both_databases!(email_verification_with_code, |idp: Idp| async move {
    let (a, _) = idp
        .create_account("kontakt", PW, &req("10.0.0.7"))
        .await
        .expect("create");
    let err = idp
        .start_contact_verification(
            &idp::Caller {
                account_id: a.id,
                username: "kontakt",
                auth: &fresh(&idp),
                req: &req("10.0.0.7"),
            },
            ContactKind::Email,
            "not-an-email",
            compose,
        )
        .await
        .expect_err("malformed");
    assert_eq!(
        violations(err),
        vec![("email".into(), Violation::EmailInvalid)]
    );

    idp.start_contact_verification(
        &idp::Caller {
            account_id: a.id,
            username: "kontakt",
            auth: &fresh(&idp),
            req: &req("10.0.0.7"),
        },
        ContactKind::Email,
        "jan@Example.cz",
        compose,
    )
    .await
    .expect("sent");
    let code = last_code(&idp).await;
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let err = idp
        .verify_contact(a.id, "kontakt", ContactKind::Email, wrong, &req("10.0.0.7"))
        .await
        .expect_err("wrong");
    assert_eq!(
        violations(err),
        vec![("email_code".into(), Violation::CodeWrong)]
    );
    assert_eq!(
        idp.contacts(a.id).await.expect("c").email,
        None,
        "wrong code changes nothing"
    );

    let address = idp
        .verify_contact(a.id, "kontakt", ContactKind::Email, &code, &req("10.0.0.7"))
        .await
        .expect("verified");
    assert_eq!(address, "jan@example.cz");
    let c = idp.contacts(a.id).await.expect("contacts");
    assert_eq!(c.email.as_deref(), Some("jan@example.cz"));
    assert!(c.email_verified_at.is_some());
    assert!(c.pending_email.is_none());
    // the code is single-use
    let err = idp
        .verify_contact(a.id, "kontakt", ContactKind::Email, &code, &req("10.0.0.7"))
        .await
        .expect_err("reuse");
    assert_eq!(
        violations(err),
        vec![("email_code".into(), Violation::CodeMissing)]
    );
});

both_databases!(
    phone_code_expires_and_attempts_run_out,
    |idp: Idp| async move {
        let (a, _) = idp
            .create_account("telefon", PW, &req("10.0.0.8"))
            .await
            .expect("create");
        idp.start_contact_verification(
            &idp::Caller {
                account_id: a.id,
                username: "telefon",
                auth: &fresh(&idp),
                req: &req("10.0.0.8"),
            },
            ContactKind::Phone,
            "777 123 456",
            compose,
        )
        .await
        .expect("sent");
        let sms = &idp.outbox_recent(1).await.expect("outbox")[0];
        assert_eq!(
            (sms.channel.as_str(), sms.recipient.as_str()),
            ("sms", "+420777123456")
        );
        let code = last_code(&idp).await;
        idp.clock.advance(15 * 60);
        let err = idp
            .verify_contact(a.id, "telefon", ContactKind::Phone, &code, &req("10.0.0.8"))
            .await
            .expect_err("expired");
        assert_eq!(
            violations(err),
            vec![("phone_code".into(), Violation::CodeExpired)]
        );

        idp.start_contact_verification(
            &idp::Caller {
                account_id: a.id,
                username: "telefon",
                auth: &fresh(&idp),
                req: &req("10.0.0.8"),
            },
            ContactKind::Phone,
            "777 123 456",
            compose,
        )
        .await
        .expect("sent again");
        let code = last_code(&idp).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..4 {
            let err = idp
                .verify_contact(a.id, "telefon", ContactKind::Phone, wrong, &req("10.0.0.8"))
                .await
                .expect_err("wrong");
            assert_eq!(
                violations(err),
                vec![("phone_code".into(), Violation::CodeWrong)]
            );
        }
        let err = idp
            .verify_contact(a.id, "telefon", ContactKind::Phone, wrong, &req("10.0.0.8"))
            .await
            .expect_err("fifth");
        assert_eq!(
            violations(err),
            vec![("phone_code".into(), Violation::CodeAttemptsExhausted)]
        );
        let err = idp
            .verify_contact(a.id, "telefon", ContactKind::Phone, &code, &req("10.0.0.8"))
            .await
            .expect_err("burnt");
        assert_eq!(
            violations(err),
            vec![("phone_code".into(), Violation::CodeAttemptsExhausted)]
        );
        assert_eq!(idp.contacts(a.id).await.expect("c").phone, None);

        // at most five codes an hour
        for _ in 0..3 {
            idp.start_contact_verification(
                &idp::Caller {
                    account_id: a.id,
                    username: "telefon",
                    auth: &fresh(&idp),
                    req: &req("10.0.0.8"),
                },
                ContactKind::Phone,
                "777 123 456",
                compose,
            )
            .await
            .expect("within limit");
        }
        let err = idp
            .start_contact_verification(
                &idp::Caller {
                    account_id: a.id,
                    username: "telefon",
                    auth: &fresh(&idp),
                    req: &req("10.0.0.8"),
                },
                ContactKind::Phone,
                "777 123 456",
                compose,
            )
            .await
            .expect_err("limit");
        assert!(matches!(
            violations(err)[0].1,
            Violation::TooManyCodes { .. }
        ));
    }
);

both_databases!(audit_log_is_append_only, |idp: Idp| async move {
    idp.create_account("audit", PW, &req("10.0.0.9"))
        .await
        .expect("create");
    assert!(sqlx::query("UPDATE audit_events SET event = 'x'")
        .execute(&idp.db.pool)
        .await
        .is_err());
    assert!(sqlx::query("DELETE FROM audit_events")
        .execute(&idp.db.pool)
        .await
        .is_err());
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(&idp.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 1);
});

/// The two migration folders must describe the same tables and columns.
#[tokio::test]
async fn both_schemas_have_the_same_columns() {
    let Some(pg) = common::postgres().await else {
        eprintln!("PostgreSQL not configured (DATABASE_URL_PG): skipped");
        return;
    };
    let lite = common::sqlite().await;
    let pg_cols: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' ORDER BY 1, 2",
    )
    .fetch_all(&pg.idp.db.pool)
    .await
    .expect("pg columns");
    let lite_cols: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT IN ('_sqlx_migrations', 'sqlite_sequence') ORDER BY 1, 2",
    )
    .fetch_all(&lite.idp.db.pool)
    .await
    .expect("sqlite columns");
    assert!(!pg_cols.is_empty());
    assert_eq!(pg_cols, lite_cols);
    pg.close().await;
    lite.close().await;
}

both_databases!(
    key_check_tickets_are_single_use_and_short_lived,
    |idp: Idp| async move {
        let started = idp
            .start_key_check("http://localhost:3000", &req("10.0.1.1"))
            .await
            .expect("start");
        let options = serde_json::to_value(&started.options).expect("json");
        assert_eq!(options["publicKey"]["attestation"], "direct");
        assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
        let garbage = serde_json::json!({ "id": "x" });
        // a wrong answer still uses the ticket up: it cannot be replayed
        let finished = idp
            .finish_key_check(&started.ticket, &garbage)
            .await
            .expect("judged");
        assert!(finished.verdict.refused.is_some());
        assert!(matches!(
            idp.finish_key_check(&started.ticket, &garbage).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            idp.finish_key_check("no-such-ticket", &garbage).await,
            Err(Error::NotFound)
        ));
        let late = idp
            .start_key_check("http://localhost:3000", &req("10.0.1.1"))
            .await
            .expect("start");
        idp.clock.advance(301);
        assert!(matches!(
            idp.finish_key_check(&late.ticket, &garbage).await,
            Err(Error::NotFound)
        ));
        // one address may not fill the table
        for _ in 0..30 {
            idp.start_key_check("http://localhost:3000", &req("10.0.1.2"))
                .await
                .expect("within limit");
        }
        assert!(matches!(
            idp.start_key_check("http://localhost:3000", &req("10.0.1.2"))
                .await,
            Err(Error::Throttled { .. })
        ));
    }
);

both_databases!(
    a_citizen_sees_their_sessions_ends_one_and_cannot_end_anothers,
    |idp: Idp| async move {
        let (a, here) = idp
            .create_account("relace", PW, &req("10.0.3.1"))
            .await
            .expect("create");
        let (_, LoginStep::Done(there)) = idp
            .login("relace", PW, None, ORIGIN, &req("10.0.3.2"))
            .await
            .expect("second device")
        else {
            panic!("no key: logged in");
        };
        let list = idp.sessions_of(a.id, &here.token).await.expect("list");
        assert_eq!(list.len(), 2);
        assert_eq!(list.iter().filter(|s| s.current).count(), 1);
        let other = list.iter().find(|s| !s.current).expect("the other");
        assert_eq!(other.ip, "10.0.3.2");
        // nobody else can end it, whatever id they send
        let (b, _) = idp
            .create_account("cizi", PW, &req("10.0.3.3"))
            .await
            .expect("create");
        assert!(matches!(
            idp.end_session(b.id, "cizi", &other.id, &req("10.0.3.3"))
                .await,
            Err(Error::NotFound)
        ));
        idp.end_session(a.id, "relace", &other.id, &req("10.0.3.1"))
            .await
            .expect("ended");
        assert!(matches!(
            idp.session(&there.token).await,
            Err(Error::NotAuthenticated)
        ));
        assert!(idp.session(&here.token).await.is_ok());
        // a step-up gives the session a new token: the old one is worth nothing
        let renewed = idp
            .add_session_auth(
                &here.token,
                &[idp::account::sessions::AuthMethod::Password],
                &req("10.0.3.1"),
            )
            .await
            .expect("step-up");
        assert!(matches!(
            idp.session(&here.token).await,
            Err(Error::NotAuthenticated)
        ));
        assert!(idp.session(&renewed.token).await.is_ok());
    }
);

both_databases!(
    a_password_change_needs_a_fresh_login_ends_other_sessions_and_tells_the_old_address,
    |idp: Idp| async move {
        let (a, here) = idp
            .create_account("heslo", PW, &req("10.0.3.5"))
            .await
            .expect("create");
        sqlx::query("UPDATE contacts SET email = 'heslo@example.cz', email_verified_at = 1 WHERE account_id = $1")
            .bind(a.id)
            .execute(&idp.db.pool)
            .await
            .expect("contact");
        let (_, LoginStep::Done(there)) = idp
            .login("heslo", PW, None, ORIGIN, &req("10.0.3.6"))
            .await
            .expect("second device")
        else {
            panic!("no key: logged in");
        };
        let new = "lokomotiva jede pres most do brna";
        let stale = [idp::account::sessions::AuthRecord {
            method: idp::account::sessions::AuthMethod::Password,
            at: idp.clock.now() - 3600,
        }];
        assert!(matches!(
            idp.change_password(
                &idp::Caller {
                    account_id: a.id,
                    username: "heslo",
                    auth: &stale,
                    req: &req("10.0.3.5")
                },
                &here.token,
                new,
                new
            )
            .await,
            Err(Error::StepUpRequired)
        ));
        assert!(matches!(
            idp.change_password(&idp::Caller { account_id: a.id, username: "heslo", auth: &fresh(&idp), req: &req("10.0.3.5") }, &here.token, new, "jine heslo nez to prvni")
                .await,
            Err(Error::Invalid(v)) if v[0].field == "confirmation"
        ));
        idp.change_password(
            &idp::Caller {
                account_id: a.id,
                username: "heslo",
                auth: &fresh(&idp),
                req: &req("10.0.3.5"),
            },
            &here.token,
            new,
            new,
        )
        .await
        .expect("changed");
        assert!(idp.session(&here.token).await.is_ok(), "this device stays");
        assert!(matches!(
            idp.session(&there.token).await,
            Err(Error::NotAuthenticated)
        ));
        let told = idp.outbox_recent(5).await.expect("outbox");
        assert!(told
            .iter()
            .any(|m| m.recipient == "heslo@example.cz"
                && m.body.contains("the password was changed")));
        assert!(matches!(
            idp.login("heslo", PW, None, ORIGIN, &req("10.0.3.7")).await,
            Err(Error::BadCredentials)
        ));
        idp.login("heslo", new, None, ORIGIN, &req("10.0.3.7"))
            .await
            .expect("the new password");
    }
);

//! Delivery from the outbox: e-mail over SMTP against a minimal SMTP server in the test, SMS
//! through the gateway's HTTP API against a test double of the gateway.

mod common;

use std::sync::{Arc, Mutex};

use common::{fresh, req};
use idp::account::contacts::ContactKind;
use idp::outbox::{Mailer, Outgoing, SmsGateway, Transports};
use idp::Idp;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Accepts SMTP sessions and keeps every DATA payload.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test ESMTP\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(buf) = data.as_mut() {
                        if line == "." {
                            if let Ok(mut s) = store.lock() {
                                s.push(buf.clone());
                            }
                            data = None;
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            buf.push_str(&line);
                            buf.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-test\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, received)
}

fn mail(m: Mailer) -> Transports {
    Transports {
        mail: Some(m),
        sms: None,
    }
}

/// What the gateway double received: the Authorization header and the JSON body.
type Received = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

/// An SMS gateway double: records each request and answers `status` (changeable).
async fn sms_gateway() -> (String, Received, Arc<Mutex<u16>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/api/send", listener.local_addr().expect("addr"));
    let received: Received = Arc::default();
    let status = Arc::new(Mutex::new(200u16));
    let (store, answer) = (received.clone(), status.clone());
    let app = axum::Router::new().route(
        "/api/send",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::Json<serde_json::Value>| {
                let (store, answer) = (store.clone(), answer.clone());
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    store.lock().expect("lock").push((auth, body.0));
                    let code = *answer.lock().expect("lock");
                    axum::http::StatusCode::from_u16(code).expect("status")
                }
            },
        ),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, received, status)
}

async fn queue_sms(idp: &Idp, phone: &str) -> i64 {
    let (a, _) = idp
        .create_account("telefon", "kobyla ma maly bok u potoka", &req("10.0.0.2"))
        .await
        .expect("create");
    idp.start_contact_verification(
        &idp::Caller {
            account_id: a.id,
            username: "telefon",
            auth: &fresh(idp),
            req: &req("10.0.0.2"),
        },
        ContactKind::Phone,
        phone,
        |code| Outgoing {
            subject: String::new(),
            body: format!("mojeID kod {code}"),
        },
    )
    .await
    .expect("queued");
    sqlx::query_scalar("SELECT MAX(id) FROM outbox WHERE channel = 'sms'")
        .fetch_one(&idp.db.pool)
        .await
        .expect("id")
}

async fn queue_email(idp: &Idp, address: &str) {
    let (a, _) = idp
        .create_account("posta", "kobyla ma maly bok u potoka", &req("10.0.0.1"))
        .await
        .expect("create");
    idp.start_contact_verification(
        &idp::Caller {
            account_id: a.id,
            username: "posta",
            auth: &fresh(idp),
            req: &req("10.0.0.1"),
        },
        ContactKind::Email,
        address,
        |code| Outgoing {
            subject: "Ověřovací kód".into(),
            body: format!("Kód {code}"),
        },
    )
    .await
    .expect("queued");
}

async fn status(idp: &Idp) -> (String, i64, i64) {
    sqlx::query_as("SELECT status, attempts, next_attempt_at FROM outbox ORDER BY id DESC LIMIT 1")
        .fetch_one(&idp.db.pool)
        .await
        .expect("row")
}

both_databases!(email_is_delivered_over_smtp, |idp: Idp| async move {
    let (port, received) = smtp_server().await;
    queue_email(&idp, "jana@example.cz").await;
    let mailer = mail(
        Mailer::from_url(
            &format!("smtp://127.0.0.1:{port}"),
            "mojeID <noreply@mojeid.test>",
        )
        .expect("mailer"),
    );
    assert_eq!(idp.deliver_outbox(&mailer).await.expect("deliver"), 1);
    assert_eq!(status(&idp).await.0, "sent");
    let mails = received.lock().expect("lock").clone();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: jana@example.cz"), "{}", mails[0]);
    // nothing is sent twice
    assert_eq!(idp.deliver_outbox(&mailer).await.expect("deliver"), 0);
});

both_databases!(failed_delivery_is_retried_later, |idp: Idp| async move {
    // a port where nothing listens
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    queue_email(&idp, "jana@example.cz").await;
    let down = mail(
        Mailer::from_url(&format!("smtp://127.0.0.1:{dead}"), "noreply@mojeid.test")
            .expect("mailer"),
    );
    assert_eq!(
        idp.deliver_outbox(&down).await.expect("no panic, no error"),
        0
    );
    let (state, attempts, next) = status(&idp).await;
    assert_eq!((state.as_str(), attempts), ("pending", 1));
    assert!(next > idp.clock.now(), "retry is scheduled later");

    let (port, received) = smtp_server().await;
    let up = mail(
        Mailer::from_url(&format!("smtp://127.0.0.1:{port}"), "noreply@mojeid.test")
            .expect("mailer"),
    );
    assert_eq!(
        idp.deliver_outbox(&up).await.expect("deliver"),
        0,
        "not before the backoff"
    );
    idp.clock.advance(next - idp.clock.now());
    assert_eq!(idp.deliver_outbox(&up).await.expect("deliver"), 1);
    assert_eq!(received.lock().expect("lock").len(), 1);
});

both_databases!(
    sms_reach_the_gateway_with_its_token_and_are_retried_when_it_fails,
    |idp: Idp| async move {
        let (url, received, status_code) = sms_gateway().await;
        let id = queue_sms(&idp, "+420777123456").await;
        queue_email(&idp, "jana@example.cz").await;
        let sms_only = Transports {
            mail: None,
            sms: Some(SmsGateway::new(&url, "gateway-secret", "mojeID").expect("gateway")),
        };
        // the gateway is down for a while: kept, retried later, nothing lost
        *status_code.lock().expect("lock") = 503;
        assert_eq!(idp.deliver_outbox(&sms_only).await.expect("deliver"), 0);
        let (state, attempts, next): (String, i64, i64) =
            sqlx::query_as("SELECT status, attempts, next_attempt_at FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_one(&idp.db.pool)
                .await
                .expect("row");
        assert_eq!((state.as_str(), attempts), ("pending", 1));
        assert!(next > idp.clock.now());
        *status_code.lock().expect("lock") = 200;
        idp.clock.advance(next - idp.clock.now());
        assert_eq!(idp.deliver_outbox(&sms_only).await.expect("deliver"), 1);
        let got = received.lock().expect("lock").clone();
        assert_eq!(got.len(), 2, "the failed try and the delivery");
        let (auth, body) = &got[1];
        assert_eq!(auth, "Bearer gateway-secret");
        assert_eq!(body["to"], "+420777123456");
        assert_eq!(body["sender"], "mojeID");
        assert_eq!(body["reference"], id.to_string());
        assert!(body["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("mojeID kod ")));
        // the same message's reference both times: a deduplicating gateway sends it once
        assert_eq!(got[0].1["reference"], got[1].1["reference"]);
        // sent once; the e-mail waits for its own transport
        assert_eq!(idp.deliver_outbox(&sms_only).await.expect("deliver"), 0);
        let waiting: (String,) = sqlx::query_as(
            "SELECT status FROM outbox WHERE channel = 'email' ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(&idp.db.pool)
        .await
        .expect("row");
        assert_eq!(waiting.0, "pending");

        // a message the gateway refuses (a bad number, say) fails at once, kept for support
        *status_code.lock().expect("lock") = 400;
        sqlx::query(
            "UPDATE outbox SET status = 'pending', next_attempt_at = 0, attempts = 0 WHERE id = $1",
        )
        .bind(id)
        .execute(&idp.db.pool)
        .await
        .expect("again");
        assert_eq!(idp.deliver_outbox(&sms_only).await.expect("deliver"), 0);
        let (state, attempts): (String, i64) =
            sqlx::query_as("SELECT status, attempts FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_one(&idp.db.pool)
                .await
                .expect("row");
        assert_eq!((state.as_str(), attempts), ("failed", 1));
    }
);

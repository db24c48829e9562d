//! E-mail delivery from the outbox over SMTP, against a minimal SMTP server in the test.

mod common;

use std::sync::{Arc, Mutex};

use common::{fresh, req};
use idp::account::contacts::ContactKind;
use idp::outbox::{Mailer, Outgoing};
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

async fn queue_email(idp: &Idp, address: &str) {
    let (a, _) = idp
        .create_account("posta", "kobyla ma maly bok u potoka", &req("10.0.0.1"))
        .await
        .expect("create");
    idp.start_contact_verification(
        a.id,
        "posta",
        &fresh(idp),
        ContactKind::Email,
        address,
        |code| Outgoing {
            subject: "Ověřovací kód".into(),
            body: format!("Kód {code}"),
        },
        &req("10.0.0.1"),
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
    let mailer = Mailer::from_url(
        &format!("smtp://127.0.0.1:{port}"),
        "mojeID <noreply@mojeid.test>",
    )
    .expect("mailer");
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
    let down = Mailer::from_url(&format!("smtp://127.0.0.1:{dead}"), "noreply@mojeid.test")
        .expect("mailer");
    assert_eq!(
        idp.deliver_outbox(&down).await.expect("no panic, no error"),
        0
    );
    let (state, attempts, next) = status(&idp).await;
    assert_eq!((state.as_str(), attempts), ("pending", 1));
    assert!(next > idp.clock.now(), "retry is scheduled later");

    let (port, received) = smtp_server().await;
    let up = Mailer::from_url(&format!("smtp://127.0.0.1:{port}"), "noreply@mojeid.test")
        .expect("mailer");
    assert_eq!(
        idp.deliver_outbox(&up).await.expect("deliver"),
        0,
        "not before the backoff"
    );
    idp.clock.advance(next - idp.clock.now());
    assert_eq!(idp.deliver_outbox(&up).await.expect("deliver"), 1);
    assert_eq!(received.lock().expect("lock").len(), 1);
});

//! Outgoing e-mail and SMS, written in the same transaction as the event that causes them and
//! delivered by a background job: e-mail over SMTP (lettre), SMS through an SMS gateway's
//! HTTP API (`SmsGateway`), each when configured (production needs both: PIN2 of the 2FA
//! reset must reach a phone). Without a transport a channel's messages stay in the table,
//! readable at `/dev/outbox` in dev and test mode.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::{Any, Executor};

use crate::error::{Error, Result};
use crate::Idp;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// A message to send: the web layer composes subject and body in the user's language.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub subject: String,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: i64,
    pub created_at: i64,
    pub account_id: Option<i64>,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i64,
}

pub async fn enqueue<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    now: i64,
    account_id: Option<i64>,
    channel: Channel,
    recipient: &str,
    message: &Outgoing,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (created_at, account_id, channel, recipient, subject, body, status, \
         attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7)",
    )
    .bind(now)
    .bind(account_id)
    .bind(channel.as_str())
    .bind(recipient)
    .bind(&message.subject)
    .bind(&message.body)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// Queues several messages on one channel, each to its own account and recipient, in one
/// statement.
pub async fn enqueue_each<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    now: i64,
    channel: Channel,
    messages: &[(i64, String, Outgoing)],
) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO outbox (created_at, account_id, channel, recipient, subject, body, status, \
         attempts, next_attempt_at) VALUES {}",
        crate::db::values_placeholders(messages.len(), 9)
    );
    let mut query = sqlx::query(&sql);
    for (account, recipient, message) in messages {
        query = query
            .bind(now)
            .bind(*account)
            .bind(channel.as_str())
            .bind(recipient)
            .bind(&message.subject)
            .bind(&message.body)
            .bind("pending")
            .bind(0i64)
            .bind(now);
    }
    query.execute(executor).await?;
    Ok(())
}

/// Sends e-mail over SMTP. Built from `SMTP_URL` (`smtp://`, `smtps://`, with credentials).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn from_url(url: &str, from: &str) -> std::result::Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| e.to_string())?
            .build();
        let from = from.parse::<Mailbox>().map_err(|e| e.to_string())?;
        Ok(Self { transport, from })
    }
}

/// Sends SMS through a gateway's HTTP API: `POST {url}` with `Authorization: Bearer
/// {token}` and `{"to", "text", "sender", "reference"}`; any 2xx is accepted. `reference`
/// is the outbox id, so a gateway that deduplicates by it sends a message once even when we
/// retry after a crash between its answer and our bookkeeping.
#[derive(Clone)]
pub struct SmsGateway {
    http: reqwest::Client,
    url: String,
    token: String,
    sender: String,
}

impl SmsGateway {
    pub fn new(url: &str, token: &str, sender: &str) -> std::result::Result<Self, String> {
        // a redirect would carry the PIN elsewhere: none is followed
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        reqwest::Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
        Ok(Self {
            http,
            url: url.to_owned(),
            token: token.to_owned(),
            sender: sender.to_owned(),
        })
    }

    async fn send(&self, m: &OutboxMessage) -> std::result::Result<(), Failure> {
        let res = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&serde_json::json!({
                "to": m.recipient,
                "text": m.body,
                "sender": self.sender,
                "reference": m.id.to_string(),
            }))
            .send()
            .await
            // neither the token nor the address goes into the error
            .map_err(|e| Failure::Retry(e.without_url().to_string()))?;
        let status = res.status();
        if status.is_success() {
            Ok(())
        } else if status.is_client_error() && !matches!(status.as_u16(), 401 | 403 | 408 | 429) {
            // the gateway refuses this message (a bad number, say): trying again changes
            // nothing
            Err(Failure::Refused(format!(
                "SMS gateway refused it: {status}"
            )))
        } else {
            // down, busy, or our credential is wrong (an operator fixes it): tried again
            Err(Failure::Retry(format!("SMS gateway answered {status}")))
        }
    }
}

/// Why a message was not delivered.
enum Failure {
    /// Worth trying again later (with backoff, up to the attempt limit).
    Retry(String),
    /// The transport refused this message for good.
    Refused(String),
}

/// The transports the outbox job delivers with; a channel without one keeps its messages.
#[derive(Clone, Default)]
pub struct Transports {
    pub mail: Option<Mailer>,
    pub sms: Option<SmsGateway>,
}

impl Mailer {
    async fn send(&self, m: &OutboxMessage) -> std::result::Result<(), Failure> {
        let to = m
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| Failure::Refused(e.to_string()))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .body(m.body.clone())
            .map_err(|e| Failure::Refused(e.to_string()))?;
        self.transport
            .send(email)
            .await
            .map_err(|e| Failure::Retry(e.to_string()))?;
        Ok(())
    }
}

impl Idp {
    /// Newest first; for `/dev/outbox` and tests.
    pub async fn outbox_recent(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        Ok(sqlx::query_as(
            "SELECT id, created_at, account_id, channel, recipient, subject, body, status, attempts \
             FROM outbox ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }

    /// Delivers due messages of each channel that has a transport; a failure is retried
    /// with exponential backoff (1 min, 2, 4, … up to an hour) and given up after 10
    /// attempts. Returns how many were sent.
    pub async fn deliver_outbox(&self, transports: &Transports) -> Result<usize> {
        let now = self.clock.now();
        if transports.mail.is_none() && transports.sms.is_none() {
            return Ok(0);
        }
        // a channel without a transport is asked for as '' (no channel has that name)
        let mail = transports
            .mail
            .as_ref()
            .map_or("", |_| Channel::Email.as_str());
        let sms = transports
            .sms
            .as_ref()
            .map_or("", |_| Channel::Sms.as_str());
        let due: Vec<OutboxMessage> = sqlx::query_as(
            "SELECT id, created_at, account_id, channel, recipient, subject, body, status, attempts \
             FROM outbox WHERE status = 'pending' AND channel IN ($2, $3) AND next_attempt_at <= $1 \
             ORDER BY id LIMIT 50",
        )
        .bind(now)
        .bind(mail)
        .bind(sms)
        .fetch_all(&self.db.pool)
        .await?;
        let mut sent = 0;
        // a slow transport does not hold the task past its lease: the rest waits for the
        // next run
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        for m in due {
            if std::time::Instant::now() > deadline {
                break;
            }
            let channel = if m.channel == Channel::Email.as_str() {
                Channel::Email
            } else {
                Channel::Sms
            };
            let result = match (channel, &transports.mail, &transports.sms) {
                (Channel::Email, Some(mail), _) => mail.send(&m).await,
                (Channel::Sms, _, Some(sms)) => sms.send(&m).await,
                _ => continue,
            };
            match result {
                Ok(()) => {
                    sent += 1;
                    sqlx::query("UPDATE outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1 WHERE id = $2")
                        .bind(now)
                        .bind(m.id)
                        .execute(&self.db.pool)
                        .await?;
                }
                Err(failure) => {
                    let attempts = m.attempts + 1;
                    let (err, refused) = match failure {
                        Failure::Retry(e) => (e, false),
                        Failure::Refused(e) => (e, true),
                    };
                    let status = if refused || attempts >= 10 {
                        "failed"
                    } else {
                        "pending"
                    };
                    let backoff = 60_i64.saturating_mul(1 << attempts.min(6)).min(3600);
                    tracing::warn!(outbox_id = m.id, channel = %m.channel, attempts, error = %err, "delivery failed");
                    sqlx::query(
                        "UPDATE outbox SET status = $1, attempts = $2, next_attempt_at = $3, last_error = $4 WHERE id = $5",
                    )
                    .bind(status)
                    .bind(attempts)
                    .bind(now + backoff)
                    .bind(err)
                    .bind(m.id)
                    .execute(&self.db.pool)
                    .await?;
                }
            }
        }
        Ok(sent)
    }

    /// Removes expired sessions, old login and reset failures, used verification codes,
    /// control codes and 2FA resets past their lifetime, support drafts never sent, and the text of delivered messages
    /// a day after delivery (PINs, codes and links must not outlive their use in our
    /// database; the row stays, with its recipient and subject, for support).
    pub async fn housekeeping(&self) -> Result<()> {
        let now = self.clock.now();
        sqlx::query(
            "UPDATE outbox SET body = '(removed after delivery)' WHERE status = 'sent' AND sent_at < $1 AND body <> '(removed after delivery)'",
        )
        .bind(now - 86_400)
        .execute(&self.db.pool)
        .await?;
        sqlx::query("DELETE FROM control_codes WHERE expires_at < $1")
            .bind(now)
            .execute(&self.db.pool)
            .await?;
        // resets are kept an hour after they began: the three-an-hour limit counts them
        sqlx::query("DELETE FROM twofa_resets WHERE expires_at < $1 AND created_at < $2")
            .bind(now)
            .bind(now - 3600)
            .execute(&self.db.pool)
            .await?;
        sqlx::query("DELETE FROM reset_failures WHERE at < $1")
            .bind(now - self.policy.throttle_window_secs)
            .execute(&self.db.pool)
            .await?;
        self.delete_stale_support_drafts().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.db.pool)
            .await?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(now - self.policy.throttle_window_secs)
            .execute(&self.db.pool)
            .await?;
        sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at < $1")
            .bind(now)
            .execute(&self.db.pool)
            .await?;
        sqlx::query("DELETE FROM contact_verifications WHERE expires_at < $1")
            .bind(now - 86_400)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }
}

impl From<lettre::error::Error> for Error {
    fn from(e: lettre::error::Error) -> Self {
        Error::Internal(e.to_string())
    }
}

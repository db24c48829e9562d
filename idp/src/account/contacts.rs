//! E-mail and phone, each verified with a one-time code sent through the outbox. A new
//! address replaces the old one only once its code is entered.

use rand::Rng;
use serde_json::json;
use sqlx::Row;

use crate::audit::{Audit, Event};
use crate::error::{Error, Result, Violation};
use crate::outbox::{self, Channel, Outgoing};
use crate::{account::validate, sha256_hex, Idp, RequestInfo};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactKind {
    Email,
    Phone,
}

impl ContactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Email => "email",
            ContactKind::Phone => "phone",
        }
    }
    /// The form field of the code for this kind.
    pub fn code_field(self) -> &'static str {
        match self {
            ContactKind::Email => "email_code",
            ContactKind::Phone => "phone_code",
        }
    }
    fn channel(self) -> Channel {
        match self {
            ContactKind::Email => Channel::Email,
            ContactKind::Phone => Channel::Sms,
        }
    }
    fn normalise(self, raw: &str) -> Result<String, Violation> {
        match self {
            ContactKind::Email => validate::email(raw),
            ContactKind::Phone => validate::phone(raw),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub address: String,
    pub expires_at: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contacts {
    pub email: Option<String>,
    pub email_verified_at: Option<i64>,
    pub phone: Option<String>,
    pub phone_verified_at: Option<i64>,
    pub pending_email: Option<Pending>,
    pub pending_phone: Option<Pending>,
}

fn code_hash(account_id: i64, kind: ContactKind, code: &str) -> String {
    sha256_hex(&format!("{account_id}:{}:{code}", kind.as_str()))
}

impl Idp {
    pub async fn contacts(&self, account_id: i64) -> Result<Contacts> {
        let r = sqlx::query(
            "SELECT email, email_verified_at, phone, phone_verified_at FROM contacts WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        Ok(Contacts {
            email: r.try_get("email")?,
            email_verified_at: r.try_get("email_verified_at")?,
            phone: r.try_get("phone")?,
            phone_verified_at: r.try_get("phone_verified_at")?,
            pending_email: self.pending(account_id, ContactKind::Email).await?,
            pending_phone: self.pending(account_id, ContactKind::Phone).await?,
        })
    }

    async fn pending(&self, account_id: i64, kind: ContactKind) -> Result<Option<Pending>> {
        let now = self.clock.now();
        let row = sqlx::query(
            "SELECT address, expires_at, attempts FROM contact_verifications WHERE account_id = $1 \
             AND kind = $2 AND consumed_at IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(account_id)
        .bind(kind.as_str())
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_at: i64 = row.try_get("expires_at")?;
        let attempts: i64 = row.try_get("attempts")?;
        if expires_at <= now || attempts >= self.policy.code_max_attempts {
            return Ok(None);
        }
        Ok(Some(Pending {
            address: row.try_get("address")?,
            expires_at,
        }))
    }

    /// Sends a code to a new address. `compose` writes the message around the code in the
    /// user's language. Earlier codes of this kind stop working. A contact is where PINs and
    /// password links go, so changing one needs a fresh login (`session_auth`: the password,
    /// and a key when the account has one).
    pub async fn start_contact_verification(
        &self,
        caller: &crate::Caller<'_>,
        kind: ContactKind,
        raw_address: &str,
        compose: impl FnOnce(&str) -> Outgoing,
    ) -> Result<Pending> {
        let (account_id, actor, session_auth, req) =
            (caller.account_id, caller.username, caller.auth, caller.req);
        let address = kind
            .normalise(raw_address)
            .map_err(|v| Error::invalid(kind.as_str(), v))?;
        self.require_fresh_login(account_id, session_auth).await?;
        let now = self.clock.now();
        let recent = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM contact_verifications \
             WHERE account_id = $1 AND kind = $2 AND created_at > $3",
        )
        .bind(account_id)
        .bind(kind.as_str())
        .bind(now - 3600)
        .fetch_one(&self.db.pool)
        .await?;
        let n: i64 = recent.try_get("n")?;
        if n >= self.policy.codes_per_hour {
            let oldest: i64 = recent.try_get("oldest")?;
            return Err(Error::invalid(
                kind.as_str(),
                Violation::TooManyCodes {
                    retry_after_secs: (oldest + 3600 - now).max(1),
                },
            ));
        }
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
        let expires_at = now + self.policy.code_ttl_secs;
        let message = compose(&code);
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE contact_verifications SET consumed_at = $1 WHERE account_id = $2 AND kind = $3 \
             AND consumed_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO contact_verifications (account_id, kind, address, code_hash, created_at, \
             expires_at, attempts) VALUES ($1, $2, $3, $4, $5, $6, 0)",
        )
        .bind(account_id)
        .bind(kind.as_str())
        .bind(&address)
        .bind(code_hash(account_id, kind, &code))
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        outbox::enqueue(
            &mut *tx,
            now,
            Some(account_id),
            kind.channel(),
            &address,
            &message,
        )
        .await?;
        let event = match kind {
            ContactKind::Email => Event::EmailCodeSent,
            ContactKind::Phone => Event::PhoneCodeSent,
        };
        Audit::new(now, Some(account_id), actor, req)
            .record(&mut *tx, event, json!({ "address": address }))
            .await?;
        tx.commit().await?;
        Ok(Pending {
            address,
            expires_at,
        })
    }

    /// Checks a code; the right one makes its address the account's verified contact.
    /// A wrong code counts against the code's attempts; when they run out, a new code is needed.
    pub async fn verify_contact(
        &self,
        account_id: i64,
        actor: &str,
        kind: ContactKind,
        raw_code: &str,
        req: &RequestInfo,
    ) -> Result<String> {
        let field = kind.code_field();
        let code: String = raw_code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.is_empty() {
            return Err(Error::invalid(field, Violation::Required));
        }
        let now = self.clock.now();
        let row = sqlx::query(
            "SELECT id, address, code_hash, expires_at, attempts FROM contact_verifications \
             WHERE account_id = $1 AND kind = $2 AND consumed_at IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(account_id)
        .bind(kind.as_str())
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or_else(|| Error::invalid(field, Violation::CodeMissing))?;
        let id: i64 = row.try_get("id")?;
        let attempts: i64 = row.try_get("attempts")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        if attempts >= self.policy.code_max_attempts {
            return Err(Error::invalid(field, Violation::CodeAttemptsExhausted));
        }
        if expires_at <= now {
            return Err(Error::invalid(field, Violation::CodeExpired));
        }
        let expected: String = row.try_get("code_hash")?;
        let address: String = row.try_get("address")?;
        let right = code.len() == 6
            && code.chars().all(|c| c.is_ascii_digit())
            && code_hash(account_id, kind, &code) == expected;
        let mut tx = self.db.begin().await?;
        if !right {
            sqlx::query("UPDATE contact_verifications SET attempts = attempts + 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            Audit::new(now, Some(account_id), actor, req)
                .record(
                    &mut *tx,
                    Event::ContactCodeRejected,
                    json!({ "kind": kind.as_str() }),
                )
                .await?;
            tx.commit().await?;
            let violation = if attempts + 1 >= self.policy.code_max_attempts {
                Violation::CodeAttemptsExhausted
            } else {
                Violation::CodeWrong
            };
            return Err(Error::invalid(field, violation));
        }
        sqlx::query("UPDATE contact_verifications SET consumed_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let before = crate::notices::previous(&mut tx, account_id).await?;
        let old = match kind {
            ContactKind::Email => before.email.clone(),
            ContactKind::Phone => before.phone.clone(),
        };
        // replacing a verified address starts its cooling-off: no 2FA-reset PIN goes to the
        // new one for a while (setting the first one does not)
        let replaced = old.as_ref().is_some_and(|o| o != &address);
        let (sql, event) = match kind {
            ContactKind::Email => (
                "UPDATE contacts SET email = $1, email_verified_at = $2, updated_at = $2, \
                 email_changed_at = CASE WHEN $4 = 1 THEN $2 ELSE email_changed_at END WHERE account_id = $3",
                Event::EmailVerified,
            ),
            ContactKind::Phone => (
                "UPDATE contacts SET phone = $1, phone_verified_at = $2, updated_at = $2, \
                 phone_changed_at = CASE WHEN $4 = 1 THEN $2 ELSE phone_changed_at END WHERE account_id = $3",
                Event::PhoneVerified,
            ),
        };
        sqlx::query(sql)
            .bind(&address)
            .bind(now)
            .bind(account_id)
            .bind(i64::from(replaced))
            .execute(&mut *tx)
            .await?;
        if replaced {
            let change = match kind {
                ContactKind::Email => crate::notices::Change::Email { new: &address },
                ContactKind::Phone => crate::notices::Change::Phone { new: &address },
            };
            crate::notices::send(&mut tx, account_id, now, &before, change, req).await?;
        }
        Audit::new(now, Some(account_id), actor, req)
            .record(&mut *tx, event, json!({ "address": address }))
            .await?;
        tx.commit().await?;
        Ok(address)
    }
}

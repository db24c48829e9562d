//! "Is your two factor authentication not working?": the control code shown on the page,
//! PIN1 by e-mail and PIN2 by SMS (single-use, short-lived, bound to this reset, limited),
//! and the password; "Remove" deletes every second factor and ends the NIA link (each means
//! deactivated at NIA first: during an outage nothing changes).

use rand::Rng;
use serde_json::json;
use sqlx::Row;

use crate::audit::{self, Event};
use crate::error::{Error, Result, Violation};
use crate::outbox::{self, Channel, Outgoing};
use crate::{random_token, sha256_hex, Idp, RequestInfo};

const CONTROL_TTL_SECS: i64 = 10 * 60;
const RESET_TTL_SECS: i64 = 15 * 60;
const MAX_ATTEMPTS: i64 = 5;
/// Resets an account may start per hour (each sends an e-mail and an SMS).
const RESETS_PER_HOUR: i64 = 3;
/// Letters and digits that cannot be confused when read.
const CONTROL_ALPHABET: &[u8] = b"ACDEFHJKMNPRTUVWXY34679";

fn pin() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

impl Idp {
    /// A control code to show on the page, and the ticket that carries it.
    pub async fn new_control_code(&self) -> Result<(String, String)> {
        let now = self.clock.now();
        let code: String = (0..6)
            .map(|_| {
                CONTROL_ALPHABET[rand::rngs::OsRng.gen_range(0..CONTROL_ALPHABET.len())] as char
            })
            .collect();
        let ticket = random_token();
        sqlx::query(
            "INSERT INTO control_codes (ticket_hash, code, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(sha256_hex(&ticket))
        .bind(&code)
        .bind(now + CONTROL_TTL_SECS)
        .execute(&self.db.pool)
        .await?;
        Ok((ticket, code))
    }

    /// Checks the control code (single use) and, for an account with verified e-mail and
    /// phone, sends PIN1 and PIN2. The answer does not say whether the account exists: the
    /// returned reset ticket works only if it does.
    pub async fn start_2fa_reset(
        &self,
        username: &str,
        control_ticket: &str,
        control_code: &str,
        req: &RequestInfo,
    ) -> Result<String> {
        let now = self.clock.now();
        let row = sqlx::query(
            "DELETE FROM control_codes WHERE ticket_hash = $1 RETURNING code, expires_at",
        )
        .bind(sha256_hex(control_ticket))
        .fetch_optional(&self.db.pool)
        .await?;
        let ok = row.is_some_and(|r| {
            let code: String = r.try_get("code").unwrap_or_default();
            let exp: i64 = r.try_get("expires_at").unwrap_or(0);
            exp > now && code.eq_ignore_ascii_case(control_code.trim())
        });
        if !ok {
            return Err(Error::invalid("control", Violation::CodeWrong));
        }
        let ticket = random_token();
        let account = sqlx::query(
            "SELECT a.id, c.email, c.phone FROM accounts a JOIN contacts c ON c.account_id = a.id \
             WHERE a.username = $1 AND c.email_verified_at IS NOT NULL AND c.phone_verified_at IS NOT NULL",
        )
        .bind(username.trim().to_lowercase())
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(account) = account else {
            return Ok(ticket);
        };
        let account_id: i64 = account.try_get("id")?;
        let recent: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM twofa_resets WHERE account_id = $1 AND created_at > $2",
        )
        .bind(account_id)
        .bind(now - 3600)
        .fetch_one(&self.db.pool)
        .await?;
        if recent.0 >= RESETS_PER_HOUR {
            return Err(Error::invalid(
                "control",
                Violation::TooManyCodes {
                    retry_after_secs: 3600,
                },
            ));
        }
        let (pin1, pin2) = (pin(), pin());
        let email: String = account.try_get("email")?;
        let phone: String = account.try_get("phone")?;
        let mut tx = self.db.pool.begin().await?;
        sqlx::query(
            "INSERT INTO twofa_resets (ticket_hash, account_id, pin1_hash, pin2_hash, attempts, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $6)",
        )
        .bind(sha256_hex(&ticket))
        .bind(account_id)
        .bind(sha256_hex(&format!("{ticket}:{pin1}")))
        .bind(sha256_hex(&format!("{ticket}:{pin2}")))
        .bind(now)
        .bind(now + RESET_TTL_SECS)
        .execute(&mut *tx)
        .await?;
        outbox::enqueue(
            &mut *tx,
            now,
            Some(account_id),
            Channel::Email,
            &email,
            &Outgoing {
                subject: "mojeID: PIN1 pro zrušení dvoufázového ověření / PIN1 to reset two-factor authentication".into(),
                body: format!(
                    "PIN1: {pin1}\n\nPlatí 15 minut. Pokud jste o zrušení dvoufázového ověření nežádali, kontaktujte podporu.\n\
Valid for 15 minutes. If you did not ask to reset two-factor authentication, contact support.\n"
                ),
            },
        )
        .await?;
        outbox::enqueue(
            &mut *tx,
            now,
            Some(account_id),
            Channel::Sms,
            &phone,
            &Outgoing {
                subject: String::new(),
                body: format!("mojeID PIN2: {pin2}"),
            },
        )
        .await?;
        audit::record(
            &mut *tx,
            now,
            Some(account_id),
            "citizen",
            Event::TwofaResetStarted,
            req,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(ticket)
    }

    /// "Remove": with PIN1, PIN2 and the password, every security key is removed, the NIA
    /// link ends (means deactivated at NIA first) and every session ends. Wrong answers count;
    /// after five the reset is void.
    pub async fn finish_2fa_reset(
        &self,
        ticket: &str,
        pin1: &str,
        pin2: &str,
        password: &str,
        req: &RequestInfo,
    ) -> Result<()> {
        let now = self.clock.now();
        let row = sqlx::query(
            "SELECT account_id, pin1_hash, pin2_hash, attempts, expires_at FROM twofa_resets WHERE ticket_hash = $1",
        )
        .bind(sha256_hex(ticket))
        .fetch_optional(&self.db.pool)
        .await?;
        // an unknown ticket (no such account) is answered like wrong PINs
        let Some(row) = row else {
            let _ = self.hasher.verify(password.to_owned(), None).await?;
            return Err(Error::invalid("pins", Violation::CodeWrong));
        };
        let account_id: i64 = row.try_get("account_id")?;
        let attempts: i64 = row.try_get("attempts")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at <= now {
            return Err(Error::invalid("pins", Violation::CodeExpired));
        }
        if attempts >= MAX_ATTEMPTS {
            return Err(Error::invalid("pins", Violation::CodeAttemptsExhausted));
        }
        sqlx::query("UPDATE twofa_resets SET attempts = attempts + 1 WHERE ticket_hash = $1")
            .bind(sha256_hex(ticket))
            .execute(&self.db.pool)
            .await?;
        let pin1_hash: String = row.try_get("pin1_hash")?;
        let pin2_hash: String = row.try_get("pin2_hash")?;
        let hash: Option<String> = sqlx::query("SELECT password_hash FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| r.try_get("password_hash"))
            .transpose()?;
        let password_ok = self.hasher.verify(password.to_owned(), hash).await?;
        let pins_ok = sha256_hex(&format!("{ticket}:{}", pin1.trim())) == pin1_hash
            && sha256_hex(&format!("{ticket}:{}", pin2.trim())) == pin2_hash;
        if !(password_ok && pins_ok) {
            audit::record(
                &self.db.pool,
                now,
                Some(account_id),
                "citizen",
                Event::TwofaResetRefused,
                req,
                json!({ "attempt": attempts + 1 }),
            )
            .await?;
            return Err(Error::invalid("pins", Violation::CodeWrong));
        }
        // NIA first: each means deactivated (and forgotten here at once); an outage stops it
        self.deactivate_all_means(account_id).await?;
        let contacts = sqlx::query("SELECT email, phone FROM contacts WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&self.db.pool)
            .await?;
        let mut tx = self.db.pool.begin().await?;
        let (keys, linked) = remove_second_factors(&mut tx, account_id).await?;
        audit::record(
            &mut *tx,
            now,
            Some(account_id),
            "citizen",
            Event::TwofaReset,
            req,
            json!({ "keys_removed": keys, "nia_unlinked": linked }),
        )
        .await?;
        if linked {
            audit::record(
                &mut *tx,
                now,
                Some(account_id),
                "citizen",
                Event::NiaUnlinked,
                req,
                json!({ "reason": "twofa_reset" }),
            )
            .await?;
        }
        if let Some(c) = contacts {
            let email: Option<String> = c.try_get("email")?;
            let phone: Option<String> = c.try_get("phone")?;
            let text = "Dvoufázové ověření vašeho účtu mojeID bylo zrušeno (všechny bezpečnostní klíče odebrány, propojení s NIA ukončeno). \
Pokud jste to nebyli vy, kontaktujte ihned podporu.\n\nTwo-factor authentication of your mojeID account was reset \
(all security keys removed, the link to NIA ended). If this was not you, contact support at once.\n";
            if let Some(email) = email {
                outbox::enqueue(
                    &mut *tx,
                    now,
                    Some(account_id),
                    Channel::Email,
                    &email,
                    &Outgoing {
                        subject:
                            "mojeID: dvoufázové ověření zrušeno / two-factor authentication reset"
                                .into(),
                        body: text.into(),
                    },
                )
                .await?;
            }
            if let Some(phone) = phone {
                outbox::enqueue(&mut *tx, now, Some(account_id), Channel::Sms, &phone, &Outgoing {
                    subject: String::new(),
                    body: "mojeID: dvoufazove overeni bylo zruseno. Pokud jste to nebyli vy, volejte +420 222 745 111.".into(),
                })
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Inside `tx`: removes every security key, the NIA link (its means already deactivated at
/// NIA), every session, pending 2FA reset and queued unlink of the account. Returns how many
/// keys were removed and whether a link ended.
pub(crate) async fn remove_second_factors(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: i64,
) -> Result<(u64, bool)> {
    let keys = sqlx::query("DELETE FROM security_keys WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    let linked = sqlx::query("DELETE FROM nia_links WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    for table in ["sessions", "twofa_resets", "queued_unlinks"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
            .bind(account_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok((keys, linked > 0))
}

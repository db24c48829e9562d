//! "Is your two factor authentication not working?": the control code shown on the page,
//! PIN1 by e-mail and PIN2 by SMS (single-use, short-lived, bound to this reset, limited),
//! and the password; "Remove" deletes every second factor and ends the NIA link (each means
//! deactivated at NIA first: during an outage nothing changes).

use rand::Rng;
use serde_json::json;
use sqlx::Row;

use crate::audit::{Audit, Event};
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
            "SELECT a.id, c.email, c.phone, c.email_changed_at, c.phone_changed_at FROM accounts a \
             JOIN contacts c ON c.account_id = a.id \
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
        let email: String = account.try_get("email")?;
        let phone: String = account.try_get("phone")?;
        // a contact changed lately gets no PIN: whoever took over a session and swapped the
        // addresses must not be able to reset the keys away before the owner has heard of it
        let changed_at = [
            account.try_get::<Option<i64>, _>("email_changed_at")?,
            account.try_get::<Option<i64>, _>("phone_changed_at")?,
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(changed) = changed_at.filter(|c| now - c < self.policy.contact_cooling_off_secs)
        {
            let from = changed + self.policy.contact_cooling_off_secs;
            let when = crate::notices::when(from);
            let mut tx = self.db.begin().await?;
            // a reset that no PIN opens: it counts toward the three an hour, so the notice
            // below cannot be sent to the account in a loop
            insert_reset(
                &mut tx,
                &ticket,
                account_id,
                (&random_token(), &random_token()),
                MAX_ATTEMPTS,
                now,
            )
            .await?;
            outbox::enqueue(
                &mut *tx,
                now,
                Some(account_id),
                Channel::Email,
                &email,
                &Outgoing {
                    subject: "mojeID: zrušení dvoufázového ověření zatím nelze / two-factor reset not possible yet".into(),
                    body: format!(
                        "Někdo požádal o zrušení dvoufázového ověření vašeho účtu mojeID. E-mail nebo telefon účtu byl \
nedávno změněn, proto vám PIN1 a PIN2 z bezpečnostních důvodů pošleme až od {when}. Pokud jste o nic nežádali ani nic \
neměnili, zavolejte nonstop helpdesk mojeID +420 222 745 111.\n\n\
Somebody asked to reset two-factor authentication of your mojeID account. The account's e-mail or phone changed \
recently, so for your safety PIN1 and PIN2 can be sent from {when}. If you asked for nothing and changed nothing, call \
the mojeID helpdesk (24/7) at +420 222 745 111.\n"
                    ),
                },
            )
            .await?;
            Audit::new(now, Some(account_id), "citizen", req)
                .record(
                    &mut *tx,
                    Event::TwofaResetRefused,
                    json!({ "reason": "contact_cooling_off", "until": from }),
                )
                .await?;
            tx.commit().await?;
            // the page answers as for any account: the ticket leads nowhere
            return Ok(ticket);
        }
        let (pin1, pin2) = (pin(), pin());
        let mut tx = self.db.begin().await?;
        insert_reset(
            &mut tx,
            &ticket,
            account_id,
            (&format!("{ticket}:{pin1}"), &format!("{ticket}:{pin2}")),
            0,
            now,
        )
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
        Audit::new(now, Some(account_id), "citizen", req)
            .record(&mut *tx, Event::TwofaResetStarted, json!({}))
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
        // cheap refusals first: nothing here is hashed for a flood
        let too_long = ticket.len() > 64
            || pin1.len() > 32
            || pin2.len() > 32
            || password.chars().count() > crate::account::password::MAX_LEN;
        if ticket.is_empty() || too_long {
            return Err(Error::invalid("pins", Violation::CodeWrong));
        }
        let recent = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM reset_failures WHERE ip = $1 AND at > $2",
        )
        .bind(&req.ip)
        .bind(now - self.policy.throttle_window_secs)
        .fetch_one(&self.db.pool)
        .await?;
        let n: i64 = recent.try_get("n")?;
        let last: Option<i64> = recent.try_get("last")?;
        let wait = last.unwrap_or(0)
            + crate::account::accounts::growing_delay(
                n,
                self.policy.max_reset_failures_per_address,
                self.policy.throttle_window_secs,
            )
            - now;
        if wait > 0 {
            return Err(Error::Throttled {
                retry_after_secs: wait,
            });
        }
        let row = sqlx::query(
            "SELECT account_id, pin1_hash, pin2_hash, attempts, expires_at FROM twofa_resets WHERE ticket_hash = $1",
        )
        .bind(sha256_hex(ticket))
        .fetch_optional(&self.db.pool)
        .await?;
        // an unknown ticket (no such account) is answered like wrong PINs, in about the time
        // a password check takes, without taking one from anybody
        let Some(row) = row else {
            self.record_reset_failure(&req.ip, now).await?;
            self.hasher.pause_like_verify().await;
            return Err(Error::invalid("pins", Violation::CodeWrong));
        };
        let account_id: i64 = row.try_get("account_id")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at <= now {
            return Err(Error::invalid("pins", Violation::CodeExpired));
        }
        // the attempt is counted before anything is checked, in one statement: parallel
        // answers cannot guess more than MAX_ATTEMPTS times
        let counted = sqlx::query(
            "UPDATE twofa_resets SET attempts = attempts + 1 WHERE ticket_hash = $1 AND attempts < $2 RETURNING attempts",
        )
        .bind(sha256_hex(ticket))
        .bind(MAX_ATTEMPTS)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(counted) = counted else {
            return Err(Error::invalid("pins", Violation::CodeAttemptsExhausted));
        };
        let attempts: i64 = counted.try_get::<i64, _>("attempts")? - 1;
        let pin1_hash: String = row.try_get("pin1_hash")?;
        let pin2_hash: String = row.try_get("pin2_hash")?;
        let hash: Option<String> = sqlx::query("SELECT password_hash FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| r.try_get("password_hash"))
            .transpose()?;
        let pins_ok = crate::constant_time_eq(
            &sha256_hex(&format!("{ticket}:{}", pin1.trim())),
            &pin1_hash,
        ) && crate::constant_time_eq(
            &sha256_hex(&format!("{ticket}:{}", pin2.trim())),
            &pin2_hash,
        );
        let password_ok = self
            .hasher
            .verify_for_recovery(password.to_owned(), hash)
            .await?;
        if !(password_ok && pins_ok) {
            self.record_reset_failure(&req.ip, now).await?;
            Audit::new(now, Some(account_id), "citizen", req)
                .record(
                    &self.db.pool,
                    Event::TwofaResetRefused,
                    json!({ "attempt": attempts + 1 }),
                )
                .await?;
            return Err(Error::invalid("pins", Violation::CodeWrong));
        }
        // NIA first: each means deactivated (and forgotten here at once); an outage stops it
        self.deactivate_all_means(account_id).await?;
        let mut tx = self.db.begin().await?;
        let linked = crate::nia::unlink::end_link_in(
            &mut tx,
            account_id,
            "citizen",
            &crate::nia::unlink::Reason::TwofaReset,
            req,
            now,
        )
        .await?;
        let keys = remove_second_factors(&mut tx, account_id).await?;
        Audit::new(now, Some(account_id), "citizen", req)
            .record(
                &mut *tx,
                Event::TwofaReset,
                json!({ "keys_removed": keys, "nia_unlinked": linked }),
            )
            .await?;
        crate::notices::tell(
            &mut tx,
            account_id,
            now,
            crate::notices::Change::TwofaReset,
            req,
        )
        .await?;
        crate::crash::point("twofa_reset.before_commit");
        tx.commit().await?;
        Ok(())
    }

    /// A wrong 2FA-reset answer from `ip`: counts toward that address's delay.
    async fn record_reset_failure(&self, ip: &str, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO reset_failures (ip, at) VALUES ($1, $2)")
            .bind(ip)
            .bind(now)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }
}

/// Inside `tx`: a reset of `account_id` behind `ticket`, opened by the two PIN secrets
/// (stored as hashes), with `attempts` already used.
async fn insert_reset(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ticket: &str,
    account_id: i64,
    (pin1, pin2): (&str, &str),
    attempts: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO twofa_resets (ticket_hash, account_id, pin1_hash, pin2_hash, attempts, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(sha256_hex(ticket))
    .bind(account_id)
    .bind(sha256_hex(pin1))
    .bind(sha256_hex(pin2))
    .bind(attempts)
    .bind(now)
    .bind(now + RESET_TTL_SECS)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inside `tx`, after the link ended (`unlink::end_link_in`): removes every security key,
/// session, pending 2FA reset and queued unlink of the account. Returns how many keys were
/// removed. Used by the citizen's 2FA reset and by the back office's login reset.
pub(crate) async fn remove_second_factors(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: i64,
) -> Result<u64> {
    let keys = sqlx::query("DELETE FROM security_keys WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    for table in ["sessions", "twofa_resets"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
            .bind(account_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(keys)
}

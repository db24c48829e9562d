//! Account creation and password login with throttling per account and per address.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::account::password::Admission;
use crate::account::sessions::{AuthMethod, NewSession};
use crate::audit::{Audit, Event};
use crate::error::{Error, FieldViolation, Result, Violation};
use crate::keys::LoginStep;
use crate::{account::password, account::validate, Idp, RequestInfo};

/// A username as a login looks it up: trimmed, lower case, and no longer than one past the
/// longest possible (so a huge input costs nothing and matches nobody).
pub(crate) fn login_name(username: &str) -> String {
    username
        .trim()
        .to_lowercase()
        .chars()
        .take(validate::USERNAME_MAX + 1)
        .collect()
}

/// What a password check under throttling came to (`Idp::judge_password`).
pub(crate) enum Judged {
    /// Right; `attempt` is its row in `login_failures`.
    Right {
        attempt: i64,
    },
    Wrong,
    Throttled {
        retry_after_secs: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub username: String,
    #[sqlx(try_from = "String")]
    pub state: AccountState,
    pub created_at: i64,
}

/// Whether the account can be logged into (`accounts.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    Active,
    /// The back office reset the login from a paper form: only the link it sent opens it.
    LoginReset,
}

impl AccountState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Active => "active",
            AccountState::LoginReset => "login_reset",
        }
    }

    /// A stored name read back; one the code does not know is an internal error.
    pub fn stored(s: &str) -> Result<AccountState> {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| Error::Internal(format!("account state {s:?}")))
    }
}

impl TryFrom<String> for AccountState {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        AccountState::stored(&s)
    }
}

impl Idp {
    /// Creates an account and logs it in. Username and password are checked together so the
    /// user sees every problem at once.
    pub async fn create_account(
        &self,
        username: &str,
        password: &str,
        req: &RequestInfo,
    ) -> Result<(Account, NewSession)> {
        let mut violations = Vec::new();
        let username = match validate::username(username) {
            Ok(u) => Some(u),
            Err(v) => {
                violations.push(FieldViolation::new("username", v));
                None
            }
        };
        if let Err(Error::Invalid(v)) =
            password::check_policy("password", password, username.as_deref().unwrap_or(""))
        {
            violations.extend(v);
        }
        let Some(username) = username.filter(|_| violations.is_empty()) else {
            return Err(Error::Invalid(violations));
        };
        let now = self.clock.now();
        let recent = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM audit_events \
             WHERE event = $1 AND ip = $2 AND at > $3",
        )
        .bind(Event::AccountCreated.name())
        .bind(&req.ip)
        .bind(now - 3600)
        .fetch_one(&self.db.pool)
        .await?;
        let created: i64 = recent.try_get("n")?;
        if created >= self.policy.registrations_per_address_per_hour {
            let oldest: i64 = recent.try_get("oldest")?;
            return Err(Error::TooManyRegistrations {
                retry_after_secs: (oldest + 3600 - now).max(1),
            });
        }
        if self.find_account(&username).await?.is_some() {
            return Err(Error::invalid("username", Violation::UsernameTaken));
        }
        let hash = self.hasher.hash(password.to_owned()).await?;
        let mut tx = self.db.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO accounts (username, password_hash, state, created_at) \
             VALUES ($1, $2, 'active', $3) RETURNING id",
        )
        .bind(&username)
        .bind(&hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row.try_get("id")?,
            // lost a race with another registration of the same name
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Error::invalid("username", Violation::UsernameTaken));
            }
            Err(e) => return Err(e.into()),
        };
        sqlx::query("INSERT INTO profiles (account_id, updated_at) VALUES ($1, $2)")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO contacts (account_id, updated_at) VALUES ($1, $2)")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        Audit::new(now, Some(id), &username, req)
            .record(&mut *tx, Event::AccountCreated, json!({}))
            .await?;
        let session = self
            .start_session(&mut tx, id, &[AuthMethod::Password], req, now)
            .await?;
        tx.commit().await?;
        tracing::info!(account_id = id, "account created");
        let account = Account {
            id,
            username,
            state: AccountState::Active,
            created_at: now,
        };
        Ok((account, session))
    }

    pub async fn find_account(&self, username: &str) -> Result<Option<Account>> {
        Ok(sqlx::query_as(
            "SELECT id, username, state, created_at FROM accounts WHERE username = $1",
        )
        .bind(username.trim().to_lowercase())
        .fetch_optional(&self.db.pool)
        .await?)
    }

    pub async fn account(&self, id: i64) -> Result<Account> {
        sqlx::query_as("SELECT id, username, state, created_at FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or(Error::NotFound)
    }

    /// "Change password" (`/settings/password`): after a fresh login, a new password that
    /// meets the policy, typed twice. Every other session of the account ends; the previous
    /// addresses are told.
    pub async fn change_password(
        &self,
        caller: &crate::Caller<'_>,
        session_token: &str,
        new_password: &str,
        confirmation: &str,
    ) -> Result<()> {
        let (account_id, actor, session_auth, req) =
            (caller.account_id, caller.username, caller.auth, caller.req);
        self.require_fresh_login(account_id, session_auth).await?;
        let account = self.account(account_id).await?;
        password::check_policy("password", new_password, &account.username)?;
        if new_password != confirmation {
            return Err(Error::invalid("confirmation", Violation::PasswordsDiffer));
        }
        let hash = self.hasher.hash(new_password.to_owned()).await?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2")
            .bind(account_id)
            .bind(crate::sha256_hex(session_token))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        Audit::new(now, Some(account_id), actor, req)
            .record(
                &mut *tx,
                Event::PasswordChanged,
                json!({ "other_sessions_ended": ended }),
            )
            .await?;
        crate::notices::tell(
            &mut tx,
            account_id,
            now,
            crate::notices::Change::Password,
            req,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Password login, the first step: an account with security keys gets a key challenge
    /// instead of a session (`LoginStep::KeyRequired`). Throttled with growing delays (see
    /// `throttled`); the caller learns how long to wait. Unknown usernames cost the same time
    /// as known ones.
    /// `previous_session` (the caller's current cookie, if any) is ended: the id rotates.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        previous_session: Option<&str>,
        origin: &str,
        req: &RequestInfo,
    ) -> Result<(Account, LoginStep)> {
        let key = login_name(username);
        if key.is_empty() || password.is_empty() {
            let mut v = Vec::new();
            if key.is_empty() {
                v.push(FieldViolation::new("username", Violation::Required));
            }
            if password.is_empty() {
                v.push(FieldViolation::new("password", Violation::Required));
            }
            return Err(Error::Invalid(v));
        }
        let admission = self.hasher.admit_login()?;
        let now = self.clock.now();
        let (account, hash) = self.account_for_login(&key).await?;
        let (account, attempt) = match (
            self.judge_password(admission, &key, password, hash, now, req)
                .await?,
            account,
        ) {
            // a right password: its row goes with the address's failures when the session
            // starts, or now when a key must still answer
            (Judged::Right { attempt }, Some(a)) => {
                crate::crash::point("login.verified");
                (a, attempt)
            }
            (Judged::Throttled { retry_after_secs }, _) => {
                Audit::new(now, None, &key, req)
                    .record(&self.db.pool, Event::LoginThrottled, json!({}))
                    .await?;
                return Err(Error::Throttled { retry_after_secs });
            }
            (_, other) => {
                let account_id = other.as_ref().map(|a| a.id);
                Audit::new(now, account_id, &key, req)
                    .record(
                        &self.db.pool,
                        Event::LoginFailed,
                        json!({ "known_username": account_id.is_some() }),
                    )
                    .await?;
                return Err(Error::BadCredentials);
            }
        };
        let take_back = || self.take_back_attempt(attempt);
        if account.state != AccountState::Active {
            take_back().await?;
            return Err(Error::AccountInactive);
        }
        // an account with security keys is not logged in until a key answers
        if self.has_security_keys(account.id).await? {
            take_back().await?;
            let step = self.start_key_login(account.id, origin, req).await?;
            return Ok((account, step));
        }
        let mut tx = self.db.begin().await?;
        if let Some(old) = previous_session {
            crate::account::sessions::delete_by_token(&mut tx, old).await?;
        }
        sqlx::query("DELETE FROM login_failures WHERE username = $1 AND ip = $2")
            .bind(&key)
            .bind(&req.ip)
            .execute(&mut *tx)
            .await?;
        let session = self
            .start_session(&mut tx, account.id, &[AuthMethod::Password], req, now)
            .await?;
        Audit::new(now, Some(account.id), &account.username, req)
            .record(
                &mut *tx,
                Event::LoginSucceeded,
                json!({ "methods": ["password"] }),
            )
            .await?;
        tx.commit().await?;
        Ok((account, LoginStep::Done(session)))
    }

    /// The account a login names (`key`: see `login_name`) and its stored password hash;
    /// `None` for both when there is no such account.
    pub(crate) async fn account_for_login(
        &self,
        key: &str,
    ) -> Result<(Option<Account>, Option<String>)> {
        let row = sqlx::query(
            "SELECT id, username, state, created_at, password_hash FROM accounts WHERE username = $1",
        )
        .bind(key)
        .fetch_optional(&self.db.pool)
        .await?;
        let hash = row
            .as_ref()
            .map(|r| r.try_get("password_hash"))
            .transpose()?;
        let account = row
            .as_ref()
            .map(<Account as sqlx::FromRow<_>>::from_row)
            .transpose()?;
        Ok((account, hash))
    }

    /// A failed login step: counts toward throttling this username and address, and is
    /// audited.
    pub(crate) async fn record_login_failure(
        &self,
        account_id: Option<i64>,
        username: &str,
        req: &RequestInfo,
        details: serde_json::Value,
    ) -> Result<()> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        sqlx::query("INSERT INTO login_failures (username, ip, at) VALUES ($1, $2, $3)")
            .bind(username)
            .bind(&req.ip)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        Audit::new(now, account_id, username, req)
            .record(&mut *tx, Event::LoginFailed, details)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks `password` against `hash` (`None`: no such account, in the same time) for
    /// `username` from `req`'s address. The attempt is written as a failure before it is
    /// judged, so that guesses sent in parallel count each other; a throttled attempt, or one
    /// that could not be judged (overload), is taken back, a wrong one stays as the failure,
    /// and a right one is the caller's to take back or to leave for the session's clean-up.
    /// `admission`: the hashing place the caller took first of all (`Hasher::admit_login`),
    /// so that a login that is going to be shed costs no database query and no write.
    pub(crate) async fn judge_password(
        &self,
        admission: Admission,
        username: &str,
        password: &str,
        hash: Option<String>,
        now: i64,
        req: &RequestInfo,
    ) -> Result<Judged> {
        let attempt = self.reserve_attempt(username, &req.ip, now).await?;
        let judged = async {
            if let Some(retry_after_secs) = self
                .throttled_before(username, &req.ip, now, Some(attempt))
                .await?
            {
                return Ok(Judged::Throttled { retry_after_secs });
            }
            // no stored password is longer than the policy allows: a longer one is wrong
            // without spending a hash on it (and cannot make the server hash megabytes)
            let right = password.chars().count() <= password::MAX_LEN
                && self
                    .hasher
                    .verify_admitted(admission, password.to_owned(), hash)
                    .await?;
            Ok(if right {
                Judged::Right { attempt }
            } else {
                Judged::Wrong
            })
        }
        .await;
        if !matches!(judged, Ok(Judged::Right { .. } | Judged::Wrong)) {
            self.take_back_attempt(attempt).await?;
        }
        judged
    }

    /// Writes a password attempt as a failure before it is judged.
    async fn reserve_attempt(&self, username: &str, ip: &str, now: i64) -> Result<i64> {
        Ok(sqlx::query(
            "INSERT INTO login_failures (username, ip, at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(username)
        .bind(ip)
        .bind(now)
        .fetch_one(&self.db.pool)
        .await?
        .try_get("id")?)
    }

    pub(crate) async fn take_back_attempt(&self, attempt: i64) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(attempt)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// Seconds until a login for this username from this address is allowed again, or
    /// `None` when it is allowed now (NIST SP 800-63B §5.2.2: delays that grow, never a hard
    /// stop that an attacker can use to keep the owner out). Three rules, each counting the
    /// failures of the window:
    /// - this username from this address: past `max_failures_per_account`, each further try
    ///   waits twice as long after the last failure (1 s, 2 s, 4 s, … up to the window);
    /// - this address, any username: the same past `max_failures_per_address`;
    /// - this username from every address: past `max_failures_per_username`, one shared delay
    ///   (at most a minute) for every address the owner has not used in 90 days — the owner
    ///   at home is never delayed by somebody else's guesses, and at a new address only
    ///   briefly.
    ///
    /// Only the failures recorded before attempt `before` count (the row the caller wrote for
    /// the attempt being judged).
    async fn throttled_before(
        &self,
        username: &str,
        ip: &str,
        now: i64,
        before: Option<i64>,
    ) -> Result<Option<i64>> {
        let since = now - self.policy.throttle_window_secs;
        let earlier = before.map_or(String::new(), |id| format!(" AND id < {id}"));
        let count = |sql: &'static str, binds: Vec<String>| {
            let sql = sql.replace(" AND at >", &format!("{earlier} AND at >"));
            async move {
                let mut q = sqlx::query(&sql);
                for b in &binds {
                    q = q.bind(b.clone());
                }
                let row = q.bind(since).fetch_one(&self.db.pool).await?;
                let n: i64 = row.try_get("n")?;
                let last: Option<i64> = row.try_get("last")?;
                Ok::<(i64, i64), Error>((n, last.unwrap_or(0)))
            }
        };
        let pair = count(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_failures WHERE username = $1 AND ip = $2 AND at > $3",
            vec![username.to_owned(), ip.to_owned()],
        )
        .await?;
        let address = count(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_failures WHERE ip = $1 AND at > $2",
            vec![ip.to_owned()],
        )
        .await?;
        let window = self.policy.throttle_window_secs;
        let mut rules = vec![
            (pair, self.policy.max_failures_per_account, window),
            (address, self.policy.max_failures_per_address, window),
        ];
        let everywhere = count(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_failures WHERE username = $1 AND at > $2",
            vec![username.to_owned()],
        )
        .await?;
        // guesses spread over many addresses: past the limit every address the owner has not
        // used shares one delay, from the last failure anywhere, never longer than a minute
        // (an owner at a new address waits at most that); known addresses are not delayed
        if everywhere.0 >= self.policy.max_failures_per_username
            && !self.known_address(username, ip, now).await?
        {
            rules.push((everywhere, self.policy.max_failures_per_username, 60));
        }
        let wait = rules
            .into_iter()
            .filter_map(|((n, last), limit, cap)| {
                let secs = last + growing_delay(n, limit, cap) - now;
                (secs > 0).then_some(secs)
            })
            .max();
        Ok(wait)
    }

    /// Whether the account behind `username` was created or logged into from `ip` in the last
    /// 90 days (the owner's own address).
    async fn known_address(&self, username: &str, ip: &str, now: i64) -> Result<bool> {
        let Some(account) = self.find_account(username).await? else {
            return Ok(false);
        };
        let n: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND at > $2 AND ip = $3 \
             AND event IN ('login.succeeded', 'account.created')",
        )
        .bind(account.id)
        .bind(now - 90 * 86_400)
        .bind(ip)
        .fetch_one(&self.db.pool)
        .await?;
        Ok(n.0 > 0)
    }
}

/// The wait after `n` failures where `limit` are free: none up to the limit, then 1 s, 2 s,
/// 4 s, … doubling with each failure, never more than `cap`.
pub(crate) fn growing_delay(n: i64, limit: i64, cap: i64) -> i64 {
    if n < limit {
        return 0;
    }
    let doublings = (n - limit).min(30) as u32;
    (1i64 << doublings).min(cap)
}

#[cfg(test)]
mod tests {
    use super::growing_delay;

    #[test]
    fn delays_start_at_the_limit_and_double_up_to_the_cap() {
        let d: Vec<i64> = (0..20).map(|n| growing_delay(n, 5, 900)).collect();
        assert_eq!(&d[..5], &[0, 0, 0, 0, 0]);
        assert_eq!(&d[5..11], &[1, 2, 4, 8, 16, 32]);
        assert_eq!(d[19], 900);
        assert_eq!(growing_delay(i64::MAX, 5, 900), 900);
    }
}

//! Passwords: the NIST SP 800-63B policy (length, a blocklist of common and guessable values,
//! no composition rules) and argon2id hashing on a bounded blocking pool.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{Error, FieldViolation, Result, Violation};

/// Passwords that are the only authenticator must be at least 15 characters (SP 800-63B-4 §3.1.1.2).
pub const MIN_LEN: usize = 15;
/// We accept much more than the required 64 so that passphrases fit.
pub const MAX_LEN: usize = 128;

/// What `accounts.password_hash` holds when an account has no password (after a login
/// reset, until the citizen sets a new one).
pub const NO_PASSWORD: &str = "!";

/// Checks a new password. `field` names the form field the violation belongs to.
pub fn check_policy(field: &str, password: &str, username: &str) -> Result<()> {
    let len = password.chars().count();
    let violation = if password.is_empty() {
        Some(Violation::Required)
    } else if len < MIN_LEN {
        Some(Violation::TooShort { min: MIN_LEN })
    } else if len > MAX_LEN {
        Some(Violation::TooLong { max: MAX_LEN })
    } else if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        Some(Violation::PasswordContainsUsername)
    } else if is_blocklisted(password, username) {
        Some(Violation::PasswordCommon)
    } else {
        None
    };
    match violation {
        Some(v) => Err(Error::Invalid(vec![FieldViolation::new(field, v)])),
        None => Ok(()),
    }
}

/// The blocklist: zxcvbn's dictionaries of common passwords, words, names and keyboard
/// patterns, plus repeats and sequences, and the product's own name. A password that an
/// attacker would guess in fewer than 10^10 tries is refused.
fn is_blocklisted(password: &str, username: &str) -> bool {
    let entropy = zxcvbn::zxcvbn(password, &[username, "mojeid", "moje", "nia", "heslo"]);
    (entropy.score() as u8) < 3
}

/// Hashes and verifies with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane) on tokio's
/// blocking pool, at most `workers` at a time and at most `max_queue` waiting; past that the
/// caller gets `Error::Overloaded` (HTTP 503 with Retry-After) instead of an unbounded queue.
/// Admission is also by expected wait (`with_wait_budget`): a job that would wait longer than
/// the budget behind those ahead of it, at the time one job takes now (a moving average of
/// the hashing alone), is refused at once instead of joining a queue nobody waits out.
///
/// Recovery (the 2FA reset's password check) has a share of its own — one verification at a
/// time and a short queue — so that a flood of reset attempts can never take the logins'.
#[derive(Clone)]
pub struct Hasher {
    logins: Share,
    recovery: Share,
    argon: Argon2<'static>,
    dummy_hash: Arc<str>,
    /// How long the last verification took (µs): what an answer that needs none waits, so
    /// that it cannot be told apart by its time.
    typical_micros: Arc<std::sync::atomic::AtomicU64>,
}

/// A bounded share of the hashing capacity.
#[derive(Clone)]
struct Share {
    permits: Arc<Semaphore>,
    in_flight: Arc<AtomicUsize>,
    workers: usize,
    capacity: usize,
    /// What one job takes on a worker (µs, moving average of the last ones).
    job_micros: Arc<std::sync::atomic::AtomicU64>,
    /// The longest expected wait a job is admitted to (µs).
    budget_micros: u64,
}

impl Share {
    fn new(workers: usize, max_queue: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(workers.max(1))),
            in_flight: Arc::new(AtomicUsize::new(0)),
            workers: workers.max(1),
            capacity: workers.max(1) + max_queue,
            job_micros: Arc::new(std::sync::atomic::AtomicU64::new(20_000)),
            budget_micros: u64::MAX,
        }
    }

    /// How long a job admitted behind `ahead` others would wait for a worker (µs).
    fn expected_wait(&self, ahead: usize) -> u64 {
        if ahead < self.workers {
            return 0;
        }
        let rounds = ((ahead - self.workers) / self.workers + 1) as u64;
        rounds.saturating_mul(self.job_micros.load(Ordering::Relaxed))
    }

    fn admit(&self) -> Result<Admission> {
        let ahead = self.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(self.in_flight.clone());
        if ahead >= self.capacity || self.expected_wait(ahead) > self.budget_micros {
            return Err(Error::Overloaded);
        }
        Ok(Admission {
            share: self.clone(),
            guard,
        })
    }

    fn record_job(&self, took: std::time::Duration) {
        let sample = took.as_micros().min(u128::from(u32::MAX)) as u64;
        let old = self.job_micros.load(Ordering::Relaxed);
        self.job_micros
            .store((old.saturating_mul(7) + sample) / 8, Ordering::Relaxed);
    }
}

/// Recovery's share: one verification at a time, four waiting.
const RECOVERY_WORKERS: usize = 1;
const RECOVERY_QUEUE: usize = 4;

impl Hasher {
    pub fn new(workers: usize, max_queue: usize) -> Result<Self> {
        let params =
            Params::new(19 * 1024, 2, 1, None).map_err(|e| Error::Internal(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon
            .hash_password(b"dummy password for unknown users", &salt)
            .map_err(|e| Error::Internal(e.to_string()))?
            .to_string();
        Ok(Self {
            logins: Share::new(workers, max_queue),
            recovery: Share::new(RECOVERY_WORKERS, RECOVERY_QUEUE),
            argon,
            dummy_hash: dummy_hash.into(),
            typical_micros: Arc::new(std::sync::atomic::AtomicU64::new(20_000)),
        })
    }

    /// Logins are admitted only while the expected wait for a worker is within `budget`.
    pub fn with_wait_budget(mut self, budget: std::time::Duration) -> Self {
        self.logins.budget_micros = budget.as_micros().min(u128::from(u64::MAX)) as u64;
        self
    }

    /// A place among the logins' hashing jobs, taken before the request does anything else
    /// (`Error::Overloaded` when the expected wait is past the budget): a login that is
    /// going to be shed costs no database write and no hash.
    pub fn admit_login(&self) -> Result<Admission> {
        let admission = self.logins.admit();
        if admission.is_err() {
            crate::metrics::login_shed();
        }
        admission
    }

    async fn run<T: Send + 'static>(
        &self,
        share: &Share,
        job: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T> {
        let admission = share.admit()?;
        self.run_admitted(admission, job).await
    }

    async fn run_admitted<T: Send + 'static>(
        &self,
        admission: Admission,
        job: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T> {
        let Admission { share, guard } = admission;
        let permit = share
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        let argon = self.argon.clone();
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let out = job(&argon);
            share.record_job(started.elapsed());
            drop(permit);
            drop(guard);
            out
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(&self.logins, move |argon| {
            let salt = SaltString::generate(&mut OsRng);
            argon
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::Internal(e.to_string()))
        })
        .await?
    }

    /// Verifies `password` against `hash`; with `None` it verifies against a dummy hash so that
    /// unknown usernames take as long as known ones. A stored value starting with `!` is no
    /// password (the login was reset): nothing matches it, in the same time.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool> {
        let admission = self.logins.admit()?;
        self.verify_admitted(admission, password, hash).await
    }

    /// `verify` on recovery's own share (the 2FA reset): when that is full the caller gets
    /// `Error::Overloaded`, and logins are not affected.
    pub async fn verify_for_recovery(
        &self,
        password: String,
        hash: Option<String>,
    ) -> Result<bool> {
        let admission = self.recovery.admit()?;
        self.verify_admitted(admission, password, hash).await
    }

    /// Waits about as long as a verification takes, without using the hashing capacity: for
    /// answers that need no verification but must not be faster than those that do.
    pub async fn pause_like_verify(&self) {
        let micros = self.typical_micros.load(Ordering::Relaxed).min(1_000_000);
        tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
    }

    /// `verify` in a place taken before (`admit_login`).
    pub async fn verify_admitted(
        &self,
        admission: Admission,
        password: String,
        hash: Option<String>,
    ) -> Result<bool> {
        let hash = hash.filter(|h| !h.starts_with(NO_PASSWORD));
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let started = std::time::Instant::now();
        let ok = self
            .run_admitted(admission, move |argon| {
                PasswordHash::new(&hash)
                    .map(|parsed| argon.verify_password(password.as_bytes(), &parsed).is_ok())
                    .unwrap_or(false)
            })
            .await?;
        self.typical_micros
            .store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        Ok(ok && known)
    }
}

/// A hashing job's place in its share, from admission until the job finishes or its caller
/// goes away.
pub struct Admission {
    share: Share,
    guard: InFlight,
}

/// Counts a hashing job from admission until it finishes or its caller goes away.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(password: &str, username: &str) -> Option<Violation> {
        match check_policy("password", password, username) {
            Ok(()) => None,
            Err(Error::Invalid(v)) => Some(v[0].violation.clone()),
            Err(e) => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn length_bounds() {
        assert_eq!(violation("", "jan"), Some(Violation::Required));
        assert_eq!(
            violation("short pass", "jan"),
            Some(Violation::TooShort { min: 15 })
        );
        assert_eq!(
            violation(&"x".repeat(129), "jan"),
            Some(Violation::TooLong { max: 128 })
        );
    }

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        for p in [
            "passwordpassword",
            "123456789012345",
            "qwertyuiopasdfgh",
            "aaaaaaaaaaaaaaaa",
            "iloveyouiloveyou",
            "mojeidmojeid1234",
        ] {
            assert_eq!(violation(p, "jan"), Some(Violation::PasswordCommon), "{p}");
        }
    }

    #[test]
    fn password_with_username_is_refused() {
        assert_eq!(
            violation("novak.jan-tajne-heslo", "novak.jan"),
            Some(Violation::PasswordContainsUsername)
        );
    }

    #[test]
    fn passphrases_pass_without_composition_rules() {
        // no digits, no capitals, no symbols: still fine
        assert_eq!(violation("kobyla ma maly bok u potoka", "jan"), None);
        assert_eq!(violation("ŽluťoučkýKůňÚpělĎábelskéÓdy", "jan"), None);
    }

    #[tokio::test]
    async fn overload_is_refused_not_queued() {
        let h = Hasher::new(1, 0).expect("hasher");
        let busy = h.clone();
        let first = tokio::spawn(async move { busy.hash("first password here".into()).await });
        // wait until the first job holds the only place
        while h.logins.in_flight.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            h.hash("second password".into()).await,
            Err(Error::Overloaded)
        ));
        assert!(first.await.expect("join").is_ok());
        assert!(h.hash("third password".into()).await.is_ok());
    }

    #[tokio::test]
    async fn a_login_that_would_wait_past_the_budget_is_refused_at_once() {
        // one worker, room to queue, and a budget shorter than one verification
        let h = Hasher::new(1, 8)
            .expect("hasher")
            .with_wait_budget(std::time::Duration::from_micros(1));
        assert!(!h
            .verify("warms up the timing".into(), None)
            .await
            .expect("v"));
        let busy = h.clone();
        let first = tokio::spawn(async move { busy.verify("first".into(), None).await });
        while h.logins.in_flight.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // behind the running one it would wait about one verification: refused, not queued
        assert!(matches!(
            h.verify("second".into(), None).await,
            Err(Error::Overloaded)
        ));
        assert!(first.await.expect("join").is_ok());
        // with a budget that covers the wait it is queued and served
        let h = h.with_wait_budget(std::time::Duration::from_secs(60));
        let busy = h.clone();
        let first = tokio::spawn(async move { busy.verify("first".into(), None).await });
        while h.logins.in_flight.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        assert!(h.verify("second".into(), None).await.is_ok());
        assert!(first.await.expect("join").is_ok());
    }

    #[tokio::test]
    async fn a_full_recovery_share_leaves_logins_their_own() {
        let h = Hasher::new(1, 0).expect("hasher");
        // recovery's share filled (one running, four waiting) and then some
        let flood: Vec<_> = (0..8)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(async move { h.verify_for_recovery("guess".into(), None).await })
            })
            .collect();
        while h.recovery.in_flight.load(Ordering::SeqCst) < RECOVERY_WORKERS + RECOVERY_QUEUE {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            h.verify_for_recovery("one more".into(), None).await,
            Err(Error::Overloaded)
        ));
        // a login is still served from its own share
        assert!(!h
            .verify("a login".into(), None)
            .await
            .expect("login served"));
        for f in flood {
            let _ = f.await.expect("join");
        }
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = Hasher::new(2, 8).expect("hasher");
        let hash = h.hash("correct horse battery".into()).await.expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(h
            .verify("correct horse battery".into(), Some(hash.clone()))
            .await
            .expect("v"));
        assert!(!h
            .verify("wrong horse battery".into(), Some(hash))
            .await
            .expect("v"));
        assert!(!h.verify("anything".into(), None).await.expect("v"));
    }
}

//! The identity domain, laid out by the help page's flows: the account (`account`), its
//! security keys (`keys`), the link to NIA (`nia`), getting back in (`recovery`), staff roles
//! (`staff`), and what they share: the audit log, the outbox, the job queue. It knows nothing
//! of HTTP or Leptos; the server and the app call it.

pub mod account;
pub mod audit;
pub mod clock;
pub mod crash;
pub mod db;
pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod jobs;
pub mod keys;
pub mod metrics;
pub mod nia;
pub mod notices;
pub mod outbox;
pub mod public_edge;
pub mod recovery;
pub mod staff;
pub mod support;
#[cfg(feature = "testing")]
pub mod testing;

pub use clock::Clock;
pub use db::{Backend, Db};
pub use error::{Error, FieldViolation, Result, Violation};

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Where a request came from, for the audit log and throttling.
#[derive(Clone, Debug, Default)]
pub struct RequestInfo {
    pub ip: String,
    pub user_agent: String,
}

impl RequestInfo {
    /// What a background job records in place of a browser (`what`: which job).
    pub(crate) fn job(what: &str) -> Self {
        Self {
            ip: "job".into(),
            user_agent: what.into(),
        }
    }
}

/// Who calls a domain function on behalf of a logged-in citizen: the account, the name the
/// audit log gives the actor, the session's logins (for the step-up rules, `Freshness`) and
/// where the request came from.
#[derive(Clone, Copy, Debug)]
pub struct Caller<'a> {
    pub account_id: i64,
    pub username: &'a str,
    pub auth: &'a [account::sessions::AuthRecord],
    pub req: &'a RequestInfo,
}

/// Tunables of the domain, validated by the server's configuration.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Failed logins of one username from one address within the window before each
    /// further try is delayed (growing delays, never a hard stop).
    pub max_failures_per_account: i64,
    /// Failed logins from one address (any username) before its tries are delayed.
    pub max_failures_per_address: i64,
    /// Failed logins of one username from all addresses before the addresses that failed
    /// for it are delayed (an address with no failure is not).
    pub max_failures_per_username: i64,
    /// Failed 2FA-reset answers from one address within the window before it is refused
    /// (checked before any hashing).
    pub max_reset_failures_per_address: i64,
    /// A changed e-mail or phone receives no 2FA-reset PIN for this long.
    pub contact_cooling_off_secs: i64,
    pub throttle_window_secs: i64,
    /// Sessions end after this long without a request…
    pub session_idle_secs: i64,
    /// …and after this long in any case.
    pub session_absolute_secs: i64,
    pub code_ttl_secs: i64,
    pub code_max_attempts: i64,
    /// Codes one account may request per kind (email/phone) per hour.
    pub codes_per_hour: i64,
    /// Accounts one address may create per hour.
    pub registrations_per_address_per_hour: i64,
    /// How long a worker holds a job it claimed: a job whose worker died runs again after.
    pub job_lease_secs: i64,
    /// The operator's list of key models (AAGUIDs) that may log in through NIA at LoA high.
    pub high_models: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            max_failures_per_username: 100,
            max_reset_failures_per_address: 10,
            contact_cooling_off_secs: 72 * 3600,
            throttle_window_secs: 15 * 60,
            session_idle_secs: 30 * 60,
            session_absolute_secs: 12 * 3600,
            code_ttl_secs: 15 * 60,
            code_max_attempts: 5,
            codes_per_hour: 5,
            registrations_per_address_per_hour: 20,
            job_lease_secs: 120,
            high_models: Vec::new(),
        }
    }
}

/// The handle the web layer holds: cheap to clone.
#[derive(Clone)]
pub struct Idp {
    pub db: Db,
    pub hasher: account::password::Hasher,
    pub clock: Clock,
    pub policy: Policy,
    metadata: std::sync::Arc<std::sync::RwLock<std::sync::Arc<keys::mds::Metadata>>>,
    nia: std::sync::Arc<std::sync::RwLock<Option<std::sync::Arc<nia::client::NiaClient>>>>,
    edges: std::sync::Arc<public_edge::EdgeCounters>,
    means: std::sync::Arc<nia::reconcile::MeansCounters>,
    /// This process's name in the job queue's leases.
    worker: std::sync::Arc<str>,
}

impl Idp {
    pub fn new(db: Db, hasher: account::password::Hasher, clock: Clock, policy: Policy) -> Self {
        Self {
            db,
            hasher,
            clock,
            policy,
            metadata: Default::default(),
            nia: Default::default(),
            edges: Default::default(),
            means: Default::default(),
            worker: format!("worker-{}", &random_token()[..12]).into(),
        }
    }

    /// The NIA client (none until `set_nia`).
    pub fn nia(&self) -> Option<std::sync::Arc<nia::client::NiaClient>> {
        match self.nia.read() {
            Ok(n) => n.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set_nia(&self, client: nia::client::NiaClient) {
        let new = Some(std::sync::Arc::new(client));
        match self.nia.write() {
            Ok(mut n) => *n = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }

    /// The FIDO metadata in use (empty until `set_metadata`).
    pub fn metadata(&self) -> std::sync::Arc<keys::mds::Metadata> {
        match self.metadata.read() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the FIDO metadata (at start, and when a new BLOB is imported).
    pub fn set_metadata(&self, metadata: keys::mds::Metadata) {
        let new = std::sync::Arc::new(metadata);
        match self.metadata.write() {
            Ok(mut m) => *m = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }
}

/// A random token, URL-safe, with 256 bits of entropy.
pub(crate) fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256, hex: how tokens and one-time codes are stored.
pub(crate) fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Compares two secrets (hex digests, tokens) in time that does not depend on where they
/// differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

//! What operators watch (`/metrics`, Prometheus text format): counters this process keeps
//! (every audited event by name, logins shed under load, key registrations by verdict, calls
//! to NIA by endpoint and outcome with their time) and gauges read from the database at each
//! scrape (pairing requests by state, the job queue, the outbox backlog, open support
//! requests, the FIDO metadata's next update). Counters are per process, as Prometheus sums
//! them across servers; an event is counted when it is written, also in a transaction that is
//! later rolled back (rare: a failure after the audit row).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

use sqlx::Row;

use crate::error::Result;
use crate::Idp;

static EVENTS: LazyLock<Mutex<BTreeMap<&'static str, u64>>> = LazyLock::new(Default::default);
static KEY_REGISTRATIONS: LazyLock<Mutex<BTreeMap<&'static str, u64>>> =
    LazyLock::new(Default::default);
/// (endpoint, outcome) → (calls, seconds in all)
type CallStats = BTreeMap<(&'static str, &'static str), (u64, f64)>;
static NIA_CALLS: LazyLock<Mutex<CallStats>> = LazyLock::new(Default::default);
static LOGINS_SHED: AtomicU64 = AtomicU64::new(0);
/// The last call to NIA's API: its outcome and when (Unix time).
static NIA_LAST: Mutex<Option<(&'static str, i64)>> = Mutex::new(None);

fn bump(map: &Mutex<BTreeMap<&'static str, u64>>, key: &'static str) {
    let mut m = match map.lock() {
        Ok(m) => m,
        Err(poisoned) => poisoned.into_inner(),
    };
    *m.entry(key).or_insert(0) += 1;
}

fn copy<K: Clone + Ord, V: Clone>(map: &Mutex<BTreeMap<K, V>>) -> BTreeMap<K, V> {
    match map.lock() {
        Ok(m) => m.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

/// An audited event was written (`audit::record`).
pub(crate) fn event(name: &'static str) {
    bump(&EVENTS, name);
}

/// A login turned away before it did anything: the hashing pool's expected wait was past
/// the budget (HTTP 503).
pub(crate) fn login_shed() {
    LOGINS_SHED.fetch_add(1, Ordering::Relaxed);
}

/// A key registration's verdict: `eligible` (can serve NIA), `not_eligible`, `refused`
/// (incorrect data from the key).
pub(crate) fn key_registration(verdict: &'static str) {
    bump(&KEY_REGISTRATIONS, verdict);
}

/// A call to NIA's API ended: `outcome` is `ok`, `refused` (NIA said no) or `unavailable`.
pub(crate) fn nia_call(endpoint: &'static str, outcome: &'static str, seconds: f64) {
    let mut m = match NIA_CALLS.lock() {
        Ok(m) => m,
        Err(poisoned) => poisoned.into_inner(),
    };
    let e = m.entry((endpoint, outcome)).or_insert((0, 0.0));
    e.0 += 1;
    e.1 += seconds;
    drop(m);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match NIA_LAST.lock() {
        Ok(mut l) => *l = Some((outcome, now)),
        Err(poisoned) => *poisoned.into_inner() = Some((outcome, now)),
    }
}

/// What the admin shows operators: the FIDO metadata's freshness, whether NIA answered the
/// last call this process made, and the job queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    pub mds_serial: u64,
    pub mds_next_update: String,
    pub mds_stale: bool,
    /// The last call's outcome and time; `None` before any.
    pub nia_last_call: Option<(String, i64)>,
    pub jobs_due: i64,
    pub jobs_failed: i64,
    pub outbox_pending: i64,
}

/// How many times `event` was counted in this process (tests read it).
pub fn event_count(name: &str) -> u64 {
    copy(&EVENTS).get(name).copied().unwrap_or(0)
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

impl Idp {
    /// The operators' summary for the admin pages.
    pub async fn health(&self) -> Result<Health> {
        let count = |sql: &'static str| async move {
            let n: i64 = sqlx::query(sql)
                .fetch_one(&self.db.pool)
                .await?
                .try_get("n")?;
            Ok::<i64, crate::error::Error>(n)
        };
        let md = self.metadata();
        let last = match NIA_LAST.lock() {
            Ok(l) => *l,
            Err(poisoned) => *poisoned.into_inner(),
        };
        Ok(Health {
            mds_serial: md.serial,
            mds_next_update: md.next_update.clone(),
            mds_stale: md.stale_since.is_some(),
            nia_last_call: last.map(|(o, at)| (o.to_owned(), at)),
            jobs_due: count("SELECT COUNT(*) AS n FROM jobs WHERE state = 'due'").await?,
            jobs_failed: count("SELECT COUNT(*) AS n FROM jobs WHERE state = 'failed'").await?,
            outbox_pending: count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")
                .await?,
        })
    }

    /// The counters and the gauges, in Prometheus text format.
    pub async fn metrics_text(&self) -> Result<String> {
        let mut out = String::new();
        let events = copy(&EVENTS);
        header(
            &mut out,
            "mojeid_events_total",
            "counter",
            "Audited events written by this process, by event name (login.succeeded, login.failed, login.throttled, security_key.added, nia.linked, support.request_sent, ...).",
        );
        for (name, n) in &events {
            let _ = writeln!(out, "mojeid_events_total{{event=\"{name}\"}} {n}");
        }
        header(
            &mut out,
            "mojeid_logins_total",
            "counter",
            "Password logins by outcome: ok (a session or the key step), failed, throttled (too many failures), shed (503: the hashing pool was full).",
        );
        for (outcome, event) in [("failed", "login.failed"), ("throttled", "login.throttled")] {
            let n = events.get(event).copied().unwrap_or(0);
            let _ = writeln!(out, "mojeid_logins_total{{outcome=\"{outcome}\"}} {n}");
        }
        let ok = events.get("login.succeeded").copied().unwrap_or(0);
        let _ = writeln!(out, "mojeid_logins_total{{outcome=\"ok\"}} {ok}");
        let _ = writeln!(
            out,
            "mojeid_logins_total{{outcome=\"shed\"}} {}",
            LOGINS_SHED.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "mojeid_key_registrations_total",
            "counter",
            "Security keys registered, by verdict: eligible (can serve NIA), not_eligible, refused (incorrect data from the key).",
        );
        let keys = copy(&KEY_REGISTRATIONS);
        for verdict in ["eligible", "not_eligible", "refused"] {
            let n = keys.get(verdict).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "mojeid_key_registrations_total{{verdict=\"{verdict}\"}} {n}"
            );
        }
        header(
            &mut out,
            "mojeid_nia_calls_total",
            "counter",
            "Calls to NIA's API by endpoint and outcome (ok, refused, unavailable).",
        );
        let calls = copy(&NIA_CALLS);
        for ((endpoint, outcome), (n, _)) in &calls {
            let _ = writeln!(
                out,
                "mojeid_nia_calls_total{{endpoint=\"{endpoint}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        header(
            &mut out,
            "mojeid_nia_call_seconds_total",
            "counter",
            "Time spent in calls to NIA's API (divide by mojeid_nia_calls_total for the mean).",
        );
        for ((endpoint, outcome), (_, secs)) in &calls {
            let _ = writeln!(
                out,
                "mojeid_nia_call_seconds_total{{endpoint=\"{endpoint}\",outcome=\"{outcome}\"}} {secs:.6}"
            );
        }

        let grouped = |sql: &'static str| async move {
            let rows = sqlx::query(sql).fetch_all(&self.db.pool).await?;
            rows.iter()
                .map(|r| Ok((r.try_get::<String, _>("k")?, r.try_get::<i64, _>("n")?)))
                .collect::<Result<Vec<(String, i64)>>>()
        };
        header(
            &mut out,
            "mojeid_pairing_requests",
            "gauge",
            "Requests to link an account to NIA, by state.",
        );
        for (state, n) in
            grouped("SELECT state AS k, COUNT(*) AS n FROM pairing_requests GROUP BY state").await?
        {
            let _ = writeln!(out, "mojeid_pairing_requests{{state=\"{state}\"}} {n}");
        }
        header(
            &mut out,
            "mojeid_jobs",
            "gauge",
            "Background jobs by state (due is the queue's depth; failed ones gave up after their retries; done ones are kept a while).",
        );
        for (state, n) in
            grouped("SELECT state AS k, COUNT(*) AS n FROM jobs GROUP BY state").await?
        {
            let _ = writeln!(out, "mojeid_jobs{{state=\"{state}\"}} {n}");
        }
        header(
            &mut out,
            "mojeid_outbox",
            "gauge",
            "E-mails and text messages by status (pending is the backlog).",
        );
        for (status, n) in
            grouped("SELECT status AS k, COUNT(*) AS n FROM outbox GROUP BY status").await?
        {
            let _ = writeln!(out, "mojeid_outbox{{status=\"{status}\"}} {n}");
        }
        header(
            &mut out,
            "mojeid_support_requests",
            "gauge",
            "Support requests sent, by state (open ones wait for an answer).",
        );
        for (state, n) in grouped(
            "SELECT state AS k, COUNT(*) AS n FROM support_requests WHERE state <> 'draft' GROUP BY state",
        )
        .await?
        {
            let _ = writeln!(out, "mojeid_support_requests{{state=\"{state}\"}} {n}");
        }
        let md = self.metadata();
        header(
            &mut out,
            "mojeid_mds_serial",
            "gauge",
            "Serial number (no) of the FIDO metadata BLOB in use; 0 before one is loaded.",
        );
        let _ = writeln!(out, "mojeid_mds_serial {}", md.serial);
        if let Some(next) = next_update_unix(&md.next_update) {
            header(
                &mut out,
                "mojeid_mds_next_update_seconds",
                "gauge",
                "Seconds until the FIDO metadata BLOB's nextUpdate (negative: stale, a newer one should be fetched).",
            );
            let _ = writeln!(
                out,
                "mojeid_mds_next_update_seconds {}",
                next - self.clock.now()
            );
        }
        Ok(out)
    }
}

/// `YYYY-MM-DD` (the BLOB's nextUpdate) as the Unix time of its start, UTC.
fn next_update_unix(date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(date, format)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_blobs_next_update_is_a_day() {
        assert_eq!(super::next_update_unix("2026-12-01"), Some(1_796_083_200));
        assert_eq!(super::next_update_unix(""), None);
    }
}

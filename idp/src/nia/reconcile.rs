//! NIA and we agree on which of our keys are a person's means. A means of ours that no
//! link here holds (an orphan: a link that failed after registering it, a crash) is
//! deactivated at NIA; a means a link holds that NIA no longer lists is reported to
//! operators (the audit log, the log and `/metrics`), never "fixed" silently.
//!
//! Run for one person right after a link fails, and as a job over the linked persons and
//! the persons of ended requests, a batch at a time.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;
use sqlx::Row;

use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::nia::client::NiaError;
use crate::nia::pairing::State;
use crate::{Idp, RequestInfo};

/// Persons looked at per run of the job.
const BATCH: i64 = 50;

/// What the job found, for operators (`/metrics`), since the process started.
#[derive(Debug, Default)]
pub struct MeansCounters {
    orphans_deactivated: AtomicU64,
    missing_at_nia: AtomicU64,
    /// The last person looked at, in the order the job walks them (lowest account id, BSI).
    cursor: std::sync::Mutex<(i64, String)>,
}

impl MeansCounters {
    pub fn orphans_deactivated(&self) -> u64 {
        self.orphans_deactivated.load(Ordering::Relaxed)
    }

    pub fn missing_at_nia(&self) -> u64 {
        self.missing_at_nia.load(Ordering::Relaxed)
    }
}

/// One person's comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub orphans_deactivated: usize,
    pub missing_at_nia: usize,
    /// Skipped because a request for the person is being completed (its means are on the way).
    pub skipped: bool,
}

impl std::ops::AddAssign for Reconciled {
    fn add_assign(&mut self, o: Self) {
        self.orphans_deactivated += o.orphans_deactivated;
        self.missing_at_nia += o.missing_at_nia;
        self.skipped |= o.skipped;
    }
}

/// The key id behind one of our means references.
fn key_of(means_ref: &str) -> Option<i64> {
    means_ref.strip_prefix("mojeid-key-")?.parse().ok()
}

impl Idp {
    pub fn means_counters(&self) -> &MeansCounters {
        &self.means
    }

    /// Compares NIA's list of the person's means with the means our links hold: orphans are
    /// deactivated (audited), means NIA does not list are reported. NIA's list is read
    /// first, ours after; a person with a request that may still complete (`completing`,
    /// or `data_received` for them) is left for a later run, since registering a key again
    /// gives the same means. (Within one process the jobs run one after another; several
    /// servers need the job queue of the architecture issue to rule the rest out.)
    pub async fn reconcile_person(&self, bsi: &str) -> Result<Reconciled> {
        let client = self.nia_client()?;
        let at_nia = match client.means_of(bsi).await {
            Ok(m) => m,
            Err(NiaError::Unavailable(_)) => return Err(Error::NiaUnavailable),
            // NIA no longer knows the person (its profile ended with the last means)
            Err(NiaError::Refused(_)) => Vec::new(),
            Err(e) => {
                // one unreadable answer must not stop the walk over everybody else
                tracing::warn!(error = %e, "NIA's means list could not be read; person skipped");
                return Ok(Reconciled {
                    skipped: true,
                    ..Reconciled::default()
                });
            }
        };
        // a request that may still complete (confirmed, or with the data and its means
        // possibly registered by an attempt an outage cut short) keeps the person's means
        let completing: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM pairing_requests WHERE \
             (state = $2 AND (bsi = $1 OR bsi IS NULL OR bsi = '')) \
             OR (state = $3 AND bsi = $1)",
        )
        .bind(bsi)
        .bind(State::Completing.as_str())
        .bind(State::DataReceived.as_str())
        .fetch_one(&self.db.pool)
        .await?
        .try_get("n")?;
        // a key of theirs on its way to NIA (`means::register_key_at_nia`) likewise
        let registering: i64 = sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM jobs j JOIN security_keys k ON j.payload = {} \
             JOIN nia_links l ON l.account_id = k.account_id \
             WHERE j.kind = 'register_means' AND j.state = 'due' AND l.bsi = $1",
            crate::jobs::payload_sql("key", "k.id")
        ))
        .bind(bsi)
        .fetch_one(&self.db.pool)
        .await?
        .try_get("n")?;
        if completing + registering > 0 {
            return Ok(Reconciled {
                skipped: true,
                ..Reconciled::default()
            });
        }
        let ours: Vec<(String, i64)> = sqlx::query(
            "SELECT m.means_id, m.account_id FROM nia_means m \
             JOIN nia_links l ON l.account_id = m.account_id WHERE l.bsi = $1",
        )
        .bind(bsi)
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("means_id")?, r.try_get("account_id")?)))
        .collect::<Result<_>>()?;
        let now = self.clock.now();
        let mut found = Reconciled::default();
        for m in at_nia.iter().filter(|m| key_of(&m.means_ref).is_some()) {
            if ours.iter().any(|(id, _)| *id == m.id) {
                continue;
            }
            if let Err(e) = client.deactivate_means(bsi, &m.id).await {
                tracing::warn!(error = %e, "an orphaned means could not be deactivated at NIA");
                return Err(Error::NiaUnavailable);
            }
            let owner: Option<i64> = match key_of(&m.means_ref) {
                Some(key) => sqlx::query("SELECT account_id FROM security_keys WHERE id = $1")
                    .bind(key)
                    .fetch_optional(&self.db.pool)
                    .await?
                    .map(|r| r.try_get("account_id"))
                    .transpose()?,
                None => None,
            };
            Audit::new(now, owner, "job", &RequestInfo::job("means-reconciliation"))
                .record(
                    &self.db.pool,
                    Event::NiaMeansOrphanDeactivated,
                    json!({ "means_id": m.id, "means_ref": m.means_ref }),
                )
                .await?;
            found.orphans_deactivated += 1;
        }
        for (id, account) in &ours {
            if at_nia.iter().any(|m| m.id == *id) {
                continue;
            }
            tracing::error!(account, means_id = %id, "a linked key is not an active means at NIA");
            Audit::new(
                now,
                Some(*account),
                "job",
                &RequestInfo::job("means-reconciliation"),
            )
            .record(
                &self.db.pool,
                Event::NiaMeansMissing,
                json!({ "means_id": id }),
            )
            .await?;
            found.missing_at_nia += 1;
        }
        self.means
            .orphans_deactivated
            .fetch_add(found.orphans_deactivated as u64, Ordering::Relaxed);
        self.means
            .missing_at_nia
            .fetch_add(found.missing_at_nia as u64, Ordering::Relaxed);
        Ok(found)
    }

    /// The job: the next batch of persons — linked here, or named by a request that ended
    /// without a link — walked in order and round again. Stops at the first outage.
    pub async fn reconcile_means(&self) -> Result<Reconciled> {
        let (after_ord, after_bsi) = self.reconcile_cursor();
        // linked persons, persons of requests that ended without a link (failed, cancelled)
        // and persons validated here, linked or not any more (detached: none of ours at NIA)
        let ended = State::sql_list(|s| !s.is_active() && s != State::Completed);
        let rows = sqlx::query(&format!(
            "SELECT p.bsi, MIN(p.ord) AS ord FROM ( \
               SELECT bsi, account_id AS ord FROM nia_links \
               UNION ALL SELECT bsi, account_id AS ord FROM pairing_requests \
                 WHERE state IN ({ended}) AND bsi IS NOT NULL AND bsi <> '' \
               UNION ALL SELECT validated_bsi AS bsi, id AS ord FROM accounts \
                 WHERE validated_bsi IS NOT NULL AND validated_bsi <> '' \
             ) p GROUP BY p.bsi HAVING MIN(p.ord) > $1 OR (MIN(p.ord) = $1 AND p.bsi > $2) \
             ORDER BY MIN(p.ord), p.bsi LIMIT $3",
        ))
        .bind(after_ord)
        .bind(&after_bsi)
        .bind(BATCH)
        .fetch_all(&self.db.pool)
        .await?;
        let mut total = Reconciled::default();
        let mut last = (after_ord, after_bsi);
        for r in &rows {
            let bsi: String = r.try_get("bsi")?;
            total += self.reconcile_person(&bsi).await?;
            last = (r.try_get("ord")?, bsi);
        }
        // a short batch ends the round: the next run starts from the beginning
        let next = if (rows.len() as i64) < BATCH {
            (0, String::new())
        } else {
            last
        };
        self.set_reconcile_cursor(next);
        Ok(total)
    }

    fn reconcile_cursor(&self) -> (i64, String) {
        match self.means.cursor.lock() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_reconcile_cursor(&self, next: (i64, String)) {
        match self.means.cursor.lock() {
            Ok(mut c) => *c = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::key_of;

    #[test]
    fn only_our_references_name_a_key() {
        assert_eq!(key_of(&crate::nia::client::means_ref(42)), Some(42));
        assert_eq!(key_of("mojeid-key-x"), None);
        assert_eq!(key_of("eop-123"), None);
    }
}

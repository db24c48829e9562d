//! The durable job queue (`jobs`): background work that must happen once even with several
//! servers on one database and servers that die mid-job.
//!
//! A job is due at `run_at`. A worker claims due jobs in one statement that takes a lease
//! (`locked_by`, `locked_until`) and counts the attempt; on PostgreSQL the candidates are
//! picked `FOR UPDATE SKIP LOCKED`, so two workers never claim the same job, and on SQLite
//! the statement runs alone under the database's write lock. A finished job is `done`; an
//! error puts it back with a later `run_at` (the kind decides the pause) or ends it as
//! `failed` with `last_error`; a job whose worker died is claimed again once its lease ends.
//! Every job is idempotent: what it does at NIA can be done twice. Operators see the queue
//! with `mojeid-server jobs`.
//!
//! The queue carries the completion of pairing requests (`CompletePairing`), the work that
//! waits for NIA — unlinks and login resets queued during an outage (`HelpdeskUnlink`,
//! `LoginReset`) and keys added after linking (`RegisterMeans`); waiting costs them no
//! attempt — and the recurring work (`Every`): each recurring task has one job, due again a
//! period after it ran, so with several servers each period's run happens once. (Loading a
//! newer FIDO metadata file stays with each server: every process needs it in memory.)

use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

use crate::error::{Error, Result};
use crate::{Backend, Idp};

/// A recurring task (a whole batch) holds its claim this many times the job lease
/// (`Policy::job_lease_secs`); a server that died gives it up then.
const RECURRING_LEASE_FACTOR: i64 = 5;

/// How long queued work waits before asking NIA again during an outage.
const NIA_WAIT_SECS: i64 = 15;

/// Attempts of a job ending in an error that is not NIA's outage before it is given up.
pub(crate) const JOB_ERRORS_MAX: i64 = 6;

/// The pause before a job runs again after its `n`th attempt failed: 2, 4, 8 … seconds, at
/// most ten minutes.
pub(crate) fn retry_pause_secs(n: i64) -> i64 {
    (1i64 << n.clamp(1, 10)).min(600)
}

/// What a job does, with what it needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Kind {
    /// Finish a pairing request the citizen confirmed ("Complete connection to NIA").
    CompletePairing { request: i64 },
    /// The helpdesk's unlink, queued during an NIA outage: runs once NIA answers.
    HelpdeskUnlink { account: i64 },
    /// The back office's login reset from a paper form, queued during an NIA outage.
    LoginReset { form: i64 },
    /// A certified key added to a linked account becomes a means at NIA too.
    RegisterMeans { key: i64 },
    /// A piece of housekeeping that runs every so often, by one server at a time.
    Every { task: Task },
}

/// The recurring work, each run by whichever server claims it, once per period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Registry changes of linked persons into their locked profiles.
    RegistryChanges,
    /// E-mail and SMS from the outbox.
    Outbox,
    /// NIA's means against ours (`reconcile`).
    ReconcileMeans,
    /// Reminders of Czech POINT requests.
    OfficeReminders,
    /// Expired pairing requests become cancelled.
    ExpirePairings,
    /// Old rows go (`housekeeping`).
    Housekeeping,
}

impl Task {
    pub const ALL: [Task; 6] = [
        Task::RegistryChanges,
        Task::Outbox,
        Task::ReconcileMeans,
        Task::OfficeReminders,
        Task::ExpirePairings,
        Task::Housekeeping,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Task::RegistryChanges => "registry_changes",
            Task::Outbox => "outbox",
            Task::ReconcileMeans => "reconcile_means",
            Task::OfficeReminders => "office_reminders",
            Task::ExpirePairings => "expire_pairings",
            Task::Housekeeping => "housekeeping",
        }
    }

    /// How often it runs, in seconds.
    pub fn every_secs(self) -> i64 {
        match self {
            Task::RegistryChanges => 2,
            Task::Outbox => 5,
            Task::ReconcileMeans => 60,
            Task::OfficeReminders | Task::ExpirePairings | Task::Housekeeping => 600,
        }
    }

    fn parse(name: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::CompletePairing { .. } => "complete_pairing",
            Kind::HelpdeskUnlink { .. } => "helpdesk_unlink",
            Kind::LoginReset { .. } => "login_reset",
            Kind::RegisterMeans { .. } => "register_means",
            Kind::Every { .. } => "every",
        }
    }

    /// The stored payload: what the kind needs, in a fixed form (one pending job per payload;
    /// `payload_sql` writes the same form in SQL).
    fn payload(&self) -> String {
        match self {
            Kind::CompletePairing { request } => format!("{{\"request\":{request}}}"),
            Kind::HelpdeskUnlink { account } => format!("{{\"account\":{account}}}"),
            Kind::LoginReset { form } => format!("{{\"form\":{form}}}"),
            Kind::RegisterMeans { key } => format!("{{\"key\":{key}}}"),
            Kind::Every { task } => format!("{{\"task\":\"{}\"}}", task.name()),
        }
    }

    fn parse(kind: &str, payload: &str) -> Option<Kind> {
        let v: serde_json::Value = serde_json::from_str(payload).ok()?;
        match kind {
            "complete_pairing" => Some(Kind::CompletePairing {
                request: v["request"].as_i64()?,
            }),
            "helpdesk_unlink" => Some(Kind::HelpdeskUnlink {
                account: v["account"].as_i64()?,
            }),
            "login_reset" => Some(Kind::LoginReset {
                form: v["form"].as_i64()?,
            }),
            "register_means" => Some(Kind::RegisterMeans {
                key: v["key"].as_i64()?,
            }),
            "every" => Some(Kind::Every {
                task: Task::parse(v["task"].as_str()?)?,
            }),
            _ => None,
        }
    }
}

/// The SQL expression of the payload `{"field":<column>}` (a kind whose payload is one id,
/// as `Kind::payload` writes it), for queries that look for the pending job of a row.
pub(crate) fn payload_sql(field: &str, column: &str) -> String {
    format!("'{{\"{field}\":' || {column} || '}}'")
}

/// A claimed job.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: i64,
    pub kind: Kind,
    /// This claim included.
    pub attempts: i64,
}

/// One row of the queue, for operators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub run_at: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub locked_by: Option<String>,
    pub locked_until: Option<i64>,
}

/// Inside `tx`: pending work that is no longer wanted ends as `done` (a queued unlink once
/// the link ended some other way: it must never end a later link).
pub(crate) async fn settle(tx: &mut Transaction<'_, Any>, kind: &Kind, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET state = 'done', finished_at = $1, last_error = 'settled by another path' \
         WHERE kind = $2 AND payload = $3 AND state = 'due'",
    )
    .bind(now)
    .bind(kind.name())
    .bind(kind.payload())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inside `tx`: the job is queued, due at `run_at`, unless the same work is already pending.
pub(crate) async fn enqueue(tx: &mut Transaction<'_, Any>, kind: &Kind, run_at: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (kind, payload, state, run_at, created_at) VALUES ($1, $2, 'due', $3, $3) \
         ON CONFLICT (kind, payload) WHERE state = 'due' DO NOTHING",
    )
    .bind(kind.name())
    .bind(kind.payload())
    .bind(run_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Idp {
    /// This process's name in `locked_by`.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Claims up to `limit` due jobs of `kind_name` for `lease_secs`.
    pub(crate) async fn claim(
        &self,
        kind_name: &str,
        limit: i64,
        lease_secs: i64,
    ) -> Result<Vec<Claimed>> {
        let now = self.clock.now();
        let pick = match self.db.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let rows = sqlx::query(&format!(
            "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE state = 'due' AND kind = $3 AND run_at <= $4 \
             AND (locked_until IS NULL OR locked_until < $4) ORDER BY run_at, id LIMIT $5{pick}) \
             RETURNING id, kind, payload, attempts"
        ))
        .bind(self.worker())
        .bind(now + lease_secs)
        .bind(kind_name)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?;
        let mut claimed = Vec::new();
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let kind: String = r.try_get("kind")?;
            let payload: String = r.try_get("payload")?;
            match Kind::parse(&kind, &payload) {
                Some(k) => claimed.push(Claimed {
                    id,
                    kind: k,
                    attempts: r.try_get("attempts")?,
                }),
                None => {
                    self.end_job(id, "failed", Some("unreadable payload"))
                        .await?;
                }
            }
        }
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
    }

    /// The job is done.
    pub(crate) async fn job_done(&self, id: i64) -> Result<()> {
        self.end_job(id, "done", None).await
    }

    /// The job failed for good with `error`.
    pub(crate) async fn job_failed(&self, id: i64, error: &str) -> Result<()> {
        self.end_job(id, "failed", Some(error)).await
    }

    /// The job runs again at `run_at` (its lease given back), after `error`.
    pub(crate) async fn job_retry(&self, id: i64, error: &str, run_at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET run_at = $1, last_error = $2, locked_by = NULL, locked_until = NULL \
             WHERE id = $3 AND locked_by = $4",
        )
        .bind(run_at)
        .bind(truncate(error))
        .bind(id)
        .bind(self.worker())
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// The job waits for NIA to come back: due again at `run_at`, and the claim does not
    /// count as an attempt (an outage of any length never makes a job give up).
    pub(crate) async fn job_wait_for_nia(&self, id: i64, run_at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET run_at = $1, last_error = 'NIA unavailable', attempts = attempts - 1, \
             locked_by = NULL, locked_until = NULL WHERE id = $2 AND locked_by = $3",
        )
        .bind(run_at)
        .bind(id)
        .bind(self.worker())
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    async fn end_job(&self, id: i64, state: &str, error: Option<&str>) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = $1, last_error = COALESCE($2, last_error), finished_at = $3, \
             locked_by = NULL, locked_until = NULL WHERE id = $4",
        )
        .bind(state)
        .bind(error.map(truncate))
        .bind(self.clock.now())
        .bind(id)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Makes sure every recurring task has its job (at start; idempotent).
    pub async fn schedule_recurring(&self) -> Result<()> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        for task in Task::ALL {
            enqueue(&mut tx, &Kind::Every { task }, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The recurring tasks due now, claimed by this server: run each, then `ran`.
    pub async fn claim_recurring(&self) -> Result<Vec<(i64, Task)>> {
        Ok(self
            .claim(
                "every",
                Task::ALL.len() as i64,
                self.policy.job_lease_secs * RECURRING_LEASE_FACTOR,
            )
            .await?
            .into_iter()
            .filter_map(|c| match c.kind {
                Kind::Every { task } => Some((c.id, task)),
                Kind::CompletePairing { .. }
                | Kind::HelpdeskUnlink { .. }
                | Kind::LoginReset { .. }
                | Kind::RegisterMeans { .. } => None,
            })
            .collect())
    }

    /// A recurring task ran (with `error` if it failed): it is due again one period later.
    pub async fn ran(&self, id: i64, task: Task, error: Option<&str>) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET run_at = $1, attempts = 0, last_error = $2, locked_by = NULL, \
             locked_until = NULL WHERE id = $3 AND locked_by = $4",
        )
        .bind(self.clock.now() + task.every_secs())
        .bind(error.map(truncate))
        .bind(id)
        .bind(self.worker())
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// The queue for operators: due and running jobs, and failed ones, newest first.
    pub async fn jobs_overview(&self, limit: i64) -> Result<Vec<JobRow>> {
        if limit <= 0 {
            return Err(Error::Conflict);
        }
        Ok(sqlx::query_as(
            "SELECT id, kind, payload, state, run_at, attempts, last_error, locked_by, locked_until \
             FROM jobs WHERE state <> 'done' ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(2000).collect()
}

impl Idp {
    /// The job: work that waits for NIA (the helpdesk's unlinks and the back office's login
    /// resets queued during an outage, the registration of a key added after linking).
    /// While NIA is unavailable a job waits `NIA_WAIT_SECS` and tries again, for as long as
    /// the outage lasts (the citizen and the staff were told it will run), and the rest of
    /// the batch waits without calling NIA; any other error is retried after growing pauses
    /// and ends the job as `failed` after `JOB_ERRORS_MAX` attempts, with the error kept for
    /// operators (a login reset given up puts its form back to `recorded` for the back
    /// office). `link_base`: where the reset's password link points. Returns how many ran to
    /// the end.
    pub async fn drive_queued_work(&self, link_base: &str) -> Result<usize> {
        let mut done = 0;
        for kind in ["helpdesk_unlink", "login_reset", "register_means"] {
            let mut nia_down = false;
            for job in self.claim(kind, 5, self.policy.job_lease_secs).await? {
                let now = self.clock.now();
                if nia_down {
                    self.job_wait_for_nia(job.id, now + NIA_WAIT_SECS).await?;
                    continue;
                }
                let outcome = match job.kind {
                    Kind::HelpdeskUnlink { account } => self.run_queued_unlink(account).await,
                    Kind::LoginReset { form } => self.run_queued_login_reset(form, link_base).await,
                    Kind::RegisterMeans { key } => self.register_key_at_nia(key).await,
                    Kind::CompletePairing { .. } | Kind::Every { .. } => continue,
                };
                match outcome {
                    Ok(()) => {
                        self.job_done(job.id).await?;
                        done += 1;
                    }
                    Err(Error::CannotDisableAuthenticator | Error::NiaUnavailable) => {
                        nia_down = true;
                        self.job_wait_for_nia(job.id, now + NIA_WAIT_SECS).await?;
                    }
                    Err(e) if job.attempts >= JOB_ERRORS_MAX => {
                        tracing::error!(job = job.id, kind, error = %e, "a queued job failed; giving up");
                        if let Kind::LoginReset { form } = job.kind {
                            self.give_back_login_reset(form).await?;
                        }
                        self.job_failed(job.id, &e.to_string()).await?;
                    }
                    Err(e) => {
                        tracing::warn!(job = job.id, kind, error = %e, "a queued job failed; retrying later");
                        self.job_retry(
                            job.id,
                            &e.to_string(),
                            now + retry_pause_secs(job.attempts),
                        )
                        .await?;
                    }
                }
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_reads_back_as_its_kind_and_nothing_else_does() {
        let k = Kind::CompletePairing { request: 42 };
        assert_eq!(Kind::parse(k.name(), &k.payload()), Some(k));
        for task in Task::ALL {
            let k = Kind::Every { task };
            assert_eq!(Kind::parse(k.name(), &k.payload()), Some(k));
        }
        assert_eq!(Kind::parse("every", "{\"task\":\"nothing\"}"), None);
        assert_eq!(Kind::parse("complete_pairing", "{}"), None);
        assert_eq!(Kind::parse("other", "{\"request\":1}"), None);
    }
}

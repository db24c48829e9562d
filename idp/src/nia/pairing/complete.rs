//! Completing a pairing request: the citizen's "Complete connection to NIA", then the
//! completion job (match the person at NIA, register each certified key as a means, write the
//! link and the register's profile), retried with growing pauses and given up after six errors,
//! releasing the means it registered.

use serde_json::json;

use super::{PairingRequest, State, LINKED_ELSEWHERE};
use crate::account::sessions::Freshness;
use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::jobs::{retry_pause_secs, JOB_ERRORS_MAX};
use crate::nia::client::{NiaError, RegistryData};
use crate::nia::registry::write_registry_profile;
use crate::{Idp, RequestInfo};

impl Idp {
    /// "Complete connection to NIA": the request goes to `completing`, which the job
    /// finishes. Needs the same fresh login as starting.
    pub async fn confirm_pairing(
        &self,
        caller: &crate::Caller<'_>,
        request_id: i64,
    ) -> Result<PairingRequest> {
        let (account_id, actor, session_auth, req) =
            (caller.account_id, caller.username, caller.auth, caller.req);
        let now = self.clock.now();
        let (request, owner, _) = self.pairing_row(request_id).await?;
        if owner != account_id {
            return Err(Error::NotFound);
        }
        if !Freshness::PasswordAndKey.holds(session_auth, now) {
            return Err(Error::StepUpRequired);
        }
        if request.state != State::DataReceived || request.expires_at <= now {
            return Err(Error::Conflict);
        }
        let mut tx = self.db.begin().await?;
        self.transition(
            &mut tx,
            request_id,
            account_id,
            actor,
            State::DataReceived,
            State::Completing,
            None,
            req,
        )
        .await?;
        sqlx::query("UPDATE pairing_requests SET attempts = attempts + 1 WHERE id = $1")
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        // a new confirmation is a new job, with its own count of errors
        crate::jobs::enqueue(
            &mut tx,
            &crate::jobs::Kind::CompletePairing {
                request: request_id,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(self.pairing_row(request_id).await?.0)
    }

    /// The job: finishes the requests whose completion is due in the job queue (after a
    /// crash, too: a dead worker's lease ends). Each is claimed by one worker at a time. An
    /// error that is not NIA's answer (the database, a bug) is retried after a growing pause
    /// and, at the `JOB_ERRORS_MAX`th attempt, ends the request as `failed`
    /// (`internal_error`): nothing links later without the citizen pressing again. Returns
    /// how many reached a final state.
    pub async fn drive_pairings(&self) -> Result<usize> {
        let jobs = self
            .claim("complete_pairing", 20, self.policy.job_lease_secs)
            .await?;
        let mut finished = 0;
        for job in jobs {
            let crate::jobs::Kind::CompletePairing { request: id } = job.kind else {
                continue;
            };
            match self.complete_pairing(id).await {
                Ok(done) => {
                    finished += usize::from(done);
                    self.job_done(job.id).await?;
                }
                Err(e) if job.attempts >= JOB_ERRORS_MAX => {
                    tracing::error!(request = id, error = %e, "pairing not completed; giving up");
                    let (_, account_id, _) = self.pairing_row(id).await?;
                    self.leave_completing(id, account_id, State::Failed, "internal_error")
                        .await?;
                    self.release_means_after_failure(id).await;
                    self.job_failed(job.id, &e.to_string()).await?;
                    finished += 1;
                }
                Err(e) => {
                    tracing::warn!(request = id, error = %e, attempt = job.attempts, "pairing not completed; retrying later");
                    self.job_retry(
                        job.id,
                        &e.to_string(),
                        self.clock.now() + retry_pause_secs(job.attempts),
                    )
                    .await?;
                }
            }
        }
        Ok(finished)
    }

    /// After a request failed at the job: the means it may have registered for the person
    /// are deactivated at NIA now if NIA answers (otherwise the reconciliation job does it).
    async fn release_means_after_failure(&self, id: i64) {
        let bsi = match self.pairing_row(id).await {
            Ok((_, _, Some(bsi))) if !bsi.is_empty() => bsi,
            _ => return,
        };
        match self.reconcile_person(&bsi).await {
            Ok(r) if r.orphans_deactivated > 0 => {
                tracing::info!(
                    request = id,
                    released = r.orphans_deactivated,
                    "means of a failed link deactivated at NIA"
                )
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(request = id, error = %e, "means of a failed link left for the reconciliation job")
            }
        }
    }

    /// Whether the person is linked to another account here (one person, one linked account).
    pub(super) async fn linked_elsewhere(&self, account_id: i64, bsi: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT account_id FROM nia_links WHERE bsi = $1 AND account_id <> $2")
                .bind(bsi)
                .bind(account_id)
                .fetch_optional(&self.db.pool)
                .await?
                .is_some(),
        )
    }

    /// The job gives up on `completing` for now (`DataReceived`: NIA unavailable) or for good
    /// (`Failed`), with the reason.
    async fn leave_completing(
        &self,
        id: i64,
        account_id: i64,
        to: State,
        outcome: &str,
    ) -> Result<()> {
        let job = RequestInfo::job("pairing");
        let mut tx = self.db.begin().await?;
        self.transition(
            &mut tx,
            id,
            account_id,
            "job",
            State::Completing,
            to,
            Some(outcome),
            &job,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn complete_pairing(&self, id: i64) -> Result<bool> {
        let (request, account_id, bsi) = self.pairing_row(id).await?;
        if request.state != State::Completing {
            return Ok(false);
        }
        let client = self.nia_client()?;
        crate::crash::point("complete.start");
        let bsi = match (bsi, &request.registry) {
            (Some(b), _) if !b.is_empty() => Some(b),
            // the Czech POINT path: NIA finds the person by the register's data
            (_, Some(data)) => match client.match_by_data(data).await {
                Ok(b) => {
                    sqlx::query("UPDATE pairing_requests SET bsi = $1 WHERE id = $2")
                        .bind(&b)
                        .bind(id)
                        .execute(&self.db.pool)
                        .await?;
                    Some(b)
                }
                Err(NiaError::Unavailable(_)) => {
                    self.leave_completing(id, account_id, State::DataReceived, "nia_unavailable")
                        .await?;
                    return Ok(false);
                }
                Err(NiaError::Refused(code)) => {
                    self.leave_completing(id, account_id, State::Failed, &code)
                        .await?;
                    return Ok(true);
                }
                Err(e) => return Err(Error::Internal(e.to_string())),
            },
            _ => None,
        };
        let (Some(bsi), Some(data)) = (bsi, request.registry.clone()) else {
            self.leave_completing(id, account_id, State::Failed, "no_registry_data")
                .await?;
            return Ok(true);
        };
        let back_to_waiting = |outcome: &'static str| async move {
            self.leave_completing(id, account_id, State::DataReceived, outcome)
                .await?;
            Ok::<bool, Error>(false)
        };
        let fail = |outcome: String| async move {
            self.leave_completing(id, account_id, State::Failed, &outcome)
                .await?;
            Ok::<bool, Error>(true)
        };
        // the person NIA found must be the one the account was validated as, if it was
        if self
            .other_person(account_id, &bsi, &data.birth_date)
            .await?
            .is_some()
        {
            return fail("person_mismatch".into()).await;
        }
        if self.linked_elsewhere(account_id, &bsi).await? {
            fail(LINKED_ELSEWHERE.into()).await?;
            self.release_means_after_failure(id).await;
            return Ok(true);
        }
        match client.match_person(&bsi).await {
            Ok(()) => crate::crash::point("complete.after_match"),
            Err(NiaError::Unavailable(_)) => return back_to_waiting("nia_unavailable").await,
            Err(NiaError::Refused(code)) => return fail(code).await,
            Err(e) => return fail(format!("invalid: {e}")).await,
        }
        let keys: Vec<i64> = self
            .security_keys(account_id)
            .await?
            .into_iter()
            .filter(|k| k.nia_eligible)
            .map(|k| k.id)
            .collect();
        if keys.is_empty() {
            return fail("no_eligible_key".into()).await;
        }
        let mut means = Vec::new();
        for key in &keys {
            match client
                .register_means(&bsi, &crate::nia::client::means_ref(*key))
                .await
            {
                Ok(m) => {
                    means.push((*key, m));
                    crate::crash::point("complete.after_first_means");
                }
                Err(NiaError::Unavailable(_)) => return back_to_waiting("nia_unavailable").await,
                Err(NiaError::Refused(code)) => {
                    fail(code).await?;
                    self.release_means_after_failure(id).await;
                    return Ok(true);
                }
                Err(e) => {
                    fail(format!("invalid: {e}")).await?;
                    self.release_means_after_failure(id).await;
                    return Ok(true);
                }
            }
        }
        match self
            .write_link(id, account_id, &bsi, &request, &data, &means, &keys)
            .await
        {
            Ok(()) => {
                crate::crash::point("complete.after_link");
                Ok(true)
            }
            // another account linked the same person meanwhile (the unique BSI): this one
            // fails, and what it registered at NIA is taken back
            Err(Error::Db(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                fail(LINKED_ELSEWHERE.into()).await?;
                self.release_means_after_failure(id).await;
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// The link, its means, the locked profile and the validation, in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn write_link(
        &self,
        id: i64,
        account_id: i64,
        bsi: &str,
        request: &PairingRequest,
        data: &RegistryData,
        means: &[(i64, String)],
        keys: &[i64],
    ) -> Result<()> {
        let job = &RequestInfo::job("pairing");
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        for (key, means_id) in means {
            crate::nia::means::record_means(&mut tx, *key, account_id, means_id, now).await?;
        }
        sqlx::query("DELETE FROM nia_links WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO nia_links (account_id, bsi, method, loa, linked_at) VALUES ($1, $2, $3, 'substantial', $4)")
            .bind(account_id)
            .bind(bsi)
            .bind(request.method.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        write_registry_profile(&mut tx, account_id, data, now).await?;
        sqlx::query("UPDATE accounts SET validated_at = $1, validated_bsi = $2, validated_birth_date = $3 WHERE id = $4")
            .bind(now)
            .bind(bsi)
            .bind(&data.birth_date)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        self.transition(
            &mut tx,
            id,
            account_id,
            "job",
            State::Completing,
            State::Completed,
            None,
            job,
        )
        .await?;
        Audit::new(now, Some(account_id), "job", job)
            .record(
                &mut *tx,
                Event::NiaLinked,
                json!({ "request": id, "method": request.method.as_str(), "keys": keys }),
            )
            .await?;
        crate::notices::tell(
            &mut tx,
            account_id,
            now,
            crate::notices::Change::NiaLinked,
            job,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

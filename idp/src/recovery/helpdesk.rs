//! The helpdesk: checks a caller's identity against the profile (recording which answers
//! matched, never showing the data) and unlinks the account from NIA; during an outage the
//! unlink is queued and runs when NIA is back (the citizen is told by e-mail).

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::account::sessions::Session;
use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::staff::Role;
use crate::{Idp, RequestInfo};

/// How long an identity check allows the unlink.
const CHECK_VALID_SECS: i64 = 15 * 60;
/// Identity checks of one account per hour, by all staff together.
const CHECKS_PER_ACCOUNT_PER_HOUR: i64 = 10;

/// What the caller answered.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IdentityAnswers {
    pub first_name: String,
    pub last_name: String,
    /// `YYYY-MM-DD`
    pub birth_date: String,
    pub street: String,
    pub house_number: String,
    pub city: String,
    pub postcode: String,
    pub email: String,
    pub phone: String,
}

/// Which answers matched (names of the questions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub matched: Vec<String>,
    pub missed: Vec<String>,
}

impl CheckResult {
    pub fn all(&self) -> bool {
        self.missed.is_empty()
    }
}

/// An account as the helpdesk finds it: no personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundAccount {
    pub id: i64,
    pub username: String,
    pub nia_linked: bool,
    pub unlink_queued: bool,
    /// `active`, or `login_reset` while the citizen has not set a new password yet
    pub state: crate::account::accounts::AccountState,
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn digits(s: &str) -> String {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    // +420 777… and 777… are the same Czech number
    d.strip_prefix("420").map(str::to_owned).unwrap_or(d)
}

impl Idp {
    /// Finds an account by username for the helpdesk.
    pub async fn helpdesk_find(&self, username: &str) -> Result<Option<FoundAccount>> {
        let Some(r) = sqlx::query(&format!(
            "SELECT a.id, a.username, a.state, (SELECT COUNT(*) FROM nia_links l WHERE l.account_id = a.id) AS linked, \
             (SELECT COUNT(*) FROM jobs j WHERE j.kind = 'helpdesk_unlink' AND j.state = 'due' \
               AND j.payload = {}) AS queued \
             FROM accounts a WHERE a.username = $1",
            crate::jobs::payload_sql("account", "a.id")
        ))
        .bind(username.trim().to_lowercase())
        .fetch_optional(&self.db.pool)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(FoundAccount {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            nia_linked: r.try_get::<i64, _>("linked")? > 0,
            unlink_queued: r.try_get::<i64, _>("queued")? > 0,
            state: crate::account::accounts::AccountState::stored(
                &r.try_get::<String, _>("state")?,
            )?,
        }))
    }

    /// Compares the caller's answers with the profile and contacts; records which matched
    /// (not the values) and audits it.
    pub async fn check_identity(
        &self,
        staff: &Session,
        account_id: i64,
        a: &IdentityAnswers,
        req: &RequestInfo,
    ) -> Result<CheckResult> {
        self.staff(staff, &[Role::Helpdesk, Role::BackOffice])
            .await?;
        // the questions are a way to guess a citizen's data: a few an hour per account,
        // whoever asks
        let now = self.clock.now();
        let asked: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM identity_checks WHERE account_id = $1 AND at > $2",
        )
        .bind(account_id)
        .bind(now - 3600)
        .fetch_one(&self.db.pool)
        .await?;
        if asked.0 >= CHECKS_PER_ACCOUNT_PER_HOUR {
            return Err(Error::Throttled {
                retry_after_secs: 3600,
            });
        }
        let p = self.profile(account_id).await?;
        let c = self.contacts(account_id).await?;
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let address_ok = norm(&o(&p.street)) == norm(&a.street)
            && norm(&o(&p.house_number)) == norm(&a.house_number)
            && norm(&o(&p.city)) == norm(&a.city)
            && digits(&o(&p.postcode)) == digits(&a.postcode);
        let checks = [
            (
                "first_name",
                !a.first_name.trim().is_empty() && norm(&o(&p.first_name)) == norm(&a.first_name),
            ),
            (
                "last_name",
                !a.last_name.trim().is_empty() && norm(&o(&p.last_name)) == norm(&a.last_name),
            ),
            (
                "birth_date",
                !a.birth_date.trim().is_empty() && o(&p.birth_date) == a.birth_date.trim(),
            ),
            ("permanent_address", !a.city.trim().is_empty() && address_ok),
            (
                "email",
                c.email
                    .as_deref()
                    .is_some_and(|e| !a.email.trim().is_empty() && norm(e) == norm(&a.email)),
            ),
            (
                "phone",
                c.phone
                    .as_deref()
                    .is_some_and(|ph| !a.phone.trim().is_empty() && digits(ph) == digits(&a.phone)),
            ),
        ];
        let result = CheckResult {
            matched: checks
                .iter()
                .filter(|c| c.1)
                .map(|c| c.0.to_owned())
                .collect(),
            missed: checks
                .iter()
                .filter(|c| !c.1)
                .map(|c| c.0.to_owned())
                .collect(),
        };
        let mut tx = self.db.begin().await?;
        sqlx::query("INSERT INTO identity_checks (staff_id, account_id, matched, all_matched, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(staff.account_id)
            .bind(account_id)
            .bind(serde_json::to_string(&result).map_err(|e| Error::Internal(e.to_string()))?)
            .bind(i64::from(result.all()))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        Audit::new(now, Some(account_id), &staff.username, req)
            .record(
                &mut *tx,
                Event::IdentityChecked,
                json!({ "matched": result.matched, "missed": result.missed }),
            )
            .await?;
        tx.commit().await?;
        Ok(result)
    }

    /// The helpdesk unlinks the account from NIA after a full identity check by the same
    /// staff member in the last 15 minutes. The account keeps its second factor.
    pub async fn helpdesk_unlink(
        &self,
        staff: &Session,
        account_id: i64,
        req: &RequestInfo,
    ) -> Result<()> {
        self.may_unlink(staff, account_id).await?;
        self.end_link(
            account_id,
            &staff.username,
            crate::nia::unlink::Reason::Helpdesk { queued: false },
            req,
        )
        .await
        .map(|_| ())
    }

    /// Who may unlink (now or queued): helpdesk or back office with a fresh key login, who
    /// checked the account's identity in full within `CHECK_VALID_SECS`.
    async fn may_unlink(&self, staff: &Session, account_id: i64) -> Result<()> {
        self.staff_fresh(staff, &[Role::Helpdesk, Role::BackOffice])
            .await?;
        if self.recently_checked(staff, account_id).await? {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// Whether `staff` checked the account's identity in full within `CHECK_VALID_SECS`.
    async fn recently_checked(&self, staff: &Session, account_id: i64) -> Result<bool> {
        let n: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM identity_checks WHERE staff_id = $1 AND account_id = $2 AND all_matched = 1 AND at >= $3",
        )
        .bind(staff.account_id)
        .bind(account_id)
        .bind(self.clock.now() - CHECK_VALID_SECS)
        .fetch_one(&self.db.pool)
        .await?;
        Ok(n.0 > 0)
    }

    /// During an outage: the unlink waits in the job queue until NIA answers.
    pub async fn queue_unlink(
        &self,
        staff: &Session,
        account_id: i64,
        req: &RequestInfo,
    ) -> Result<()> {
        self.may_unlink(staff, account_id).await?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        crate::jobs::enqueue(
            &mut tx,
            &crate::jobs::Kind::HelpdeskUnlink {
                account: account_id,
            },
            now,
        )
        .await?;
        Audit::new(now, Some(account_id), &staff.username, req)
            .record(&mut *tx, Event::UnlinkQueued, json!({}))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A queued unlink (`jobs::drive_queued_work`): every means deactivated at NIA, then the
    /// link ends here and the citizen is told by e-mail. An account no longer linked (a 2FA
    /// reset or a detach came first) is done too.
    pub(crate) async fn run_queued_unlink(&self, account_id: i64) -> Result<()> {
        let job = RequestInfo::job("queued-unlink");
        match self
            .end_link(
                account_id,
                "job",
                crate::nia::unlink::Reason::Helpdesk { queued: true },
                &job,
            )
            .await
        {
            Ok(_) | Err(Error::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

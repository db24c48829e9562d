//! The paper form "Žádost o reset hesla v MojeID": the back office records a verified form
//! (its reference number and a scan), then resets the login. Every means is deactivated at
//! NIA first (during an outage nothing changes; the reset can be queued and runs when NIA is
//! back), then every security key, the NIA link, every session and the password are removed,
//! and a link to set a new password goes to the account's verified e-mail.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::account::sessions::Session;
use crate::audit::{Audit, Event};
use crate::error::{Error, FieldViolation, Result, Violation};
use crate::outbox::Outgoing;
use crate::staff::Role;
use crate::{random_token, sha256_hex, Idp, RequestInfo};

/// The largest scan accepted.
pub const SCAN_MAX_BYTES: usize = 10 * 1024 * 1024;
/// How long the password link in the e-mail works.
pub const LINK_TTL_SECS: i64 = 7 * 24 * 3600;
const REFERENCE_MAX: usize = 40;

/// What a recorded form is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormState {
    /// Recorded; the login is not reset yet.
    Recorded,
    /// NIA was down: the reset runs as soon as it answers.
    Queued,
    /// The login was reset.
    Done,
}

impl FormState {
    pub fn as_str(self) -> &'static str {
        match self {
            FormState::Recorded => "recorded",
            FormState::Queued => "queued",
            FormState::Done => "done",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "recorded" => FormState::Recorded,
            "queued" => FormState::Queued,
            "done" => FormState::Done,
            other => return Err(Error::Internal(format!("paper form state {other}"))),
        })
    }
}

/// A recorded form, without its scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperForm {
    pub id: i64,
    pub account_id: i64,
    pub reference: String,
    pub scan_type: String,
    pub scan_size: i64,
    pub scan_sha256: String,
    pub recorded_by: String,
    pub recorded_at: i64,
    pub state: FormState,
    pub done_at: Option<i64>,
}

/// The scan's media type, from its first bytes (what the browser says is not trusted).
pub fn scan_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

/// A reference number as the office writes it: letters, digits and `/ - .`, trimmed and in
/// upper case.
pub fn normalize_reference(reference: &str) -> Result<String> {
    let r = reference.trim().to_uppercase();
    let violation = if r.is_empty() {
        Some(Violation::Required)
    } else if r.chars().count() > REFERENCE_MAX {
        Some(Violation::TooLong { max: REFERENCE_MAX })
    } else if !r
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.'))
    {
        Some(Violation::InvalidCharacters)
    } else {
        None
    };
    match violation {
        Some(v) => Err(Error::invalid("reference", v)),
        None => Ok(r),
    }
}

fn form_from_row(r: &sqlx::any::AnyRow) -> Result<PaperForm> {
    Ok(PaperForm {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        reference: r.try_get("reference")?,
        scan_type: r.try_get("scan_type")?,
        scan_size: r.try_get("scan_size")?,
        scan_sha256: r.try_get("scan_sha256")?,
        recorded_by: r.try_get("recorded_by")?,
        recorded_at: r.try_get("recorded_at")?,
        state: FormState::parse(&r.try_get::<String, _>("state")?)?,
        done_at: r.try_get("done_at")?,
    })
}

const FORM_COLUMNS: &str =
    "f.id, f.account_id, f.reference, f.scan_type, f.scan_size, f.scan_sha256, \
     s.username AS recorded_by, f.recorded_at, f.state, f.done_at";

impl Idp {
    /// The back office records a verified form for an account: its reference number (unique)
    /// and its scan (PDF, JPEG or PNG, at most 10 MB). The account needs a verified e-mail,
    /// where the password link will go.
    pub async fn record_paper_form(
        &self,
        staff: &Session,
        account_id: i64,
        reference: &str,
        scan: &[u8],
        req: &RequestInfo,
    ) -> Result<i64> {
        self.staff(staff, &[Role::BackOffice]).await?;
        let mut violations = Vec::new();
        let reference = match normalize_reference(reference) {
            Ok(r) => Some(r),
            Err(Error::Invalid(mut v)) => {
                violations.append(&mut v);
                None
            }
            Err(e) => return Err(e),
        };
        let kind = if scan.is_empty() {
            violations.push(FieldViolation::new("scan", Violation::Required));
            None
        } else if scan.len() > SCAN_MAX_BYTES {
            violations.push(FieldViolation::new(
                "scan",
                Violation::FileTooLarge {
                    max_mb: SCAN_MAX_BYTES / (1024 * 1024),
                },
            ));
            None
        } else if let Some(kind) = scan_type(scan) {
            Some(kind)
        } else {
            violations.push(FieldViolation::new("scan", Violation::FileType));
            None
        };
        if self.verified_email(account_id).await?.is_none() {
            violations.push(FieldViolation::new("reference", Violation::NoVerifiedEmail));
        }
        let (Some(reference), Some(kind), true) = (reference, kind, violations.is_empty()) else {
            return Err(Error::Invalid(violations));
        };
        // known duplicates are told before the scan is written; the unique index decides races
        let taken: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM paper_forms WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&self.db.pool)
            .await?;
        if taken.0 > 0 {
            return Err(Error::invalid("reference", Violation::ReferenceTaken));
        }
        let now = self.clock.now();
        let digest = hex::encode(Sha256::digest(scan));
        let mut tx = self.db.begin().await?;
        let id: (i64,) = sqlx::query_as(
            "INSERT INTO paper_forms (account_id, reference, scan, scan_type, scan_size, scan_sha256, recorded_by, recorded_at, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'recorded') RETURNING id",
        )
        .bind(account_id)
        .bind(&reference)
        .bind(scan.to_vec())
        .bind(kind)
        .bind(scan.len() as i64)
        .bind(&digest)
        .bind(staff.account_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match e {
            // two clerks recording the same form at once
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                Error::invalid("reference", Violation::ReferenceTaken)
            }
            e => Error::Db(e),
        })?;
        let details = json!({ "form": id.0, "reference": reference, "scan_sha256": digest, "scan_type": kind });
        Audit::new(now, Some(account_id), &staff.username, req)
            .record(&mut *tx, Event::PaperFormRecorded, details)
            .await?;
        tx.commit().await?;
        Ok(id.0)
    }

    /// The account's recorded forms, newest first (back office and auditors).
    pub async fn paper_forms(&self, staff: &Session, account_id: i64) -> Result<Vec<PaperForm>> {
        self.staff(staff, &[Role::BackOffice, Role::Auditor])
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT {FORM_COLUMNS} FROM paper_forms f JOIN accounts s ON s.id = f.recorded_by \
             WHERE f.account_id = $1 ORDER BY f.id DESC"
        ))
        .bind(account_id)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter().map(form_from_row).collect()
    }

    /// A form's scan and its media type (back office and auditors); every reading audited.
    pub async fn paper_form_scan(
        &self,
        staff: &Session,
        form_id: i64,
        req: &RequestInfo,
    ) -> Result<(String, String, Vec<u8>)> {
        self.staff_fresh(staff, &[Role::BackOffice, Role::Auditor])
            .await?;
        let r = sqlx::query(
            "SELECT account_id, reference, scan_type, scan FROM paper_forms WHERE id = $1",
        )
        .bind(form_id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        Audit::new(
            self.clock.now(),
            Some(r.try_get("account_id")?),
            &staff.username,
            req,
        )
        .record(
            &self.db.pool,
            Event::PaperFormScanViewed,
            json!({ "form": form_id }),
        )
        .await?;
        Ok((
            r.try_get("reference")?,
            r.try_get("scan_type")?,
            r.try_get("scan")?,
        ))
    }

    /// Resets the login on a recorded form; `link_base` is the public address the password
    /// link starts with. During an NIA outage: `CannotDisableAuthenticator`, nothing changed.
    pub async fn reset_login(
        &self,
        staff: &Session,
        form_id: i64,
        link_base: &str,
        req: &RequestInfo,
    ) -> Result<()> {
        self.staff_fresh(staff, &[Role::BackOffice]).await?;
        let form = self.paper_form(form_id).await?;
        if form.state != FormState::Recorded {
            return Err(Error::Conflict);
        }
        self.reset_login_on(&form, &staff.username, link_base, req)
            .await
    }

    /// During an outage: the reset waits in the job queue until NIA answers.
    pub async fn queue_login_reset(
        &self,
        staff: &Session,
        form_id: i64,
        req: &RequestInfo,
    ) -> Result<()> {
        self.staff_fresh(staff, &[Role::BackOffice]).await?;
        let form = self.paper_form(form_id).await?;
        // the link can only go to a verified e-mail: refused now, not by the job later
        if self.verified_email(form.account_id).await?.is_none() {
            return Err(Error::invalid("reference", Violation::NoVerifiedEmail));
        }
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let moved = sqlx::query(
            "UPDATE paper_forms SET state = 'queued', queued_by = $1 WHERE id = $2 AND state = 'recorded'",
        )
        .bind(staff.account_id)
        .bind(form_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Err(Error::Conflict);
        }
        crate::jobs::enqueue(
            &mut tx,
            &crate::jobs::Kind::LoginReset { form: form.id },
            now,
        )
        .await?;
        Audit::new(now, Some(form.account_id), &staff.username, req)
            .record(
                &mut *tx,
                Event::LoginResetQueued,
                json!({ "form": form.id, "reference": form.reference }),
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A queued reset the job gave up on: the form is `recorded` again, so the back office
    /// sees it and can reset or queue it again.
    pub(crate) async fn give_back_login_reset(&self, form_id: i64) -> Result<()> {
        sqlx::query("UPDATE paper_forms SET state = $1 WHERE id = $2 AND state = $3")
            .bind(FormState::Recorded.as_str())
            .bind(form_id)
            .bind(FormState::Queued.as_str())
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// A queued reset (`jobs::drive_queued_work`), once NIA answers; a form no longer
    /// queued (reset meanwhile) is done.
    pub(crate) async fn run_queued_login_reset(&self, form_id: i64, link_base: &str) -> Result<()> {
        let form = self.paper_form(form_id).await?;
        if form.state != FormState::Queued {
            return Ok(());
        }
        let job = RequestInfo::job("queued-login-reset");
        self.reset_login_on(&form, "job", link_base, &job).await
    }

    async fn paper_form(&self, form_id: i64) -> Result<PaperForm> {
        let r = sqlx::query(&format!(
            "SELECT {FORM_COLUMNS} FROM paper_forms f JOIN accounts s ON s.id = f.recorded_by WHERE f.id = $1"
        ))
        .bind(form_id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        form_from_row(&r)
    }

    /// The account's e-mail, when it is verified.
    pub async fn verified_email(&self, account_id: i64) -> Result<Option<String>> {
        let c = self.contacts(account_id).await?;
        Ok(c.email.filter(|_| c.email_verified_at.is_some()))
    }

    /// NIA first (each means deactivated and forgotten here once NIA confirms; an outage
    /// stops it), then in one transaction: keys, link, sessions, password and open pairing
    /// requests go, the form is marked done, the password link is made and sent.
    async fn reset_login_on(
        &self,
        form: &PaperForm,
        actor: &str,
        link_base: &str,
        req: &RequestInfo,
    ) -> Result<()> {
        let account_id = form.account_id;
        // the link can only go to a verified e-mail: refused before anything changes at NIA
        if self.verified_email(account_id).await?.is_none() {
            return Err(Error::invalid("reference", Violation::NoVerifiedEmail));
        }
        self.deactivate_all_means(account_id).await?;
        let now = self.clock.now();
        let token = random_token();
        let mut tx = self.db.begin().await?;
        let moved = sqlx::query(
            "UPDATE paper_forms SET state = 'done', done_at = $1 WHERE id = $2 AND state = $3",
        )
        .bind(now)
        .bind(form.id)
        .bind(form.state.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Err(Error::Conflict);
        }
        let linked = crate::nia::unlink::end_link_in(
            &mut tx,
            account_id,
            actor,
            &crate::nia::unlink::Reason::PaperForm {
                reference: form.reference.clone(),
            },
            req,
            now,
        )
        .await?;
        let keys = crate::recovery::twofa_reset::remove_second_factors(&mut tx, account_id).await?;
        self.cancel_open_requests(&mut tx, account_id, actor, req)
            .await?;
        sqlx::query("UPDATE accounts SET password_hash = $1, state = $3 WHERE id = $2")
            .bind(format!("{}reset", crate::account::password::NO_PASSWORD))
            .bind(account_id)
            .bind(crate::account::accounts::AccountState::LoginReset.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM password_resets WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO password_resets (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(sha256_hex(&token))
        .bind(account_id)
        .bind(now)
        .bind(now + LINK_TTL_SECS)
        .execute(&mut *tx)
        .await?;
        let details = json!({ "form": form.id, "reference": form.reference, "keys_removed": keys, "nia_unlinked": linked });
        Audit::new(now, Some(account_id), actor, req)
            .record(&mut *tx, Event::LoginReset, details)
            .await?;
        let link = format!(
            "{}/password-reset?token={token}",
            link_base.trim_end_matches('/')
        );
        crate::notices::to_verified_email(
            &mut tx,
            account_id,
            now,
            &Outgoing {
                subject: "mojeID: přihlášení k účtu obnoveno / login to your account reset".into(),
                body: format!(
                    "Na základě vaší žádosti (formulář č. {r}) bylo přihlášení k vašemu účtu mojeID obnoveno: \
všechny prostředky dvoufázového ověření a propojení s NIA byly odebrány. Nové heslo nastavíte zde (odkaz platí 7 dní):\n\n{link}\n\n\
At your request (form no. {r}), the login to your mojeID account has been reset: every two-factor authentication \
method and the link to NIA were removed. Set a new password here (the link works for 7 days):\n\n{link}\n",
                    r = form.reference
                ),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account a password link belongs to, if the link still works.
    pub async fn password_link_account(&self, token: &str) -> Result<String> {
        let (_, username) = self.password_link(token).await?;
        Ok(username)
    }

    async fn password_link(&self, token: &str) -> Result<(i64, String)> {
        let r = sqlx::query(
            "SELECT p.account_id, p.expires_at, a.username FROM password_resets p \
             JOIN accounts a ON a.id = p.account_id WHERE p.token_hash = $1",
        )
        .bind(sha256_hex(token.trim()))
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or_else(|| Error::invalid("token", Violation::LinkInvalid))?;
        if r.try_get::<i64, _>("expires_at")? <= self.clock.now() {
            return Err(Error::invalid("token", Violation::LinkExpired));
        }
        Ok((r.try_get("account_id")?, r.try_get("username")?))
    }

    /// Sets a new password through the e-mailed link (single use). The citizen then logs in
    /// with the password alone and may add security keys again.
    pub async fn finish_password_reset(
        &self,
        token: &str,
        password: &str,
        confirmation: &str,
        req: &RequestInfo,
    ) -> Result<()> {
        let (account_id, username) = self.password_link(token).await?;
        crate::account::password::check_policy("password", password, &username)?;
        if password != confirmation {
            return Err(Error::invalid("confirmation", Violation::PasswordsDiffer));
        }
        let hash = self.hasher.hash(password.to_owned()).await?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let used = sqlx::query("DELETE FROM password_resets WHERE token_hash = $1")
            .bind(sha256_hex(token.trim()))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if used == 0 {
            // the same link used twice at once
            return Err(Error::invalid("token", Violation::LinkInvalid));
        }
        sqlx::query("UPDATE accounts SET password_hash = $1, state = $3 WHERE id = $2")
            .bind(&hash)
            .bind(account_id)
            .bind(crate::account::accounts::AccountState::Active.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM login_failures WHERE username = $1")
            .bind(&username)
            .execute(&mut *tx)
            .await?;
        Audit::new(now, Some(account_id), &username, req)
            .record(&mut *tx, Event::PasswordReset, json!({}))
            .await?;
        crate::notices::to_verified_email(
            &mut tx,
            account_id,
            now,
            &Outgoing {
                subject: "mojeID: nové heslo nastaveno / new password set".into(),
                body: "K vašemu účtu mojeID bylo nastaveno nové heslo. Pokud jste to nebyli vy, kontaktujte ihned podporu.\n\n\
A new password was set for your mojeID account. If this was not you, contact support at once.\n"
                    .into(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

//! Support requests (help page, "Before contacting mojeID support"): the citizen — logged in or
//! not — fills in a form that is pre-filled with what the server knows (username, operating
//! system and browser, the account's keys, the time), adds a description, a screenshot and
//! the key test's JSON, sees a preview of exactly what will be sent, and sends it: a reference
//! number, acknowledged by e-mail. The support console reads the queue, one request with the
//! verdict on its key JSON, the account's keys and recent security events, and answers by
//! e-mail. Every reading by staff is audited.

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::account::sessions::Session;
use crate::audit::{Audit, AuditEvent, Event};
use crate::error::{Error, FieldViolation, Result, Violation};
use crate::keys::attestation::Verdict;
use crate::keys::SecurityKey;
use crate::outbox::{Channel, Outgoing};
use crate::staff::Role;
use crate::{random_token, sha256_hex, Idp, RequestInfo};

/// The largest screenshot accepted (PNG or JPEG, judged by content).
pub const SCREENSHOT_MAX_BYTES: usize = 2 * 1024 * 1024;
/// The largest key test JSON accepted.
pub const KEY_CHECK_MAX_BYTES: usize = 64 * 1024;
const DESCRIPTION_MAX: usize = 5000;
const LINE_MAX: usize = 200;
/// A draft lives this long (the citizen previews, edits, sends).
const DRAFT_SECS: i64 = 3600;
/// Per address (IPv6: per /64) and hour: drafts written (each edit counts), requests sent.
const DRAFTS_PER_ADDRESS_PER_HOUR: i64 = 30;
const SENT_PER_ADDRESS_PER_HOUR: i64 = 5;
/// Per e-mail address and day: requests sent.
const SENT_PER_EMAIL_PER_DAY: i64 = 5;

/// What the citizen typed (the form's text fields), and the files they attached.
#[derive(Clone, Debug, Default)]
pub struct SupportInput {
    pub username: String,
    pub email: String,
    pub os: String,
    pub browser: String,
    pub key_type: String,
    pub description: String,
    pub happened_at: String,
    pub key_check: String,
    /// Empty: none attached (a draft being edited keeps the one it has).
    pub screenshot: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Draft,
    Open,
    Answered,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Draft => "draft",
            RequestState::Open => "open",
            RequestState::Answered => "answered",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "draft" => RequestState::Draft,
            "open" => RequestState::Open,
            "answered" => RequestState::Answered,
            other => return Err(Error::Internal(format!("support request state {other:?}"))),
        })
    }
}

/// A support request as stored (without the screenshot's bytes).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SupportRequest {
    pub id: i64,
    pub reference: String,
    pub state: RequestState,
    pub account_id: Option<i64>,
    pub username: String,
    pub email: String,
    pub os: String,
    pub browser: String,
    pub key_type: String,
    /// The account's keys when it was written: one line each (name, model, kind, level).
    pub account_keys: String,
    pub description: String,
    pub happened_at: String,
    pub key_check: Option<String>,
    /// `image/png` or `image/jpeg` when a screenshot is attached.
    pub screenshot_type: Option<String>,
    /// What keeps the draft from being sent (empty when it can be).
    pub problems: Vec<FieldViolation>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub answered_at: Option<i64>,
    pub answer: Option<String>,
}

/// One request as the support console shows it: the request, the verdict on its key JSON
/// (as `mojeid-server analyze` gives it), and, when it came from an account, the account's
/// keys and recent security events.
pub struct SupportCase {
    pub request: SupportRequest,
    pub verdict: Option<std::result::Result<Verdict, String>>,
    pub keys: Vec<SecurityKey>,
    pub events: Vec<AuditEvent>,
    /// The account's current request to link to NIA, with its state.
    pub pairing: Option<crate::nia::pairing::PairingRequest>,
    /// Czech POINT deliveries kept unmatched, late or for another person, received in the
    /// 60 days before the request, whose person has the account's name (the help page's
    /// "we are probably not able to match the request ID").
    pub deliveries: Vec<crate::nia::pairing::czech_point::DeliveryRecord>,
}

const COLUMNS: &str = "id, reference, state, account_id, username, email, os, browser, key_type, \
    account_keys, description, happened_at, key_check, screenshot_type, problems, created_at, \
    sent_at, answered_at, answer";

fn from_row(r: &sqlx::any::AnyRow) -> Result<SupportRequest> {
    let state: String = r.try_get("state")?;
    let problems: String = r.try_get("problems")?;
    Ok(SupportRequest {
        id: r.try_get("id")?,
        reference: r.try_get("reference")?,
        state: RequestState::parse(&state)?,
        account_id: r.try_get("account_id")?,
        username: r.try_get("username")?,
        email: r.try_get("email")?,
        os: r.try_get("os")?,
        browser: r.try_get("browser")?,
        key_type: r.try_get("key_type")?,
        account_keys: r.try_get("account_keys")?,
        description: r.try_get("description")?,
        happened_at: r.try_get("happened_at")?,
        key_check: r.try_get("key_check")?,
        screenshot_type: r.try_get("screenshot_type")?,
        problems: serde_json::from_str(&problems).map_err(|e| Error::Internal(e.to_string()))?,
        created_at: r.try_get("created_at")?,
        sent_at: r.try_get("sent_at")?,
        answered_at: r.try_get("answered_at")?,
        answer: r.try_get("answer")?,
    })
}

/// The screenshot's media type, from its first bytes (what the browser says is not trusted).
pub fn screenshot_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// The address the limits count by: an IPv4 address as it is, an IPv6 address by its /64 (one
/// subscriber's prefix, in which a client may rotate at will).
fn rate_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => ip.to_owned(),
    }
}

/// A reference number a citizen can read out on the phone: `MID-` and eight characters
/// without look-alikes (no 0/O, 1/I/L).
fn new_reference() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut rng = rand::rngs::OsRng;
    let code: String = (0..8)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("MID-{}-{}", &code[..4], &code[4..])
}

/// The e-mail as validated, or as typed (kept for the form) with its problem.
fn checked_email(raw: &str, problems: &mut Vec<FieldViolation>) -> String {
    match crate::account::validate::email(raw) {
        Ok(e) => e,
        Err(v) => {
            problems.push(FieldViolation::new("email", v));
            raw.trim().chars().take(LINE_MAX).collect()
        }
    }
}

fn line(value: &str, field: &str, problems: &mut Vec<FieldViolation>) -> String {
    let v: String = value.trim().chars().filter(|c| !c.is_control()).collect();
    if v.chars().count() > LINE_MAX {
        problems.push(FieldViolation::new(
            field,
            Violation::TooLong { max: LINE_MAX },
        ));
        v.chars().take(LINE_MAX).collect()
    } else {
        v
    }
}

/// The account's keys as one line each, for the request (and the citizen's form).
pub fn describe_keys(keys: &[SecurityKey]) -> String {
    keys.iter()
        .map(|k| {
            format!(
                "{} – {} – {} – {}",
                k.name,
                k.model.as_deref().unwrap_or("?"),
                k.kind.as_str(),
                k.level.fido_name()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Idp {
    /// Writes (or, with the draft's token, rewrites) a draft from the form. Whatever is wrong
    /// is kept with it as `problems` (the form shows them with the values, nothing is lost);
    /// only a screenshot that is too large or not an image is not stored. Returns the draft's
    /// token (the citizen's browser keeps it) and the draft.
    pub async fn write_support_draft(
        &self,
        session: Option<&Session>,
        token: Option<&str>,
        input: &SupportInput,
        req: &RequestInfo,
    ) -> Result<(String, SupportRequest)> {
        let now = self.clock.now();
        let address = rate_key(&req.ip);
        let written = self
            .tally(
                "SELECT CAST(COALESCE(SUM(writes), 0) AS BIGINT) AS n FROM support_requests WHERE ip = $1 AND updated_at > $2",
                &address,
                now - 3600,
            )
            .await?;
        if written >= DRAFTS_PER_ADDRESS_PER_HOUR {
            return Err(Error::Throttled {
                retry_after_secs: 3600,
            });
        }
        let existing = match token {
            Some(t) => self
                .support_draft(t, session.map(|s| s.account_id))
                .await
                .ok(),
            None => None,
        };
        let mut problems = Vec::new();
        let (username, email, account_keys, account_id) = match session {
            Some(s) => {
                let email = match self.verified_email(s.account_id).await? {
                    Some(e) => e,
                    None => checked_email(&input.email, &mut problems),
                };
                let keys = describe_keys(&self.security_keys(s.account_id).await?);
                (s.username.clone(), email, keys, Some(s.account_id))
            }
            None => (
                line(&input.username, "username", &mut problems),
                checked_email(&input.email, &mut problems),
                String::new(),
                None,
            ),
        };
        let os = line(&input.os, "os", &mut problems);
        let browser = line(&input.browser, "browser", &mut problems);
        let key_type = line(&input.key_type, "key_type", &mut problems);
        let happened_at = line(&input.happened_at, "happened_at", &mut problems);
        let description = input.description.trim().to_owned();
        if description.is_empty() {
            problems.push(FieldViolation::new("description", Violation::Required));
        } else if description.chars().count() > DESCRIPTION_MAX {
            problems.push(FieldViolation::new(
                "description",
                Violation::TooLong {
                    max: DESCRIPTION_MAX,
                },
            ));
        }
        let key_check = input.key_check.trim();
        let key_check = if key_check.is_empty() {
            None
        } else if key_check.len() > KEY_CHECK_MAX_BYTES {
            problems.push(FieldViolation::new(
                "key_check",
                Violation::TooLong {
                    max: KEY_CHECK_MAX_BYTES,
                },
            ));
            None
        } else {
            if serde_json::from_str::<serde_json::Value>(key_check).is_err() {
                problems.push(FieldViolation::new("key_check", Violation::NotJson));
            }
            Some(key_check.to_owned())
        };
        let screenshot = if input.screenshot.is_empty() {
            None
        } else if input.screenshot.len() > SCREENSHOT_MAX_BYTES {
            problems.push(FieldViolation::new(
                "screenshot",
                Violation::ImageTooLarge {
                    max_mb: SCREENSHOT_MAX_BYTES / (1024 * 1024),
                },
            ));
            None
        } else if let Some(kind) = screenshot_type(&input.screenshot) {
            Some((kind, input.screenshot.as_slice()))
        } else {
            problems.push(FieldViolation::new("screenshot", Violation::ImageType));
            None
        };
        let problems_json =
            serde_json::to_string(&problems).map_err(|e| Error::Internal(e.to_string()))?;
        // a new token at every write: a token someone else planted in this browser, or saw,
        // stops working as soon as the citizen writes
        let token = random_token();
        let mut tx = self.db.begin().await?;
        if let Some(d) = &existing {
            sqlx::query(
                "UPDATE support_requests SET draft_token_hash = $1, writes = writes + 1, ip = $2, \
                 updated_at = $3, username = $4, email = $5, os = $6, \
                 browser = $7, key_type = $8, account_keys = $9, description = $10, happened_at = $11, \
                 key_check = $12, problems = $13 WHERE id = $14 AND state = 'draft'",
            )
            .bind(sha256_hex(&token))
            .bind(&address)
            .bind(now)
            .bind(&username)
            .bind(&email)
            .bind(&os)
            .bind(&browser)
            .bind(&key_type)
            .bind(&account_keys)
            .bind(&description)
            .bind(&happened_at)
            .bind(&key_check)
            .bind(&problems_json)
            .bind(d.id)
            .execute(&mut *tx)
            .await?;
            if let Some((kind, bytes)) = screenshot {
                sqlx::query(
                    "UPDATE support_requests SET screenshot_type = $1, screenshot = $2 WHERE id = $3",
                )
                .bind(kind)
                .bind(bytes.to_vec())
                .bind(d.id)
                .execute(&mut *tx)
                .await?;
            }
        } else {
            sqlx::query(
                "INSERT INTO support_requests (reference, draft_token_hash, state, account_id, username, \
                 email, os, browser, key_type, account_keys, description, happened_at, key_check, \
                 screenshot_type, screenshot, problems, ip, writes, created_at, updated_at) \
                 VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17, $17)",
            )
            .bind(new_reference())
            .bind(sha256_hex(&token))
            .bind(account_id)
            .bind(&username)
            .bind(&email)
            .bind(&os)
            .bind(&browser)
            .bind(&key_type)
            .bind(&account_keys)
            .bind(&description)
            .bind(&happened_at)
            .bind(&key_check)
            .bind(screenshot.map(|(k, _)| k))
            .bind(screenshot.map(|(_, b)| b.to_vec()))
            .bind(&problems_json)
            .bind(&address)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let draft = self.support_draft(&token, account_id).await?;
        Ok((token, draft))
    }

    /// One figure a limit counts: `sql` selects `n` for a key (`$1`) since a time (`$2`).
    async fn tally(&self, sql: &'static str, key: &str, since: i64) -> Result<i64> {
        Ok(sqlx::query(sql)
            .bind(key)
            .bind(since)
            .fetch_one(&self.db.pool)
            .await?
            .try_get("n")?)
    }

    /// The citizen's draft (by the token their browser holds), while it is one and fresh, and
    /// only for whom it was written: `account` is the session's account (`None`: not logged
    /// in). A draft of an account is not shown after its logout, nor an anonymous one to an
    /// account.
    pub async fn support_draft(&self, token: &str, account: Option<i64>) -> Result<SupportRequest> {
        let r = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM support_requests WHERE draft_token_hash = $1 AND state = 'draft' AND updated_at > $2"
        ))
        .bind(sha256_hex(token))
        .bind(self.clock.now() - DRAFT_SECS)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        let draft = from_row(&r)?;
        if draft.account_id != account {
            return Err(Error::NotFound);
        }
        Ok(draft)
    }

    /// The draft's screenshot, for the citizen's preview.
    pub async fn support_draft_screenshot(
        &self,
        token: &str,
        account: Option<i64>,
    ) -> Result<(String, Vec<u8>)> {
        let draft = self.support_draft(token, account).await?;
        self.screenshot_of(draft.id).await
    }

    async fn screenshot_of(&self, id: i64) -> Result<(String, Vec<u8>)> {
        let r = sqlx::query(
            "SELECT screenshot_type, screenshot FROM support_requests WHERE id = $1 AND screenshot IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        Ok((r.try_get("screenshot_type")?, r.try_get("screenshot")?))
    }

    /// Sends the draft: it gets its reference number, the citizen an acknowledgement by e-mail,
    /// support a request in the queue. A draft with problems is `Error::Invalid` (they are on
    /// the form). Returns the reference.
    pub async fn send_support_request(
        &self,
        token: &str,
        account: Option<i64>,
        req: &RequestInfo,
    ) -> Result<String> {
        let draft = self.support_draft(token, account).await?;
        if !draft.problems.is_empty() {
            return Err(Error::Invalid(draft.problems));
        }
        let now = self.clock.now();
        let address = rate_key(&req.ip);
        let by_address = self
            .tally(
                "SELECT COUNT(*) AS n FROM support_requests WHERE sent_ip = $1 AND sent_at > $2",
                &address,
                now - 3600,
            )
            .await?;
        let by_email = self
            .tally(
                "SELECT COUNT(*) AS n FROM support_requests WHERE sent_at > $2 AND LOWER(email) = $1",
                &draft.email.to_lowercase(),
                now - 86_400,
            )
            .await?;
        if by_address >= SENT_PER_ADDRESS_PER_HOUR || by_email >= SENT_PER_EMAIL_PER_DAY {
            return Err(Error::Throttled {
                retry_after_secs: if by_email >= SENT_PER_EMAIL_PER_DAY {
                    86_400
                } else {
                    3600
                },
            });
        }
        let mut tx = self.db.begin().await?;
        let done = sqlx::query(
            "UPDATE support_requests SET state = 'open', sent_at = $1, sent_ip = $2, draft_token_hash = NULL \
             WHERE id = $3 AND state = 'draft'",
        )
        .bind(now)
        .bind(&address)
        .bind(draft.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        Audit::new(now, draft.account_id, "citizen", req)
            .record(
                &mut *tx,
                Event::SupportRequestSent,
                json!({ "request": draft.id, "reference": draft.reference }),
            )
            .await?;
        crate::outbox::enqueue(
            &mut *tx,
            now,
            draft.account_id,
            Channel::Email,
            &draft.email,
            &Outgoing {
                subject: format!(
                    "mojeID: požadavek na podporu {r} / support request {r}",
                    r = draft.reference
                ),
                body: format!(
                    "Váš požadavek na technickou podporu mojeID jsme přijali pod číslem {r}. \
                     Odpovíme e-mailem; v další komunikaci prosím uvádějte toto číslo.\n\n\
                     We have received your request to mojeID technical support under reference {r}. \
                     We will answer by e-mail; please quote this reference.\n",
                    r = draft.reference
                ),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(draft.reference)
    }

    /// Drafts never sent are deleted an hour after their last write (housekeeping).
    pub(crate) async fn delete_stale_support_drafts(&self) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM support_requests WHERE state = 'draft' AND updated_at < $1")
                .bind(self.clock.now() - DRAFT_SECS)
                .execute(&self.db.pool)
                .await?;
        Ok(done.rows_affected())
    }

    /// The support console's queue: open requests first, the longest waiting at the top, then
    /// answered ones, the latest first.
    pub async fn support_queue(
        &self,
        staff: &Session,
        req: &RequestInfo,
    ) -> Result<Vec<SupportRequest>> {
        self.staff(staff, &[Role::Support]).await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM support_requests WHERE state <> 'draft' \
             ORDER BY CASE state WHEN 'open' THEN 0 ELSE 1 END, \
             CASE state WHEN 'open' THEN sent_at ELSE -sent_at END LIMIT 200"
        ))
        .fetch_all(&self.db.pool)
        .await?;
        Audit::new(self.clock.now(), None, &staff.username, req)
            .record(&self.db.pool, Event::SupportQueueViewed, json!({}))
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// One request for the support console, with what helps to answer it.
    pub async fn support_case(
        &self,
        staff: &Session,
        id: i64,
        req: &RequestInfo,
    ) -> Result<SupportCase> {
        self.staff(staff, &[Role::Support]).await?;
        let request = self.sent_request(id).await?;
        let verdict = request.key_check.as_deref().map(|text| {
            serde_json::from_str::<serde_json::Value>(text)
                .map_err(|e| e.to_string())
                .and_then(|doc| {
                    crate::keys::attestation::analyze(
                        &doc,
                        &self.metadata(),
                        std::time::SystemTime::now(),
                    )
                })
        });
        let (keys, events, pairing, deliveries) = match request.account_id {
            Some(a) => (
                self.security_keys(a).await?,
                self.audit_for_account(a, 20).await?,
                self.current_pairing(a).await?,
                self.deliveries_that_could_be(a, request.sent_at.unwrap_or(request.created_at))
                    .await?,
            ),
            None => (Vec::new(), Vec::new(), None, Vec::new()),
        };
        Audit::new(self.clock.now(), request.account_id, &staff.username, req)
            .record(
                &self.db.pool,
                Event::SupportRequestViewed,
                json!({ "request": id, "reference": request.reference }),
            )
            .await?;
        Ok(SupportCase {
            request,
            verdict,
            keys,
            events,
            pairing,
            deliveries,
        })
    }

    /// Deliveries the register sent that no request took (unmatched, too late, or for
    /// another person than the request's), from the 60 days before `until`, whose person has
    /// the account's first and last name (letter case aside).
    async fn deliveries_that_could_be(
        &self,
        account_id: i64,
        until: i64,
    ) -> Result<Vec<crate::nia::pairing::czech_point::DeliveryRecord>> {
        let profile = self.profile(account_id).await?;
        let (Some(first), Some(last)) = (profile.first_name, profile.last_name) else {
            return Ok(Vec::new());
        };
        let same = |v: &serde_json::Value, name: &str| {
            v.as_str()
                .is_some_and(|s| s.trim().to_lowercase() == name.trim().to_lowercase())
        };
        Ok(self
            .office_deliveries(None, 500)
            .await?
            .into_iter()
            .filter(|d| {
                d.status != "matched"
                    && d.status != "duplicate"
                    && d.received_at >= until - 60 * 86_400
                    && same(&d.person["given_name"], &first)
                    && same(&d.person["family_name"], &last)
            })
            .collect())
    }

    async fn sent_request(&self, id: i64) -> Result<SupportRequest> {
        let r = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM support_requests WHERE id = $1 AND state <> 'draft'"
        ))
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        from_row(&r)
    }

    /// A sent request's screenshot, for the support console (audited).
    pub async fn support_screenshot(
        &self,
        staff: &Session,
        id: i64,
        req: &RequestInfo,
    ) -> Result<(String, Vec<u8>)> {
        self.staff(staff, &[Role::Support]).await?;
        let request = self.sent_request(id).await?;
        let shot = self.screenshot_of(id).await?;
        Audit::new(self.clock.now(), request.account_id, &staff.username, req)
            .record(
                &self.db.pool,
                Event::SupportScreenshotViewed,
                json!({ "request": id }),
            )
            .await?;
        Ok(shot)
    }

    /// Support answers a request by e-mail (to the address the request gave); the request is
    /// then answered. Answering again sends another e-mail.
    pub async fn answer_support_request(
        &self,
        staff: &Session,
        id: i64,
        answer: &str,
        req: &RequestInfo,
    ) -> Result<()> {
        self.staff(staff, &[Role::Support]).await?;
        let answer = answer.trim();
        if answer.is_empty() {
            return Err(Error::invalid("answer", Violation::Required));
        }
        if answer.chars().count() > DESCRIPTION_MAX {
            return Err(Error::invalid(
                "answer",
                Violation::TooLong {
                    max: DESCRIPTION_MAX,
                },
            ));
        }
        let request = self.sent_request(id).await?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE support_requests SET state = 'answered', answered_at = $1, answered_by = $2, answer = $3 WHERE id = $4",
        )
        .bind(now)
        .bind(staff.account_id)
        .bind(answer)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        crate::outbox::enqueue(
            &mut *tx,
            now,
            request.account_id,
            Channel::Email,
            &request.email,
            &Outgoing {
                subject: format!(
                    "mojeID: odpověď na požadavek {r} / answer to request {r}",
                    r = request.reference
                ),
                body: format!(
                    "{answer}\n\n-- \nTechnická podpora mojeID / mojeID technical support\n"
                ),
            },
        )
        .await?;
        Audit::new(now, request.account_id, &staff.username, req)
            .record(
                &mut *tx,
                Event::SupportRequestAnswered,
                json!({ "request": id, "reference": request.reference }),
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screenshots_are_judged_by_their_bytes() {
        assert_eq!(screenshot_type(b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
        assert_eq!(
            screenshot_type(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some("image/jpeg")
        );
        assert_eq!(screenshot_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(screenshot_type(b"%PDF-1.7"), None);
    }

    #[test]
    fn references_are_readable_aloud() {
        let r = new_reference();
        assert_eq!(r.len(), "MID-XXXX-XXXX".len());
        assert!(r.starts_with("MID-"));
        assert!(!r[4..].contains(['0', 'O', '1', 'I', 'L']), "{r}");
        assert_ne!(new_reference(), r);
    }

    #[test]
    fn limits_count_an_ipv6_subscriber_by_its_prefix() {
        assert_eq!(rate_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(rate_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(rate_key("192.0.2.7"), "192.0.2.7");
    }
}

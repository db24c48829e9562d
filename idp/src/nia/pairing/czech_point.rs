//! The Czech POINT path of pairing: a request with a code the citizen takes to the office,
//! the register's delivery matched to it by that code, the reminder before the deadline.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::nia::client::NiaError;
use crate::nia::pairing::State;
use crate::outbox::Outgoing;
use crate::{Idp, RequestInfo};

/// How long a Czech POINT request waits for the office's delivery.
pub const OFFICE_TTL_SECS: i64 = 30 * 24 * 3600;
/// The reminder goes this long before the deadline.
pub const REMIND_BEFORE_SECS: i64 = 5 * 24 * 3600;

/// What a delivery did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// Its code matched a waiting request: data received, the citizen e-mailed.
    Matched,
    /// No request has its code (kept for support).
    Unmatched,
    /// Its request expired or was cancelled (kept for support, no e-mail).
    TooLate,
    /// The same message again: nothing changed.
    Duplicate,
    /// Its code matched a waiting request, but the register's person is not the one the
    /// account's profile names (or the account was validated as somebody else): the request
    /// failed, the citizen was told without the register's data, nothing else changed.
    PersonMismatch,
}

impl DeliveryOutcome {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Matched => "matched",
            DeliveryOutcome::Unmatched => "unmatched",
            DeliveryOutcome::TooLate => "too_late",
            DeliveryOutcome::Duplicate => "duplicate",
            DeliveryOutcome::PersonMismatch => "person_mismatch",
        }
    }
}

impl Idp {
    /// Whether the register's person is the one this account's profile names (first name,
    /// last name and birth date, letter case aside) and not somebody other than the person
    /// the account was validated as. A pairing code is the account's secret, but it is printed
    /// and could be handed to somebody else: their data must not land in this account.
    async fn is_profile_person(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        account_id: i64,
        data: &crate::nia::client::RegistryData,
    ) -> Result<bool> {
        // read inside the delivery's transaction (a pool of one connection must not wait
        // for itself)
        let r = sqlx::query(
            "SELECT p.first_name, p.last_name, p.birth_date, a.validated_bsi, a.validated_birth_date \
             FROM profiles p JOIN accounts a ON a.id = p.account_id WHERE p.account_id = $1",
        )
        .bind(account_id)
        .fetch_one(&mut **tx)
        .await?;
        if crate::nia::eligibility::not_the_validated_person(
            r.try_get::<Option<String>, _>("validated_bsi")?.as_deref(),
            r.try_get::<Option<String>, _>("validated_birth_date")?
                .as_deref(),
            &data.bsi,
            &data.birth_date,
        )
        .is_some()
        {
            return Ok(false);
        }
        let same = |a: Option<String>, b: &str| {
            a.is_some_and(|a| a.trim().to_lowercase() == b.trim().to_lowercase())
        };
        Ok(same(r.try_get("first_name")?, &data.given_name)
            && same(r.try_get("last_name")?, &data.family_name)
            && same(r.try_get("birth_date")?, &data.birth_date))
    }
}

/// A Czech POINT request as its printable document needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeRequest {
    pub id: i64,
    pub code: String,
    pub state: State,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A delivery as support sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub message_id: String,
    pub received_at: i64,
    pub code: Option<String>,
    pub request_id: Option<i64>,
    pub status: String,
    pub person: serde_json::Value,
}

impl Idp {
    /// "Visit Czech POINT office" + "Verify": a request with a fresh code, waiting for the
    /// office. Needs the fresh password + key login and every condition, like eObčanka.
    pub async fn start_czech_point(&self, caller: &crate::Caller<'_>) -> Result<OfficeRequest> {
        let (account_id, actor, session_auth, req) =
            (caller.account_id, caller.username, caller.auth, caller.req);
        let now = self.clock.now();
        self.may_start_pairing(account_id, session_auth).await?;
        let mut tx = self.db.begin().await?;
        self.cancel_open_requests(&mut tx, account_id, actor, req)
            .await?;
        let code = crate::nia::pairing::code::generate();
        let row = sqlx::query(
            "INSERT INTO pairing_requests (account_id, method, state, code, attempts, created_at, updated_at, expires_at) \
             VALUES ($1, 'czech_point', 'awaiting_office', $2, 0, $3, $3, $4) RETURNING id",
        )
        .bind(account_id)
        .bind(&code)
        .bind(now)
        .bind(now + OFFICE_TTL_SECS)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        Audit::new(now, Some(account_id), actor, req)
            .record(
                &mut *tx,
                Event::PairingStarted,
                json!({ "request": id, "method": "czech_point" }),
            )
            .await?;
        crate::notices::to_verified_email(
            &mut tx,
            account_id,
            now,
            &Outgoing {
                subject: "mojeID: žádost o ověření na Czech POINT / your Czech POINT request".into(),
                body: "Požádali jste o ověření totožnosti na pobočce Czech POINT. Vytiskněte si dokument s kódem pro párování v Nastavení mojeID (Propojení se službami veřejné správy) a navštivte pobočku osobně.\n\nKód smí použít jen majitel tohoto účtu, osobně a se svým občanským průkazem. Nikomu kód ani dokument nedávejte a nepodávejte žádost s kódem, který vám poslal někdo jiný: jeho účet by získal vaše údaje z registru obyvatel. Pokud jste o ověření nežádali, změňte heslo a kontaktujte podporu: podpora@mojeid.cz, +420 222 745 111.\n\nYou asked for identity verification at a Czech POINT office. Print the document with the pairing code in mojeID Settings (Link to government services) and visit an office in person.\n\nOnly the owner of this account may use the code, in person and with their own identity card. Never give the code or the document to anybody, and never file a request with a code somebody sent you: their account would receive your population-register data. If you did not ask for this, change your password and contact support: podpora@mojeid.cz, +420 222 745 111.\n"
                    .into(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(OfficeRequest {
            id,
            code,
            state: State::AwaitingOffice,
            created_at: now,
            expires_at: now + OFFICE_TTL_SECS,
        })
    }

    /// The account's Czech POINT request `id` (for its printable document).
    pub async fn office_request(&self, account_id: i64, id: i64) -> Result<OfficeRequest> {
        let r = sqlx::query(
            "SELECT id, code, state, created_at, expires_at FROM pairing_requests \
             WHERE id = $1 AND account_id = $2 AND method = 'czech_point'",
        )
        .bind(id)
        .bind(account_id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        let state: String = r.try_get("state")?;
        Ok(OfficeRequest {
            id: r.try_get("id")?,
            code: r.try_get::<Option<String>, _>("code")?.unwrap_or_default(),
            state: State::parse(&state).ok_or_else(|| Error::Internal(state.clone()))?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
        })
    }

    /// The register's delivery, posted to our intake: verified before anything is stored;
    /// the same message twice changes nothing; a code that matches a waiting request moves
    /// it to `data_received` and e-mails the citizen; anything else is kept for support.
    pub async fn accept_office_delivery(
        &self,
        xml: &str,
        req: &RequestInfo,
    ) -> Result<DeliveryOutcome> {
        let now = self.clock.now();
        let client = self.nia_client()?;
        if xml.len() > crate::nia::client::MAX_DELIVERY_BYTES
            || crate::public_edge::has_doctype(xml.as_bytes())
        {
            self.edge_reject(crate::public_edge::Edge::RobIntake, "malformed", req)
                .await?;
            return Err(Error::NiaResponseInvalid);
        }
        let delivery = match client.verify_delivery(xml, now).await {
            Ok(d) => {
                crate::crash::point("intake.verified");
                d
            }
            Err(NiaError::Unavailable(e)) => {
                tracing::warn!(error = %e, "NIA metadata unavailable for a delivery");
                return Err(Error::NiaUnavailable);
            }
            Err(e) => {
                self.edge_reject(crate::public_edge::Edge::RobIntake, &e.to_string(), req)
                    .await?;
                return Err(Error::NiaResponseInvalid);
            }
        };
        let code = crate::nia::pairing::code::normalize(&delivery.message_for_recipient);
        let mut tx = self.db.begin().await?;
        let seen = sqlx::query("SELECT status FROM office_deliveries WHERE message_id = $1")
            .bind(&delivery.message_id)
            .fetch_optional(&mut *tx)
            .await?;
        if seen.is_some() {
            return Ok(DeliveryOutcome::Duplicate);
        }
        let request = match &code {
            Some(c) => sqlx::query(
                "SELECT id, account_id, state, expires_at FROM pairing_requests WHERE code = $1",
            )
            .bind(c)
            .fetch_optional(&mut *tx)
            .await?,
            None => None,
        };
        let (outcome, request_id) = match &request {
            None => (DeliveryOutcome::Unmatched, None),
            Some(r) => {
                let state: String = r.try_get("state")?;
                let expires_at: i64 = r.try_get("expires_at")?;
                let id: i64 = r.try_get("id")?;
                let account_id: i64 = r.try_get("account_id")?;
                if state == State::AwaitingOffice.as_str() && expires_at > now {
                    if self
                        .is_profile_person(&mut tx, account_id, &delivery.data)
                        .await?
                    {
                        (DeliveryOutcome::Matched, Some(id))
                    } else {
                        (DeliveryOutcome::PersonMismatch, Some(id))
                    }
                } else {
                    (DeliveryOutcome::TooLate, Some(id))
                }
            }
        };
        let person =
            serde_json::to_string(&delivery.data).map_err(|e| Error::Internal(e.to_string()))?;
        let inserted = sqlx::query(
            "INSERT INTO office_deliveries (message_id, received_at, code, request_id, status, person, document) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&delivery.message_id)
        .bind(now)
        .bind(code.clone().or(Some(delivery.message_for_recipient.clone())))
        .bind(request_id)
        .bind(outcome.as_str())
        .bind(&person)
        .bind(&delivery.document)
        .execute(&mut *tx)
        .await;
        if let Err(sqlx::Error::Database(e)) = &inserted {
            if e.is_unique_violation() {
                // the same message arrived twice at once: the other one counts
                return Ok(DeliveryOutcome::Duplicate);
            }
        }
        inserted?;
        let account = match &request {
            Some(r) => Some((
                r.try_get::<i64, _>("id")?,
                r.try_get::<i64, _>("account_id")?,
            )),
            None => None,
        };
        match (outcome, account) {
            (DeliveryOutcome::PersonMismatch, Some((id, account_id))) => {
                self.transition(
                    &mut tx,
                    id,
                    account_id,
                    "population-register",
                    State::AwaitingOffice,
                    State::Failed,
                    Some("person_mismatch"),
                    req,
                )
                .await?;
                crate::notices::to_verified_email(
                    &mut tx,
                    account_id,
                    now,
                    &Outgoing {
                        subject: "mojeID: údaje z Czech POINT nepatří k vašemu účtu / Czech POINT data do not match your account".into(),
                        body: "Registr obyvatel nám doručil údaje k vašemu kódu pro párování, ale osoba v nich není ta, kterou uvádí váš profil (jméno, příjmení, datum narození). Údaje jsme nepoužili a žádost jsme ukončili; ve vašem účtu se nic nezměnilo.\n\nPokud jste na Czech POINT byli vy, opravte profil podle občanského průkazu a požádejte znovu. Pokud ne, kód mohl použít někdo jiný: kód smí použít jen majitel účtu. Kontaktujte podporu: podpora@mojeid.cz, +420 222 745 111.\n\nThe population register delivered data for your pairing code, but the person in them is not the one your profile names (first name, last name, birth date). We did not use the data and ended the request; nothing in your account changed.\n\nIf it was you at Czech POINT, correct your profile as in your ID card and ask again. If not, somebody else may have used the code: only the account's owner may use it. Contact support: podpora@mojeid.cz, +420 222 745 111.\n"
                            .into(),
                    },
                )
                .await?;
            }
            (DeliveryOutcome::Matched, Some((id, account_id))) => {
                self.transition(
                    &mut tx,
                    id,
                    account_id,
                    "population-register",
                    State::AwaitingOffice,
                    State::DataReceived,
                    None,
                    req,
                )
                .await?;
                sqlx::query(
                    "UPDATE pairing_requests SET registry = $1, expires_at = $2 WHERE id = $3",
                )
                .bind(&person)
                .bind(now + OFFICE_TTL_SECS)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                crate::notices::to_verified_email(
                    &mut tx,
                    account_id,
                    now,
                    &Outgoing {
                        subject: "mojeID: údaje z Czech POINT dorazily / data from Czech POINT arrived".into(),
                        body: "Údaje z registru obyvatel, o které jste požádali na pobočce Czech POINT, dorazily. \
    Přihlaste se do mojeID a v Nastavení klikněte v sekci Validace na „Dokončit validaci pro NIA“.\n\n\
    The population-register data you asked for at the Czech POINT office have arrived. Log in to mojeID and in \
    Settings, section Validation, click \"Finish validation for NIA\".\n"
                            .into(),
                    },
                )
                .await?;
            }
            _ => {}
        }
        Audit::new(now, account.map(|(_, a)| a), "population-register", req)
            .record(
                &mut *tx,
                Event::OfficeDelivery,
                json!({ "message_id": delivery.message_id, "outcome": outcome.as_str(), "request": request_id }),
            )
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Deliveries kept for support, newest first (all, or those for one code).
    pub async fn office_deliveries(
        &self,
        code: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>> {
        let rows = match code.and_then(crate::nia::pairing::code::normalize) {
            Some(c) => {
                sqlx::query("SELECT message_id, received_at, code, request_id, status, person FROM office_deliveries WHERE code = $1 ORDER BY received_at DESC LIMIT $2")
                    .bind(c)
                    .bind(limit)
                    .fetch_all(&self.db.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT message_id, received_at, code, request_id, status, person FROM office_deliveries ORDER BY received_at DESC LIMIT $1")
                    .bind(limit)
                    .fetch_all(&self.db.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                let person: String = r.try_get("person")?;
                Ok(DeliveryRecord {
                    message_id: r.try_get("message_id")?,
                    received_at: r.try_get("received_at")?,
                    code: r.try_get("code")?,
                    request_id: r.try_get("request_id")?,
                    status: r.try_get("status")?,
                    person: serde_json::from_str(&person).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Reminds citizens whose Czech POINT request reaches its deadline within
    /// `REMIND_BEFORE_SECS` (once). Returns how many were reminded.
    pub async fn remind_office_requests(&self) -> Result<usize> {
        let now = self.clock.now();
        let rows = sqlx::query(
            "SELECT id, account_id, code, expires_at FROM pairing_requests WHERE state = $3 \
             AND reminded_at IS NULL AND expires_at > $1 AND expires_at <= $2",
        )
        .bind(now)
        .bind(now + REMIND_BEFORE_SECS)
        .bind(State::AwaitingOffice.as_str())
        .fetch_all(&self.db.pool)
        .await?;
        let mut n = 0;
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let account_id: i64 = r.try_get("account_id")?;
            let code: Option<String> = r.try_get("code")?;
            let expires_at: i64 = r.try_get("expires_at")?;
            let date = time::OffsetDateTime::from_unix_timestamp(expires_at)
                .map(|t| format!("{}. {}. {}", t.day(), u8::from(t.month()), t.year()))
                .unwrap_or_default();
            let mut tx = self.db.begin().await?;
            sqlx::query("UPDATE pairing_requests SET reminded_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            crate::notices::to_verified_email(
                &mut tx,
                account_id,
                now,
                &Outgoing {
                    subject: "mojeID: žádost o ověření na Czech POINT brzy vyprší / your Czech POINT request expires soon".into(),
                    body: format!(
                        "Vaše žádost o ověření totožnosti na pobočce Czech POINT (kód {code}) platí do {date}. \
Pokud jste na pobočce ještě nebyli, navštivte ji do té doby s občanským průkazem.\n\n\
Your request for identity verification at a Czech POINT office (code {code}) is valid until {date}. \
If you have not visited an office yet, do so by then with your identity card.\n",
                        code = code.unwrap_or_default()
                    ),
                },
            )
            .await?;
            tx.commit().await?;
            n += 1;
        }
        Ok(n)
    }
}

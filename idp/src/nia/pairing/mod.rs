//! Linking an account to NIA: the pairing request, a state machine persisted in
//! `pairing_requests`, with every transition audited.
//!
//! ```text
//! eObčanka:     created → nia_login → data_received → completing → completed
//! Czech POINT:  created → awaiting_office → data_received → completing → completed
//! any active state → cancelled (citizen, expiry) | failed (NIA refused, or the register's
//!                    person cannot be the account's owner: `person_mismatch`)
//! completing → data_received when NIA is unavailable (the request waits, nothing is lost)
//! ```
//!
//! `completing` is driven by a job (`drive_pairings`), so a crash between the calls to NIA
//! resumes where it stopped: matching and registering a means are idempotent at NIA.

pub mod code;
pub mod complete;
pub mod czech_point;
pub mod eobcanka;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::nia::client::RegistryData;
use crate::nia::eligibility::Eligibility;
use crate::{Idp, RequestInfo};

/// How long a request to NIA's portal may take.
pub const LOGIN_TTL_SECS: i64 = 30 * 60;
/// How long received registry data waits for the citizen's confirmation.
const DATA_TTL_SECS: i64 = 30 * 24 * 3600;
/// The outcome of a request for a person already linked to another account here.
pub const LINKED_ELSEWHERE: &str = "person_linked_elsewhere";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Created,
    NiaLogin,
    AwaitingOffice,
    DataReceived,
    Completing,
    Completed,
    Cancelled,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::NiaLogin => "nia_login",
            State::AwaitingOffice => "awaiting_office",
            State::DataReceived => "data_received",
            State::Completing => "completing",
            State::Completed => "completed",
            State::Cancelled => "cancelled",
            State::Failed => "failed",
        }
    }

    pub const ALL: [State; 8] = [
        State::Created,
        State::NiaLogin,
        State::AwaitingOffice,
        State::DataReceived,
        State::Completing,
        State::Completed,
        State::Cancelled,
        State::Failed,
    ];

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The stored names of the states `which` holds for, as an SQL list (`'a', 'b'`): the
    /// queries' state lists come from the machine, not from copies of it.
    pub fn sql_list(which: impl Fn(State) -> bool) -> String {
        State::ALL
            .into_iter()
            .filter(|s| which(*s))
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Not yet completed, cancelled or failed.
    pub fn is_active(self) -> bool {
        !matches!(self, State::Completed | State::Cancelled | State::Failed)
    }

    /// The transitions the machine allows; anything else is refused.
    pub fn can_become(self, next: State) -> bool {
        use State::*;
        match (self, next) {
            (Created, NiaLogin) | (Created, AwaitingOffice) => true,
            // a new attempt at the portal after an outage or a step back
            (NiaLogin, NiaLogin) => true,
            (NiaLogin, DataReceived) | (AwaitingOffice, DataReceived) => true,
            (NiaLogin, Created) => true,
            (DataReceived, Completing) => true,
            (Completing, Completed) | (Completing, DataReceived) | (Completing, Failed) => true,
            (NiaLogin, Failed) | (DataReceived, Failed) => true,
            // the register's person is not the profile's (a code filed by somebody else)
            (AwaitingOffice, Failed) => true,
            (s, Cancelled) => s.is_active() && s != Completing,
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Eobcanka,
    CzechPoint,
}

impl Method {
    /// The stored name (`pairing_requests.method`, `nia_links.method`), also its serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Eobcanka => "eobcanka",
            Method::CzechPoint => "czech_point",
        }
    }

    /// The method a stored name names (its serde name: every variant has one).
    pub fn parse(s: &str) -> Option<Method> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }

    /// A stored name read back; one the code does not know is an internal error.
    pub(crate) fn stored(s: &str) -> Result<Method> {
        Method::parse(s).ok_or_else(|| Error::Internal(format!("method {s:?}")))
    }
}

/// A pairing request as the citizen sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingRequest {
    pub id: i64,
    pub method: Method,
    pub state: State,
    /// Why it stopped or waits: `nia_unavailable`, `consent_refused`, `login_failed`,
    /// `loa_too_low`, NIA's refusal code (`FOREIGN_NATIONAL`, …), `no_eligible_key`.
    pub outcome: Option<String>,
    pub registry: Option<RegistryData>,
    /// The Czech POINT pairing code.
    pub code: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
}

/// The account's link to NIA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NiaLink {
    pub method: Method,
    pub loa: String,
    pub linked_at: i64,
    /// The keys registered at NIA as means.
    pub key_ids: Vec<i64>,
}

/// Everything the NIA section shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NiaStatus {
    pub link: Option<NiaLink>,
    pub request: Option<PairingRequest>,
    pub eligibility: Eligibility,
}

pub(super) fn row_to_request(r: &sqlx::any::AnyRow) -> Result<PairingRequest> {
    let state: String = r.try_get("state")?;
    let registry: Option<String> = r.try_get("registry")?;
    Ok(PairingRequest {
        id: r.try_get("id")?,
        method: Method::stored(&r.try_get::<String, _>("method")?)?,
        state: State::parse(&state).ok_or_else(|| Error::Internal(format!("state {state:?}")))?,
        outcome: r.try_get("outcome")?,
        registry: registry.and_then(|j| serde_json::from_str(&j).ok()),
        code: r.try_get("code")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

const REQUEST_COLUMNS: &str =
    "id, method, state, outcome, registry, code, created_at, updated_at, expires_at, account_id, bsi";

impl Idp {
    pub async fn nia_link(&self, account_id: i64) -> Result<Option<NiaLink>> {
        let Some(r) =
            sqlx::query("SELECT method, loa, linked_at FROM nia_links WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(&self.db.pool)
                .await?
        else {
            return Ok(None);
        };
        let keys =
            sqlx::query("SELECT key_id FROM nia_means WHERE account_id = $1 ORDER BY key_id")
                .bind(account_id)
                .fetch_all(&self.db.pool)
                .await?;
        Ok(Some(NiaLink {
            method: Method::stored(&r.try_get::<String, _>("method")?)?,
            loa: r.try_get("loa")?,
            linked_at: r.try_get("linked_at")?,
            key_ids: keys
                .iter()
                .map(|k| k.try_get("key_id"))
                .collect::<std::result::Result<_, _>>()?,
        }))
    }

    /// The account's newest request that is still active, or the newest one otherwise.
    pub async fn current_pairing(&self, account_id: i64) -> Result<Option<PairingRequest>> {
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM pairing_requests WHERE account_id = $1 ORDER BY id DESC LIMIT 5"
        ))
        .bind(account_id)
        .fetch_all(&self.db.pool)
        .await?;
        let requests: Vec<PairingRequest> =
            rows.iter().map(row_to_request).collect::<Result<_>>()?;
        let now = self.clock.now();
        Ok(requests
            .iter()
            .find(|r| r.state.is_active() && r.expires_at > now)
            .or(requests.first())
            .cloned())
    }

    pub async fn nia_status(&self, account_id: i64) -> Result<NiaStatus> {
        Ok(NiaStatus {
            link: self.nia_link(account_id).await?,
            request: self.current_pairing(account_id).await?,
            eligibility: self.nia_eligibility(account_id).await?,
        })
    }

    async fn pairing_row(&self, id: i64) -> Result<(PairingRequest, i64, Option<String>)> {
        let r = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM pairing_requests WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        Ok((
            row_to_request(&r)?,
            r.try_get("account_id")?,
            r.try_get("bsi")?,
        ))
    }

    /// Cancels the account's requests that have not reached completion (a new one replaces
    /// them); refused while one is being completed.
    pub(crate) async fn cancel_open_requests(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        account_id: i64,
        actor: &str,
        req: &RequestInfo,
    ) -> Result<()> {
        let active = sqlx::query(&format!(
            "SELECT id, state FROM pairing_requests WHERE account_id = $1 AND state IN ({})",
            State::sql_list(State::is_active)
        ))
        .bind(account_id)
        .fetch_all(&mut **tx)
        .await?;
        for r in &active {
            let state: String = r.try_get("state")?;
            let state = State::parse(&state).unwrap_or(State::Failed);
            if state == State::Completing {
                return Err(Error::Conflict);
            }
            let id: i64 = r.try_get("id")?;
            self.transition(
                tx,
                id,
                account_id,
                actor,
                state,
                State::Cancelled,
                Some("replaced"),
                req,
            )
            .await?;
        }
        Ok(())
    }

    /// Moves request `id` from `from` to `to` (refused when the machine does not allow it
    /// or somebody else moved it first), with the audit event, in `tx`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn transition(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: i64,
        account_id: i64,
        actor: &str,
        from: State,
        to: State,
        outcome: Option<&str>,
        req: &RequestInfo,
    ) -> Result<()> {
        if !from.can_become(to) {
            return Err(Error::Internal(format!(
                "pairing {id}: {} → {} is not a transition",
                from.as_str(),
                to.as_str()
            )));
        }
        let now = self.clock.now();
        let done = sqlx::query(
            "UPDATE pairing_requests SET state = $1, outcome = $2, updated_at = $3 WHERE id = $4 AND state = $5",
        )
        .bind(to.as_str())
        .bind(outcome)
        .bind(now)
        .bind(id)
        .bind(from.as_str())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(Error::Conflict);
        }
        let details =
            json!({ "request": id, "from": from.as_str(), "to": to.as_str(), "outcome": outcome });
        Audit::new(now, Some(account_id), actor, req)
            .record(&mut **tx, Event::PairingTransition, details)
            .await?;
        Ok(())
    }

    /// The citizen cancels an active request (not while it is being completed).
    pub async fn cancel_pairing(
        &self,
        account_id: i64,
        actor: &str,
        request_id: i64,
        req: &RequestInfo,
    ) -> Result<()> {
        let (request, owner, _) = self.pairing_row(request_id).await?;
        if owner != account_id {
            return Err(Error::NotFound);
        }
        if !request.state.can_become(State::Cancelled) {
            return Err(Error::Conflict);
        }
        let mut tx = self.db.begin().await?;
        self.transition(
            &mut tx,
            request_id,
            account_id,
            actor,
            request.state,
            State::Cancelled,
            Some("by_citizen"),
            req,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Expired requests become cancelled (housekeeping).
    pub async fn expire_pairings(&self) -> Result<usize> {
        let now = self.clock.now();
        // what may still be cancelled (a completion under way finishes first)
        let rows = sqlx::query(&format!(
            "SELECT id, account_id, state FROM pairing_requests WHERE expires_at <= $1 AND state IN ({})",
            State::sql_list(|s| s.can_become(State::Cancelled))
        ))
        .bind(now)
        .fetch_all(&self.db.pool)
        .await?;
        let job = RequestInfo::job("housekeeping");
        let mut n = 0;
        for r in rows {
            let state: String = r.try_get("state")?;
            let Some(state) = State::parse(&state) else {
                continue;
            };
            let mut tx = self.db.begin().await?;
            match self
                .transition(
                    &mut tx,
                    r.try_get("id")?,
                    r.try_get("account_id")?,
                    "job",
                    state,
                    State::Cancelled,
                    Some("expired"),
                    &job,
                )
                .await
            {
                Ok(()) => {
                    tx.commit().await?;
                    n += 1;
                }
                Err(Error::Conflict) => {}
                Err(e) => return Err(e),
            }
        }
        sqlx::query("DELETE FROM saml_seen WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.db.pool)
            .await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::sessions::AuthMethod;
    use crate::account::sessions::AuthRecord;
    use State::*;

    const ALL: [State; 8] = State::ALL;

    #[test]
    fn all_lists_every_state_once() {
        // `as_str` is an exhaustive match: a new state needs a name there, and then this
        // fails until `State::ALL` holds it too
        let names: std::collections::BTreeSet<&str> = ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), ALL.len());
        let ordinal = |s: State| match s {
            Created => 0,
            NiaLogin => 1,
            AwaitingOffice => 2,
            DataReceived => 3,
            Completing => 4,
            Completed => 5,
            Cancelled => 6,
            Failed => 7,
        };
        assert!(ALL.iter().enumerate().all(|(i, s)| ordinal(*s) == i));
    }

    #[test]
    fn the_transitions_are_exactly_those_drawn() {
        let allowed: Vec<(State, State)> = ALL
            .iter()
            .flat_map(|a| ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        let expected = vec![
            (Created, NiaLogin),
            (Created, AwaitingOffice),
            (Created, Cancelled),
            (NiaLogin, Created),
            (NiaLogin, NiaLogin),
            (NiaLogin, DataReceived),
            (NiaLogin, Cancelled),
            (NiaLogin, Failed),
            (AwaitingOffice, DataReceived),
            (AwaitingOffice, Cancelled),
            (AwaitingOffice, Failed),
            (DataReceived, Completing),
            (DataReceived, Cancelled),
            (DataReceived, Failed),
            (Completing, DataReceived),
            (Completing, Completed),
            (Completing, Failed),
        ];
        assert_eq!(allowed, expected);
    }

    #[test]
    fn final_states_go_nowhere_and_completing_cannot_be_cancelled() {
        for s in [Completed, Cancelled, Failed] {
            assert!(ALL.iter().all(|n| !s.can_become(*n)), "{s:?}");
            assert!(!s.is_active());
        }
        assert!(!Completing.can_become(Cancelled));
    }

    #[test]
    fn states_round_trip_their_names() {
        for s in ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(State::parse("linked"), None);
    }

    fn password_and_key(auth: &[AuthRecord], now: i64) -> bool {
        crate::account::sessions::Freshness::PasswordAndKey.holds(auth, now)
    }

    #[test]
    fn linking_needs_a_fresh_password_and_key_login() {
        let at = |method, at| AuthRecord { method, at };
        let now = 10_000;
        assert!(password_and_key(
            &[
                at(AuthMethod::Password, now - 10),
                at(AuthMethod::SecurityKey { id: 1 }, now - 10)
            ],
            now
        ));
        assert!(!password_and_key(
            &[at(AuthMethod::Password, now - 10)],
            now
        ));
        assert!(!password_and_key(
            &[
                at(AuthMethod::Password, now - 10),
                at(AuthMethod::SecurityKey { id: 1 }, now - 400)
            ],
            now
        ));
        // a certificate login does not count
        assert!(!password_and_key(
            &[
                at(AuthMethod::Certificate, now),
                at(AuthMethod::SecurityKey { id: 1 }, now)
            ],
            now
        ));
    }
}

//! Staff: accounts with a role (helpdesk, back office, auditor, support), granted by an operator
//! command; every staff action needs a login with a security key, and the ones that cannot be
//! undone a fresh one.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::account::sessions::{AuthMethod, Freshness, Session};
use crate::error::{Error, Result};
use crate::Idp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Helpdesk,
    BackOffice,
    Auditor,
    /// Technical support: reads and answers support requests.
    Support,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Helpdesk => "helpdesk",
            Role::BackOffice => "back_office",
            Role::Auditor => "auditor",
            Role::Support => "support",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "helpdesk" => Role::Helpdesk,
            "back_office" => Role::BackOffice,
            "auditor" => Role::Auditor,
            "support" => Role::Support,
            _ => return None,
        })
    }
}

impl Idp {
    /// Gives an existing account a staff role (operator command).
    pub async fn grant_role(&self, username: &str, role: Role) -> Result<()> {
        let done = sqlx::query("UPDATE accounts SET role = $1 WHERE username = $2")
            .bind(role.as_str())
            .bind(username.trim().to_lowercase())
            .execute(&self.db.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }

    /// The staff member behind a session, if the role is one of `allowed` and the session was
    /// opened with a security key.
    pub async fn staff(&self, session: &Session, allowed: &[Role]) -> Result<Role> {
        let role: Option<String> = sqlx::query("SELECT role FROM accounts WHERE id = $1")
            .bind(session.account_id)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| r.try_get("role"))
            .transpose()?
            .flatten();
        let role = role
            .as_deref()
            .and_then(Role::parse)
            .ok_or(Error::Forbidden)?;
        let with_key = session
            .auth
            .iter()
            .any(|a| matches!(a.method, AuthMethod::SecurityKey { .. }));
        if !allowed.contains(&role) || !with_key {
            return Err(Error::Forbidden);
        }
        Ok(role)
    }

    /// `staff`, for the actions that cannot be undone or that read a citizen's documents
    /// (unlink, login reset, a scan): the key login must be fresh too
    /// (`Freshness::AnyKey`), not only some time in a 12-hour session.
    pub async fn staff_fresh(&self, session: &Session, allowed: &[Role]) -> Result<Role> {
        let role = self.staff(session, allowed).await?;
        if Freshness::AnyKey.holds(&session.auth, self.clock.now()) {
            Ok(role)
        } else {
            Err(Error::StepUpRequired)
        }
    }
}

//! A new login made for one action. Detaching from NIA and removing a key linked to NIA ask
//! for one ("a new login will be required as a confirmation"), whatever the age of the
//! session's last login: the step-up names the action before the password is checked, the
//! key's challenge carries it, and the proof it ends with can only be made here and is good
//! for that action, that account and `sessions::FRESH_LOGIN_SECS`.

use crate::account::sessions::FRESH_LOGIN_SECS;
use crate::error::{Error, Result};

/// What a login made for an action is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// "Detach from NIA".
    Detach,
    /// Removing the key with this id (one linked to NIA).
    RemoveKey(i64),
}

impl Action {
    /// The name in a URL and in the key challenge's purpose (`detach`, `remove_key:7`).
    pub fn name(self) -> String {
        match self {
            Action::Detach => "detach".into(),
            Action::RemoveKey(id) => format!("remove_key:{id}"),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "detach" => Some(Action::Detach),
            _ => {
                let id: i64 = s.strip_prefix("remove_key:")?.parse().ok()?;
                (id > 0).then_some(Action::RemoveKey(id))
            }
        }
    }

    /// The purpose of the step-up's key challenge.
    pub(crate) fn challenge_purpose(action: Option<Action>) -> String {
        match action {
            None => "reauth".into(),
            Some(a) => format!("reauth:{}", a.name()),
        }
    }

    /// The action a step-up challenge was made for (`None`: a plain step-up).
    pub(crate) fn of_challenge_purpose(purpose: &str) -> Result<Option<Action>> {
        match purpose {
            "reauth" => Ok(None),
            _ => purpose
                .strip_prefix("reauth:")
                .and_then(Action::parse)
                .map(Some)
                .ok_or(Error::NotFound),
        }
    }
}

/// The proof of a login made for `action`: password and (when the account has keys) key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionLogin {
    account_id: i64,
    action: Action,
    at: i64,
}

impl ActionLogin {
    pub(crate) fn new(account_id: i64, action: Action, at: i64) -> Self {
        Self {
            account_id,
            action,
            at,
        }
    }

    pub fn action(&self) -> Action {
        self.action
    }

    /// A proof as the step-up would make it (tests of the actions that need one).
    #[cfg(feature = "testing")]
    pub fn for_tests(account_id: i64, action: Action, at: i64) -> Self {
        Self::new(account_id, action, at)
    }

    /// `ActionLoginRequired` unless this is a recent login of `account_id` made for `action`.
    pub(crate) fn check(
        proof: Option<&Self>,
        account_id: i64,
        action: Action,
        now: i64,
    ) -> Result<()> {
        match proof {
            Some(p)
                if p.account_id == account_id
                    && p.action == action
                    && p.at <= now
                    && now - p.at <= FRESH_LOGIN_SECS =>
            {
                Ok(())
            }
            _ => Err(Error::ActionLoginRequired),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_their_names_and_nothing_else_parses() {
        for a in [Action::Detach, Action::RemoveKey(7)] {
            assert_eq!(Action::parse(&a.name()), Some(a));
            assert_eq!(
                Action::of_challenge_purpose(&Action::challenge_purpose(Some(a))).ok(),
                Some(Some(a))
            );
        }
        assert_eq!(Action::of_challenge_purpose("reauth").ok(), Some(None));
        for bad in [
            "",
            "remove_key:",
            "remove_key:-1",
            "remove_key:x",
            "detach2",
        ] {
            assert_eq!(Action::parse(bad), None, "{bad}");
        }
        assert!(Action::of_challenge_purpose("login").is_err());
    }

    #[test]
    fn a_proof_is_for_one_action_one_account_and_a_few_minutes() {
        let p = ActionLogin::new(1, Action::RemoveKey(5), 1000);
        let ok = |proof: Option<&ActionLogin>, account, action, now| {
            ActionLogin::check(proof, account, action, now).is_ok()
        };
        assert!(ok(
            Some(&p),
            1,
            Action::RemoveKey(5),
            1000 + FRESH_LOGIN_SECS
        ));
        assert!(!ok(
            Some(&p),
            1,
            Action::RemoveKey(5),
            1001 + FRESH_LOGIN_SECS
        ));
        assert!(!ok(Some(&p), 1, Action::RemoveKey(6), 1000));
        assert!(!ok(Some(&p), 1, Action::Detach, 1000));
        assert!(!ok(Some(&p), 2, Action::RemoveKey(5), 1000));
        assert!(!ok(None, 1, Action::RemoveKey(5), 1000));
    }
}

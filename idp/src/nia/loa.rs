//! The level of assurance a login through NIA reaches, decided in one place from data (the
//! help page's "Security keys and level of assurance"; eIDAS levels as NIA names them):
//!
//! - **substantial**: the account is linked to NIA, active, and the key that answered is
//!   one of its means at NIA, certified FIDO_CERTIFIED_L1 or higher (or an eligible system
//!   key: what `nia_eligible` says);
//! - **high**: in addition the key is certified L2 or higher, its model is on the
//!   operator's list for high (specific FIPS/CC-certified hardware keys), the assertion
//!   carried user verification (a PIN), and the identity was verified with eObčanka or at a
//!   Czech POINT office.
//!
//! `decide` answers the level reached when it meets the level the service asked for, or
//! why not, with everything that is missing (so the page can say it).

use serde::{Deserialize, Serialize};

use crate::account::accounts::AccountState;
use crate::keys::mds::Level;
use crate::nia::pairing::Method;

/// An eIDAS level of assurance NIA asks for and we answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loa {
    Substantial,
    High,
}

impl Loa {
    /// The AuthnContextClassRef NIA uses for it.
    pub fn uri(self) -> &'static str {
        match self {
            Loa::Substantial => "http://eidas.europa.eu/LoA/substantial",
            Loa::High => "http://eidas.europa.eu/LoA/high",
        }
    }

    /// The level a requested AuthnContextClassRef names (`low` is met by substantial:
    /// we never answer below it).
    pub fn from_uri(uri: &str) -> Option<Loa> {
        match uri.trim() {
            "http://eidas.europa.eu/LoA/low" | "http://eidas.europa.eu/LoA/substantial" => {
                Some(Loa::Substantial)
            }
            "http://eidas.europa.eu/LoA/high" => Some(Loa::High),
            _ => None,
        }
    }
}

/// What is known of the login when it is judged.
#[derive(Clone, Debug)]
pub struct LoginFacts {
    pub account_state: AccountState,
    /// The account is linked to NIA.
    pub linked: bool,
    /// How the identity was verified (`None`: never validated).
    pub validated_by: Option<Method>,
    /// The key that answered the assertion.
    pub key: KeyFacts,
    /// The assertion carried user verification (PIN or biometrics on the key).
    pub user_verified: bool,
}

/// The key that answered, as the decision needs it.
#[derive(Clone, Debug)]
pub struct KeyFacts {
    pub level: Level,
    /// Certified for NIA (L1 or higher, or an eligible system key), per its verdict.
    pub nia_eligible: bool,
    /// Registered at NIA as a means of the linked person.
    pub registered_at_nia: bool,
    pub aaguid: Option<String>,
}

/// The operator's list of key models (AAGUIDs) that may log in at high.
#[derive(Clone, Debug, Default)]
pub struct HighModels(pub Vec<String>);

impl HighModels {
    fn contains(&self, aaguid: Option<&str>) -> bool {
        aaguid.is_some_and(|a| self.0.iter().any(|m| m.eq_ignore_ascii_case(a)))
    }
}

/// Why a login does not reach the level asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "refusal")]
pub enum Refusal {
    /// Not active: waiting for the new password after the back office's login reset.
    AccountNotActive,
    /// Not linked to NIA: link it first (`/settings/nia`).
    NotLinked,
    /// The key is not certified for NIA.
    KeyNotCertified,
    /// The key is certified but not (yet) a means at NIA.
    KeyNotAtNia,
    /// Substantial is reached, high was asked for: what high still needs.
    HighNeeds { missing: Vec<HighGap> },
}

/// One condition of high that the login does not meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HighGap {
    /// The key is certified below FIDO_CERTIFIED_L2.
    KeyLevel,
    /// The key's model is not on the list for high.
    ModelNotListed,
    /// The key did not verify the user (no PIN).
    NoUserVerification,
    /// The identity was never verified with eObčanka or at Czech POINT.
    NotValidated,
}

/// The level this login reaches if it meets `requested`, else why not.
pub fn decide(facts: &LoginFacts, requested: Loa, high: &HighModels) -> Result<Loa, Refusal> {
    if facts.account_state != AccountState::Active {
        return Err(Refusal::AccountNotActive);
    }
    if !facts.linked {
        return Err(Refusal::NotLinked);
    }
    if !facts.key.nia_eligible {
        return Err(Refusal::KeyNotCertified);
    }
    if !facts.key.registered_at_nia {
        return Err(Refusal::KeyNotAtNia);
    }
    let mut missing = Vec::new();
    if facts.key.level < Level::L2 {
        missing.push(HighGap::KeyLevel);
    }
    if !high.contains(facts.key.aaguid.as_deref()) {
        missing.push(HighGap::ModelNotListed);
    }
    if !facts.user_verified {
        missing.push(HighGap::NoUserVerification);
    }
    if !matches!(
        facts.validated_by,
        Some(Method::Eobcanka | Method::CzechPoint)
    ) {
        missing.push(HighGap::NotValidated);
    }
    let reached = if missing.is_empty() {
        Loa::High
    } else {
        Loa::Substantial
    };
    if reached >= requested {
        Ok(reached)
    } else {
        Err(Refusal::HighNeeds { missing })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HIGH_MODEL: &str = "3b1adb99-0dfe-46fd-90b8-7f7614a4de2a";

    fn facts() -> LoginFacts {
        LoginFacts {
            account_state: AccountState::Active,
            linked: true,
            validated_by: Some(Method::CzechPoint),
            key: KeyFacts {
                level: Level::L2,
                nia_eligible: true,
                registered_at_nia: true,
                aaguid: Some(HIGH_MODEL.to_uppercase()),
            },
            user_verified: true,
        }
    }

    /// A change to the facts of a good login.
    type Change = fn(&mut LoginFacts);

    fn listed() -> HighModels {
        HighModels(vec![HIGH_MODEL.into()])
    }

    #[test]
    fn a_listed_l2_key_with_a_pin_on_a_validated_account_reaches_high() {
        assert_eq!(decide(&facts(), Loa::High, &listed()), Ok(Loa::High));
        // a service asking for substantial gets the level actually reached
        assert_eq!(decide(&facts(), Loa::Substantial, &listed()), Ok(Loa::High));
    }

    #[test]
    fn an_l1_key_reaches_substantial_and_high_says_everything_it_needs() {
        let mut f = facts();
        f.key.level = Level::L1;
        f.key.aaguid = Some("00000000-0000-0000-0000-000000000001".into());
        f.user_verified = false;
        f.validated_by = None;
        assert_eq!(
            decide(&f, Loa::Substantial, &listed()),
            Ok(Loa::Substantial)
        );
        assert_eq!(
            decide(&f, Loa::High, &listed()),
            Err(Refusal::HighNeeds {
                missing: vec![
                    HighGap::KeyLevel,
                    HighGap::ModelNotListed,
                    HighGap::NoUserVerification,
                    HighGap::NotValidated
                ]
            })
        );
        // each condition of high on its own
        for (change, gap) in [
            (
                (|f: &mut LoginFacts| f.key.level = Level::L1Plus) as Change,
                HighGap::KeyLevel,
            ),
            (|f| f.key.aaguid = None, HighGap::ModelNotListed),
            (|f| f.user_verified = false, HighGap::NoUserVerification),
            (|f| f.validated_by = None, HighGap::NotValidated),
        ] {
            let mut f = facts();
            change(&mut f);
            assert_eq!(
                decide(&f, Loa::High, &listed()),
                Err(Refusal::HighNeeds { missing: vec![gap] })
            );
        }
        // an empty list for high: nobody reaches it
        assert_eq!(
            decide(&facts(), Loa::High, &HighModels::default()),
            Err(Refusal::HighNeeds {
                missing: vec![HighGap::ModelNotListed]
            })
        );
    }

    #[test]
    fn no_level_without_an_active_linked_account_and_a_certified_key_at_nia() {
        let cases: [(Change, Refusal); 4] = [
            (
                |f| f.account_state = AccountState::LoginReset,
                Refusal::AccountNotActive,
            ),
            (|f| f.linked = false, Refusal::NotLinked),
            (|f| f.key.nia_eligible = false, Refusal::KeyNotCertified),
            (|f| f.key.registered_at_nia = false, Refusal::KeyNotAtNia),
        ];
        for (change, refusal) in cases {
            let mut f = facts();
            change(&mut f);
            assert_eq!(decide(&f, Loa::Substantial, &listed()), Err(refusal));
        }
    }

    #[test]
    fn levels_round_trip_their_uris_and_low_is_met_by_substantial() {
        for l in [Loa::Substantial, Loa::High] {
            assert_eq!(Loa::from_uri(l.uri()), Some(l));
        }
        assert_eq!(
            Loa::from_uri("http://eidas.europa.eu/LoA/low"),
            Some(Loa::Substantial)
        );
        assert_eq!(Loa::from_uri("http://example.com/LoA/extreme"), None);
    }
}

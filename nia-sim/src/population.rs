//! The test population of the population register (ROB): fictional citizens, each with an
//! eObčanka (card number + PIN). Some must be refused by NIA's matching.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub number: String,
    pub city: String,
    pub postcode: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citizen {
    /// Stable id inside the simulator (stands for the AIFO).
    pub id: String,
    pub given_name: String,
    pub family_name: String,
    /// YYYY-MM-DD
    pub birth_date: String,
    pub birth_place: String,
    /// Permanent address in the register; `None`: no permanent residence recorded.
    pub address: Option<Address>,
    /// ISO 3166 alpha-2
    pub citizenship: String,
    pub entrepreneur: bool,
    pub deceased: bool,
    pub card_number: String,
    pub pin: String,
}

fn addr(street: &str, number: &str, city: &str, postcode: &str) -> Option<Address> {
    Some(Address {
        street: street.into(),
        number: number.into(),
        city: city.into(),
        postcode: postcode.into(),
    })
}

#[allow(clippy::too_many_arguments)]
fn citizen(
    id: &str,
    given: &str,
    family: &str,
    birth: &str,
    place: &str,
    address: Option<Address>,
    citizenship: &str,
    entrepreneur: bool,
    deceased: bool,
    card: &str,
) -> Citizen {
    Citizen {
        id: id.into(),
        given_name: given.into(),
        family_name: family.into(),
        birth_date: birth.into(),
        birth_place: place.into(),
        address,
        citizenship: citizenship.into(),
        entrepreneur,
        deceased,
        card_number: card.into(),
        pin: "123456".into(),
    }
}

/// The citizens every simulator starts with. Every card's PIN is 123456.
pub fn test_population() -> Vec<Citizen> {
    vec![
        citizen(
            "rob-1001",
            "Jana",
            "Nováková",
            "1985-03-14",
            "Praha",
            addr("Květná", "12", "Brno", "60200"),
            "CZ",
            false,
            false,
            "100000001",
        ),
        citizen(
            "rob-1002",
            "Petr",
            "Svoboda",
            "1979-11-02",
            "Ostrava",
            addr("Nádražní", "5", "Ostrava", "70200"),
            "CZ",
            false,
            false,
            "100000002",
        ),
        citizen(
            "rob-1003",
            "Eva",
            "Dvořáková",
            "1992-07-30",
            "Plzeň",
            addr("Husova", "48", "Plzeň", "30100"),
            "CZ",
            false,
            false,
            "100000003",
        ),
        citizen(
            "rob-1004",
            "Tomáš",
            "Černý",
            "1968-01-21",
            "Olomouc",
            addr("Dlouhá", "3", "Olomouc", "77900"),
            "CZ",
            true,
            false,
            "100000004",
        ),
        citizen(
            "rob-1005",
            "Anna",
            "Müller",
            "1990-05-05",
            "Wien",
            addr("Vídeňská", "77", "Praha", "14000"),
            "AT",
            false,
            false,
            "100000005",
        ),
        citizen(
            "rob-1006",
            "Karel",
            "Procházka",
            "1975-09-09",
            "Liberec",
            None,
            "CZ",
            false,
            false,
            "100000006",
        ),
        citizen(
            "rob-1007",
            "Marie",
            "Veselá",
            "1931-02-17",
            "Tábor",
            addr("Zahradní", "9", "Tábor", "39002"),
            "CZ",
            false,
            true,
            "100000007",
        ),
    ]
}

/// Why NIA's matching refuses a person (none: the person can be linked).
pub fn refusal(c: &Citizen) -> Option<&'static str> {
    if c.deceased {
        Some("DECEASED")
    } else if c.citizenship != "CZ" {
        Some("FOREIGN_NATIONAL")
    } else if c.address.is_none() {
        Some("NO_PERMANENT_RESIDENCE")
    } else if c.entrepreneur {
        Some("ENTREPRENEUR")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_population_holds_every_kind_of_refusal_and_unique_cards() {
        let p = test_population();
        let refusals: Vec<_> = p.iter().filter_map(refusal).collect();
        for r in [
            "DECEASED",
            "FOREIGN_NATIONAL",
            "NO_PERMANENT_RESIDENCE",
            "ENTREPRENEUR",
        ] {
            assert!(refusals.contains(&r), "{r}");
        }
        let mut cards: Vec<_> = p.iter().map(|c| &c.card_number).collect();
        cards.dedup();
        assert_eq!(cards.len(), p.len());
    }
}

//! Security notices: every change of a contact, the password or a key, a 2FA reset and a
//! link to NIA or its end is told to the addresses the account had *before* the change (NIST
//! SP 800-63B §6.1.2.3), so that an owner whose session was stolen hears of it where the
//! thief cannot intercept it. Written in the transaction of the change. Also the flows' own
//! e-mails to the account's verified address (`to_verified_email`).

use sqlx::{Any, Row, Transaction};

use crate::error::Result;
use crate::outbox::{self, Channel, Outgoing};
use crate::RequestInfo;

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change<'a> {
    Email {
        new: &'a str,
    },
    Phone {
        new: &'a str,
    },
    Password,
    KeyAdded {
        name: &'a str,
    },
    KeyRemoved {
        name: &'a str,
    },
    TwofaReset,
    NiaLinked,
    NiaUnlinked,
    /// The helpdesk ended the link (the citizen asked by phone); the keys stay.
    NiaUnlinkedByHelpdesk,
}

impl Change<'_> {
    /// (Czech, English) of what happened, for the subject and the first line.
    fn what(&self) -> (String, String) {
        match self {
            Change::Email { new } => (
                format!("e-mail účtu byl změněn na {new}"),
                format!("the account's e-mail was changed to {new}"),
            ),
            Change::Phone { new } => (
                format!("telefon účtu byl změněn na {}", mask_phone(new)),
                format!("the account's phone was changed to {}", mask_phone(new)),
            ),
            Change::Password => ("heslo bylo změněno".into(), "the password was changed".into()),
            Change::KeyAdded { name } => (
                format!("byl přidán bezpečnostní klíč „{name}“"),
                format!("a security key \"{name}\" was added"),
            ),
            Change::KeyRemoved { name } => (
                format!("byl odebrán bezpečnostní klíč „{name}“"),
                format!("the security key \"{name}\" was removed"),
            ),
            Change::TwofaReset => (
                "dvoufázové ověření bylo zrušeno (všechny bezpečnostní klíče odebrány, propojení s NIA ukončeno)".into(),
                "two-factor authentication was reset (every security key removed, the link to NIA ended)".into(),
            ),
            Change::NiaLinked => (
                "účet byl propojen se službami veřejné správy (NIA)".into(),
                "the account was linked to government services (NIA)".into(),
            ),
            Change::NiaUnlinked => (
                "propojení účtu se službami veřejné správy (NIA) bylo zrušeno; bezpečnostní klíče zůstaly".into(),
                "the account's link to government services (NIA) ended; its security keys remain".into(),
            ),
            Change::NiaUnlinkedByHelpdesk => (
                "na žádost u podpory mojeID byl účet odpojen od NIA; dvoufázové ověření zůstalo".into(),
                "at your request to mojeID support, the account was unlinked from NIA; its two-factor authentication remains".into(),
            ),
        }
    }
}

/// SMS in the GSM 7-bit alphabet: Czech without diacritics (one message, not three), as
/// Czech SMS usually are.
fn sms_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' => 'a',
            'č' => 'c',
            'ď' => 'd',
            'é' | 'ě' => 'e',
            'í' => 'i',
            'ň' => 'n',
            'ó' => 'o',
            'ř' => 'r',
            'š' => 's',
            'ť' => 't',
            'ú' | 'ů' => 'u',
            'ý' => 'y',
            'ž' => 'z',
            'Á' => 'A',
            'Č' => 'C',
            'Ď' => 'D',
            'É' | 'Ě' => 'E',
            'Í' => 'I',
            'Ň' => 'N',
            'Ó' => 'O',
            'Ř' => 'R',
            'Š' => 'S',
            'Ť' => 'T',
            'Ú' | 'Ů' => 'U',
            'Ý' => 'Y',
            'Ž' => 'Z',
            '„' | '“' => '"',
            other => other,
        })
        .collect()
}

/// `+420777123456` → `+420 *** *** 456`: enough for the owner to recognise, not a number to
/// call.
fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    let tail: String = digits[digits.len().saturating_sub(3)..].iter().collect();
    format!(
        "+{} *** *** {tail}",
        digits.iter().take(3).collect::<String>()
    )
}

/// The verified addresses an account has now (read inside the change's transaction, before
/// the change).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Previous {
    pub email: Option<String>,
    pub phone: Option<String>,
}

pub(crate) async fn previous(tx: &mut Transaction<'_, Any>, account_id: i64) -> Result<Previous> {
    let row = sqlx::query(
        "SELECT CASE WHEN email_verified_at IS NOT NULL THEN email END AS email, \
         CASE WHEN phone_verified_at IS NOT NULL THEN phone END AS phone \
         FROM contacts WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some(r) => Previous {
            email: r.try_get("email")?,
            phone: r.try_get("phone")?,
        },
        None => Previous::default(),
    })
}

/// A time as the notices write it (`25. 11. 2026 10:00 UTC`).
pub(crate) fn when(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[day]. [month]. [year] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// The notice of a change that leaves the contacts as they are, to the account's verified
/// addresses (read inside `tx`).
pub(crate) async fn tell(
    tx: &mut Transaction<'_, Any>,
    account_id: i64,
    now: i64,
    change: Change<'_>,
    req: &RequestInfo,
) -> Result<()> {
    let to = previous(tx, account_id).await?;
    send(tx, account_id, now, &to, change, req).await
}

/// Sends the notice of `change` to every address in `to`: an e-mail with the time, the
/// address it came from and what to do if it was not the owner; a short SMS.
pub(crate) async fn send(
    tx: &mut Transaction<'_, Any>,
    account_id: i64,
    now: i64,
    to: &Previous,
    change: Change<'_>,
    req: &RequestInfo,
) -> Result<()> {
    let (cs, en) = change.what();
    let when = when(now);
    // a background job (finishing a link) has no address of its own
    let (from_cs, from_en) = if req.ip == "job" || req.ip.is_empty() {
        (String::new(), String::new())
    } else {
        (
            format!("Odkud: adresa {}\n", req.ip),
            format!("From: address {}\n", req.ip),
        )
    };
    if let Some(email) = &to.email {
        let body = format!(
            "V účtu mojeID {cs}.\nKdy: {when}\n{from_cs}\n\
Pokud jste to byli vy, nemusíte nic dělat.\n\
Pokud ne:\n\
1. Přihlaste se do mojeID a změňte heslo (Nastavení → Heslo).\n\
2. V Nastavení → Přihlášená zařízení ukončete relace, které neznáte.\n\
3. Nemůžete-li se přihlásit, zavolejte nonstop helpdesk mojeID +420 222 745 111: pomůže účet zajistit \
a zrušit jeho propojení s NIA.\n\n\
In your mojeID account, {en}.\nWhen: {when}\n{from_en}\n\
If this was you, there is nothing to do.\n\
If not:\n\
1. Log in to mojeID and change the password (Settings → Password).\n\
2. In Settings → Signed-in devices, end the sessions you do not know.\n\
3. If you cannot log in, call the mojeID helpdesk (24/7) at +420 222 745 111: it will secure the account \
and end its link to NIA.\n"
        );
        outbox::enqueue(
            &mut **tx,
            now,
            Some(account_id),
            Channel::Email,
            email,
            &Outgoing {
                subject: format!("mojeID: {cs} / {en}"),
                body,
            },
        )
        .await?;
    }
    if let Some(phone) = &to.phone {
        outbox::enqueue(
            &mut **tx,
            now,
            Some(account_id),
            Channel::Sms,
            phone,
            &Outgoing {
                subject: String::new(),
                body: sms_text(&format!(
                    "mojeID: {cs} ({when}). Nebyli jste to vy? Volejte +420 222 745 111. / Not you? Call +420 222 745 111."
                )),
            },
        )
        .await?;
    }
    Ok(())
}

/// An e-mail to the account's verified address, in the same transaction.
pub(crate) async fn to_verified_email(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: i64,
    now: i64,
    message: &Outgoing,
) -> Result<()> {
    let email: Option<String> = sqlx::query(
        "SELECT email FROM contacts WHERE account_id = $1 AND email_verified_at IS NOT NULL",
    )
    .bind(account_id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get("email"))
    .transpose()?
    .flatten();
    if let Some(email) = email {
        outbox::enqueue(
            &mut **tx,
            now,
            Some(account_id),
            Channel::Email,
            &email,
            message,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_go_without_diacritics() {
        assert_eq!(
            sms_text("dvoufázové ověření bylo zrušeno „Klíč“"),
            "dvoufazove overeni bylo zruseno \"Klic\""
        );
    }

    #[test]
    fn phones_are_masked_to_their_last_three_digits() {
        assert_eq!(mask_phone("+420777123456"), "+420 *** *** 456");
        assert_eq!(mask_phone("12"), "+12 *** *** 12");
    }

    #[test]
    fn every_change_is_said_in_both_languages() {
        for c in [
            Change::Email { new: "a@b.cz" },
            Change::Phone {
                new: "+420777000111",
            },
            Change::Password,
            Change::KeyAdded { name: "Klíč" },
            Change::KeyRemoved { name: "Klíč" },
            Change::TwofaReset,
            Change::NiaLinked,
            Change::NiaUnlinked,
            Change::NiaUnlinkedByHelpdesk,
        ] {
            let (cs, en) = c.what();
            assert!(!cs.is_empty() && !en.is_empty() && cs != en, "{c:?}");
        }
    }
}

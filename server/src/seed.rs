//! Demo data for the run command: one account with a filled profile and verified contacts,
//! created through the same domain calls a user's browser makes. Idempotent.

use idp::account::contacts::ContactKind;
use idp::account::profile::ProfileInput;
use idp::outbox::Outgoing;

pub const DEMO_USERNAME: &str = "demo";
pub const DEMO_PASSWORD: &str = "kobyla ma maly bok u potoka";

pub async fn demo_account(idp: &idp::Idp) -> Result<bool, idp::Error> {
    if idp.find_account(DEMO_USERNAME).await?.is_some() {
        return Ok(false);
    }
    let req = idp::RequestInfo {
        ip: "127.0.0.1".into(),
        user_agent: "seed".into(),
    };
    let (account, _) = idp
        .create_account(DEMO_USERNAME, DEMO_PASSWORD, &req)
        .await?;
    // the account was just created with its password: that is the fresh login a contact
    // change asks for
    let fresh = [idp::account::sessions::AuthRecord {
        method: idp::account::sessions::AuthMethod::Password,
        at: idp.clock.now(),
    }];
    let profile = ProfileInput {
        first_name: "Jana".into(),
        last_name: "Nováková".into(),
        birth_date: "1985-04-12".into(),
        street: "Milešovská".into(),
        house_number: "1136/5".into(),
        city: "Praha".into(),
        postcode: "130 00".into(),
        country: "CZ".into(),
        organization: String::new(),
    };
    idp.update_profile(account.id, DEMO_USERNAME, &profile, &req)
        .await?;
    for (kind, address) in [
        (ContactKind::Email, "jana.novakova@example.cz"),
        (ContactKind::Phone, "+420 777 123 456"),
    ] {
        let mut sent = String::new();
        idp.start_contact_verification(
            &idp::Caller {
                account_id: account.id,
                username: DEMO_USERNAME,
                auth: &fresh,
                req: &req,
            },
            kind,
            address,
            |code| {
                sent = code.to_owned();
                Outgoing {
                    subject: "mojeID demo".into(),
                    body: format!("Demo verification code {code}."),
                }
            },
        )
        .await?;
        idp.verify_contact(account.id, DEMO_USERNAME, kind, &sent, &req)
            .await?;
    }
    Ok(true)
}

//! The SAML exchange with NIA and the pairing state machine against the simulator, over real
//! HTTP, on SQLite and PostgreSQL: a good response, and tampered, replayed, late and foreign
//! ones rejected; a crash between the calls to NIA resumed by the job.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use idp::account::action_login::{Action, ActionLogin};
use idp::account::sessions::{AuthMethod, AuthRecord};
use idp::nia::client::{load_sp_identity, NiaClient, NiaConfig};
use idp::nia::pairing::State;
use idp::testing::TempDatabase;
use idp::{Clock, Db, Error, Idp, Policy, RequestInfo};

const PW: &str = "kobyla ma maly bok u potoka";

fn req() -> RequestInfo {
    RequestInfo {
        ip: "10.9.9.9".into(),
        user_agent: "nia-test".into(),
    }
}

/// The citizen `account` (`username`, logged in as `auth`) calling the domain, from the test's
/// address.
fn citizen<'a>(account: i64, username: &'a str, auth: &'a [AuthRecord]) -> idp::Caller<'a> {
    static REQ: std::sync::LazyLock<RequestInfo> = std::sync::LazyLock::new(req);
    idp::Caller {
        account_id: account,
        username,
        auth,
        req: &REQ,
    }
}

struct World {
    idp: Idp,
    sim: nia_sim::Sim,
    sim_url: String,
    db: TempDatabase,
    dir: std::path::PathBuf,
    account: i64,
    key: i64,
    http: reqwest::Client,
    /// Our address and the simulator's (a second server is made with them).
    sp: SocketAddr,
    sim_addr: SocketAddr,
}

async fn listener() -> (tokio::net::TcpListener, SocketAddr) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let a = l.local_addr().expect("addr");
    (l, a)
}

fn client(dir: &std::path::Path, sp: SocketAddr, sim: SocketAddr) -> NiaClient {
    let (key, cert) = load_sp_identity(&dir.join("sp"), true).expect("sp identity");
    NiaClient::new(
        NiaConfig {
            sso_url: format!("http://{sim}/FPSTS/saml2/basic"),
            metadata_url: format!(
                "http://{sim}/FPSTS/FederationMetadata/2007-06/FederationMetadata.xml"
            ),
            api_url: format!("http://{sim}/idp-api"),
            api_token: "test-token".into(),
            sp_entity_id: format!("http://{sp}/saml/metadata"),
            acs_url: format!("http://{sp}/nia/acs"),
            idp_sso_url: format!("http://{sp}/saml/idp/sso"),
            login_acs_url: format!("http://{sim}/FPSTS/mojeid/acs"),
            signing_cert_pins: Vec::new(),
        },
        key,
        cert,
    )
    .expect("client")
}

async fn idp_on(url: &str, dir: &std::path::Path, sp: SocketAddr, sim: SocketAddr) -> Idp {
    idp_with_clock(
        url,
        dir,
        sp,
        sim,
        Clock::manual(time::OffsetDateTime::now_utc().unix_timestamp()),
    )
    .await
}

async fn idp_with_clock(
    url: &str,
    dir: &std::path::Path,
    sp: SocketAddr,
    sim: SocketAddr,
    clock: Clock,
) -> Idp {
    // as many connections as a server has by default
    let db = Db::connect(url, 10).await.expect("db");
    let idp = Idp::new(
        db,
        idp::account::password::Hasher::new(2, 16).expect("hasher"),
        clock,
        Policy::default(),
    );
    idp.set_nia(client(dir, sp, sim));
    idp
}

async fn world(db: TempDatabase) -> World {
    let dir = std::env::temp_dir().join(format!("mojeid-nia-{}", uuid_like()));
    let (sp_l, sp) = listener().await;
    let (sim_l, sim_addr) = listener().await;
    let idp = idp_on(&db.url, &dir, sp, sim_addr).await;
    // our metadata, which the simulator reads to check our signature
    let metadata = idp.nia().expect("nia").sp_metadata();
    let intake_idp = idp.clone();
    tokio::spawn(async move {
        let app = axum::Router::new()
            .route(
                "/saml/metadata",
                axum::routing::get(move || {
                    let m = metadata.clone();
                    async move { m }
                }),
            )
            // our intake of the register's deliveries
            .route(
                "/intake/rob",
                axum::routing::post(move |body: String| {
                    let idp = intake_idp.clone();
                    async move {
                        match idp.accept_office_delivery(&body, &req()).await {
                            Ok(o) => (http::StatusCode::OK, format!("{o:?}")),
                            Err(e) => (http::StatusCode::BAD_REQUEST, e.to_string()),
                        }
                    }
                }),
            );
        let _ = axum::serve(sp_l, app).await;
    });
    let sim = nia_sim::Sim::open(nia_sim::SimConfig {
        data_dir: dir.join("nia-sim"),
        base_url: format!("http://{sim_addr}"),
        sp_entity_id: format!("http://{sp}/saml/metadata"),
        sp_metadata_url: format!("http://{sp}/saml/metadata"),
        api_token: "test-token".into(),
        intake_url: format!("http://{sp}/intake/rob"),
        intake_token: "intake-token-for-tests".into(),
    })
    .expect("sim");
    let router = nia_sim::router(sim.clone());
    tokio::spawn(async move {
        let _ = axum::serve(sim_l, router).await;
    });

    // an account that meets every condition, with a certified key
    let (account, _) = idp
        .create_account("obcan", PW, &req())
        .await
        .expect("account");
    idp.update_profile(
        account.id,
        "obcan",
        &idp::account::profile::ProfileInput {
            first_name: "Jana".into(),
            last_name: "Nováková".into(),
            birth_date: "14. 3. 1985".into(),
            street: "Milešovská".into(),
            house_number: "5".into(),
            city: "Praha".into(),
            postcode: "13000".into(),
            country: "CZ".into(),
            organization: String::new(),
        },
        &req(),
    )
    .await
    .expect("profile");
    let now = idp.clock.now();
    sqlx::query("UPDATE contacts SET email = 'jana@example.cz', email_verified_at = $2, phone = '+420777000111', phone_verified_at = $2, updated_at = $2 WHERE account_id = $1")
        .bind(account.id)
        .bind(now)
        .execute(&idp.db.pool)
        .await
        .expect("contacts");
    let key = (certified_key(&idp, account.id, "cred-1").await,);
    World {
        idp,
        sim,
        sim_url: format!("http://{sim_addr}"),
        db,
        dir,
        account: account.id,
        key: key.0,
        http: reqwest::Client::new(),
        sp,
        sim_addr,
    }
}

/// A key row as a certified L1 hardware key leaves it (the ceremony is tested elsewhere).
async fn certified_key(idp: &Idp, account: i64, credential_id: &str) -> i64 {
    let key: (i64,) = sqlx::query_as(
        "INSERT INTO security_keys (account_id, credential_id, credential, name, kind, level, nia_eligible, verdict, created_at) \
         VALUES ($1, $2, '{}', 'Klíč', 'hardware', 'FIDO_CERTIFIED_L1', 1, '{}', $3) RETURNING id",
    )
    .bind(account)
    .bind(credential_id)
    .bind(idp.clock.now())
    .fetch_one(&idp.db.pool)
    .await
    .expect("key");
    key.0
}

fn uuid_like() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

impl World {
    fn fresh(&self) -> Vec<AuthRecord> {
        self.fresh_with(self.key)
    }

    /// A new login made just now for `action` (what the step-up returns).
    fn login_for(&self, account: i64, action: Action) -> ActionLogin {
        ActionLogin::for_tests(account, action, self.idp.clock.now())
    }

    /// A password + key login just now, with key `key`.
    fn fresh_with(&self, key: i64) -> Vec<AuthRecord> {
        let now = self.idp.clock.now();
        vec![
            AuthRecord {
                method: AuthMethod::Password,
                at: now,
            },
            AuthRecord {
                method: AuthMethod::SecurityKey { id: key },
                at: now,
            },
        ]
    }

    /// Another account of the same person (the same profile and contacts) with its own
    /// certified key: its id and the key's.
    async fn second_account(&self, username: &str) -> (i64, i64) {
        let (account, _) = self
            .idp
            .create_account(username, PW, &req())
            .await
            .expect("account");
        for sql in [
            "UPDATE profiles SET (first_name, last_name, birth_date, street, house_number, city, postcode, country, organization) = \
             (SELECT first_name, last_name, birth_date, street, house_number, city, postcode, country, organization FROM profiles WHERE account_id = $2) \
             WHERE account_id = $1",
            "UPDATE contacts SET email = (SELECT email FROM contacts WHERE account_id = $2), email_verified_at = 1, \
             phone = (SELECT phone FROM contacts WHERE account_id = $2), phone_verified_at = 1 WHERE account_id = $1",
        ] {
            sqlx::query(sql)
                .bind(account.id)
                .bind(self.account)
                .execute(&self.idp.db.pool)
                .await
                .expect(sql);
        }
        let key = certified_key(&self.idp, account.id, &format!("cred-{username}")).await;
        (account.id, key)
    }

    /// Starts linking and walks the simulated portal with `card`; returns the posted
    /// SAMLResponse and RelayState, and the browser nonce of the one who pressed "Verify".
    async fn portal(&self, card: &str, consent: bool) -> (String, String, String) {
        self.portal_for(self.account, self.key, card, consent).await
    }

    async fn portal_for(
        &self,
        account: i64,
        key: i64,
        card: &str,
        consent: bool,
    ) -> (String, String, String) {
        let start = self
            .idp
            .start_eobcanka(&citizen(account, "obcan", &self.fresh_with(key)))
            .await
            .expect("start");
        let url = start.url;
        let page = self
            .http
            .get(&url)
            .send()
            .await
            .expect("sso")
            .text()
            .await
            .expect("html");
        let flow = between(&page, "/portal/", "/eobcanka").expect("a link to eObčanka");
        let base = &self.sim_url;
        self.http
            .post(format!("{base}/portal/{flow}/eobcanka"))
            .form(&[("card", card), ("pin", "123456")])
            .send()
            .await
            .expect("card");
        let page = self
            .http
            .post(format!("{base}/portal/{flow}/consent"))
            .form(&[("answer", if consent { "yes" } else { "no" })])
            .send()
            .await
            .expect("consent")
            .text()
            .await
            .expect("html");
        let saml = between(&page, "name=\"SAMLResponse\" value=\"", "\"").expect("SAMLResponse");
        let relay = between(&page, "name=\"RelayState\" value=\"", "\"").expect("RelayState");
        (saml.to_owned(), relay.to_owned(), start.browser_nonce)
    }

    /// Links the account with eObčanka `card` (portal, consent, confirmation, the job) and
    /// returns the person's BSI.
    async fn link(&self, card: &str) -> String {
        self.link_as(self.account, "obcan", self.key, card).await
    }

    /// Links `account` (logged in with `key`) with eObčanka `card`; the person's BSI.
    async fn link_as(&self, account: i64, username: &str, key: i64, card: &str) -> String {
        let (saml, relay, browser) = self.portal_for(account, key, card, true).await;
        let (_, request) = self
            .idp
            .accept_nia_response(&saml, &relay, Some(&browser), &req())
            .await
            .expect("accepted");
        let bsi = request.registry.clone().expect("data").bsi;
        self.idp
            .confirm_pairing(
                &citizen(account, username, &self.fresh_with(key)),
                request.id,
            )
            .await
            .expect("confirm");
        self.idp.drive_pairings().await.expect("job");
        bsi
    }

    /// A staff account with `role`, logged in with a security key: its session and account id.
    async fn staff(
        &self,
        username: &str,
        role: Option<idp::staff::Role>,
    ) -> (idp::account::sessions::Session, i64) {
        let (account, _) = self
            .idp
            .create_account(username, PW, &req())
            .await
            .expect("staff account");
        if let Some(role) = role {
            self.idp.grant_role(username, role).await.expect("role");
        }
        let now = self.idp.clock.now();
        let session = idp::account::sessions::Session {
            account_id: account.id,
            username: username.into(),
            created_at: now,
            auth: vec![AuthRecord {
                method: AuthMethod::SecurityKey { id: 999 },
                at: now,
            }],
        };
        (session, account.id)
    }

    async fn state(&self) -> Option<State> {
        self.idp
            .current_pairing(self.account)
            .await
            .expect("pairing")
            .map(|p| p.state)
    }

    /// The ACS's rejects that nothing vouches for (counted, sampled into the audit log).
    fn acs_rejects(&self) -> u64 {
        self.idp
            .edge_counters()
            .rejected(idp::public_edge::Edge::NiaAcs)
    }

    async fn rejections(&self) -> i64 {
        let n: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_events WHERE event = 'nia.response.rejected'",
        )
        .fetch_one(&self.idp.db.pool)
        .await
        .expect("audit");
        n.0
    }

    async fn close(self) {
        self.idp.db.pool.close().await;
        self.db.drop_now().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

async fn on_both(test: impl Fn(World) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
    let w = world(TempDatabase::sqlite()).await;
    test(w).await;
    if let Some(db) = TempDatabase::postgres().await {
        let w = world(db).await;
        test(w).await;
    }
}

#[tokio::test]
async fn a_signed_response_links_the_account_and_cannot_be_replayed() {
    on_both(|w| {
        Box::pin(async move {
            let (saml, relay, browser) = w.portal("100000001", true).await;
            let (account, request) = w
                .idp
                .accept_nia_response(&saml, &relay, Some(&browser), &req())
                .await
                .expect("accepted");
            assert_eq!((account, request.state), (w.account, State::DataReceived));
            let data = request.registry.clone().expect("registry data");
            assert_eq!(
                (data.given_name.as_str(), data.street.as_deref()),
                ("Jana", Some("Květná"))
            );

            // the same response again: refused and counted (sampled into the audit log),
            // nothing changes
            let before = w.acs_rejects();
            let e = w
                .idp
                .accept_nia_response(&saml, &relay, Some(&browser), &req())
                .await
                .expect_err("replay");
            assert!(matches!(e, Error::NiaResponseInvalid), "{e:?}");
            assert_eq!(w.acs_rejects(), before + 1);
            assert_eq!(w.state().await, Some(State::DataReceived));

            w.idp
                .confirm_pairing(&citizen(w.account, "obcan", &w.fresh()), request.id)
                .await
                .expect("confirm");
            assert_eq!(w.state().await, Some(State::Completing));
            assert_eq!(w.idp.drive_pairings().await.expect("job"), 1);
            assert_eq!(w.state().await, Some(State::Completed));
            let link = w
                .idp
                .nia_link(w.account)
                .await
                .expect("link")
                .expect("linked");
            assert_eq!(link.key_ids, vec![w.key]);
            let profile = w.idp.profile(w.account).await.expect("profile");
            assert_eq!(profile.street.as_deref(), Some("Květná"));
            assert_eq!(w.sim.active_means(&data.bsi).len(), 1);

            // locked: the register's fields cannot be edited
            let mut input = idp::account::profile::ProfileInput {
                first_name: "Jana".into(),
                last_name: "Nováková".into(),
                birth_date: "14. 3. 1985".into(),
                street: "Jiná".into(),
                house_number: "12".into(),
                city: "Brno".into(),
                postcode: "60200".into(),
                country: "CZ".into(),
                organization: String::new(),
            };
            let e = w
                .idp
                .update_profile(w.account, "obcan", &input, &req())
                .await
                .expect_err("locked");
            assert!(
                matches!(&e, Error::Invalid(v) if v.iter().any(|f| f.field == "street")),
                "{e:?}"
            );
            input.street = "Květná".into();
            w.idp
                .update_profile(w.account, "obcan", &input, &req())
                .await
                .expect("unchanged fields save");

            // a registry change reaches the profile
            w.sim.update_citizen(
                "rob-1001",
                &nia_sim::CitizenPatch {
                    family_name: Some("Malá".into()),
                    ..Default::default()
                },
            );
            assert_eq!(w.idp.apply_registry_changes().await.expect("changes"), 1);
            assert_eq!(
                w.idp
                    .profile(w.account)
                    .await
                    .expect("profile")
                    .last_name
                    .as_deref(),
                Some("Malá")
            );
            assert_eq!(
                w.idp.apply_registry_changes().await.expect("changes"),
                0,
                "applied once"
            );

            // two changes of one person in one run: each is audited with its own fields
            w.sim.update_citizen(
                "rob-1001",
                &nia_sim::CitizenPatch {
                    given_name: Some("Johana".into()),
                    ..Default::default()
                },
            );
            w.sim.update_citizen(
                "rob-1001",
                &nia_sim::CitizenPatch {
                    city: Some("Olomouc".into()),
                    ..Default::default()
                },
            );
            assert_eq!(w.idp.apply_registry_changes().await.expect("changes"), 2);
            let profile = w.idp.profile(w.account).await.expect("profile");
            assert_eq!(profile.first_name.as_deref(), Some("Johana"));
            assert_eq!(profile.city.as_deref(), Some("Olomouc"));
            let fields: Vec<String> = w
                .idp
                .audit_for_account(w.account, 50)
                .await
                .expect("audit")
                .into_iter()
                .filter(|e| e.event == "nia.registry_changed")
                .map(|e| {
                    let d: serde_json::Value = serde_json::from_str(&e.details).expect("json");
                    d["fields"].to_string()
                })
                .collect();
            assert_eq!(
                fields,
                vec![
                    r#"["city"]"#.to_owned(),
                    r#"["first_name"]"#.to_owned(),
                    r#"["last_name"]"#.to_owned()
                ],
                "newest first, each change with only what it changed"
            );
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn tampered_late_and_foreign_responses_are_rejected_and_audited() {
    on_both(|w| {
        Box::pin(async move {
            let b64 = base64::engine::general_purpose::STANDARD;
            // tampered: a name changed after NIA signed it
            let (saml, relay, browser) = w.portal("100000001", true).await;
            let xml = String::from_utf8(b64.decode(&saml).expect("b64")).expect("utf8");
            assert!(xml.contains(">Jana<"));
            let forged = b64.encode(xml.replace(">Jana<", ">Jano<"));
            let e = w
                .idp
                .accept_nia_response(&forged, &relay, Some(&browser), &req())
                .await
                .expect_err("tampered");
            assert!(matches!(e, Error::NiaResponseInvalid), "{e:?}");
            // a forged answer in the right browser ends the request, with nothing stored
            let p = w
                .idp
                .current_pairing(w.account)
                .await
                .expect("p")
                .expect("request");
            assert_eq!(
                (p.state, p.outcome.as_deref(), p.registry),
                (State::Failed, Some("invalid_response"), None)
            );

            // late: ten minutes after NIA issued it
            w.idp.clock.advance(600);
            let e = w
                .idp
                .accept_nia_response(&saml, &relay, Some(&browser), &req())
                .await
                .expect_err("expired");
            assert!(matches!(e, Error::NiaResponseInvalid), "{e:?}");
            w.idp.clock.advance(-600);

            // for another request: a RelayState nobody issued
            let e = w
                .idp
                .accept_nia_response(&saml, "not-a-relay-state", Some(&browser), &req())
                .await
                .expect_err("unknown relay");
            assert!(matches!(e, Error::NiaResponseInvalid), "{e:?}");

            // an answer to an earlier request of the same account does not fit a new one
            let (old_saml, _) = (saml.clone(), relay.clone());
            let (_, new_relay, new_browser) = w.portal("100000001", true).await;
            let e = w
                .idp
                .accept_nia_response(&old_saml, &new_relay, Some(&new_browser), &req())
                .await
                .expect_err("other request");
            assert!(matches!(e, Error::NiaResponseInvalid), "{e:?}");
            // the late answer and the unknown RelayState are counted and sampled, not rows of
            // their own; the forged and the foreign answer are audited each
            assert!(w.rejections().await >= 2);
            assert_eq!(w.acs_rejects(), 2);

            // refused consent cancels the request
            let (saml, relay, browser) = w.portal("100000001", false).await;
            let (_, r) = w
                .idp
                .accept_nia_response(&saml, &relay, Some(&browser), &req())
                .await
                .expect("a signed refusal");
            assert_eq!(
                (r.state, r.outcome.as_deref()),
                (State::Cancelled, Some("consent_refused"))
            );
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn an_outage_keeps_the_request_and_a_crash_between_calls_resumes() {
    on_both(|w| {
        Box::pin(async move {
            let (saml, relay, browser) = w.portal("100000001", true).await;
            let (_, request) = w
                .idp
                .accept_nia_response(&saml, &relay, Some(&browser), &req())
                .await
                .expect("accepted");
            let bsi = request.registry.clone().expect("data").bsi;

            // outage: back to waiting, with the reason, data kept
            w.sim.set_outage(true);
            w.idp
                .confirm_pairing(&citizen(w.account, "obcan", &w.fresh()), request.id)
                .await
                .expect("confirm");
            assert_eq!(w.idp.drive_pairings().await.expect("job"), 0);
            let r = w
                .idp
                .current_pairing(w.account)
                .await
                .expect("p")
                .expect("request");
            assert_eq!(
                (r.state, r.outcome.as_deref()),
                (State::DataReceived, Some("nia_unavailable"))
            );
            assert!(r.registry.is_some());
            w.sim.set_outage(false);

            // confirmed again; the server dies after NIA registered the means but before it
            // recorded anything: a new process on the same database finishes the job
            w.idp
                .confirm_pairing(&citizen(w.account, "obcan", &w.fresh()), request.id)
                .await
                .expect("confirm");
            w.idp
                .nia()
                .expect("nia")
                .register_means(&bsi, &format!("mojeid-key-{}", w.key))
                .await
                .expect("registered before the crash");
            let url = w.db.url.clone();
            let restarted = Idp::new(
                Db::connect(&url, 2).await.expect("db"),
                idp::account::password::Hasher::new(1, 4).expect("hasher"),
                Clock::manual(w.idp.clock.now()),
                Policy::default(),
            );
            restarted.set_nia(
                w.idp
                    .nia()
                    .map(|c| {
                        NiaClient::new(
                            c.config.clone(),
                            load_sp_identity(&w.dir.join("sp"), false).expect("sp").0,
                            load_sp_identity(&w.dir.join("sp"), false).expect("sp").1,
                        )
                        .expect("client")
                    })
                    .expect("client"),
            );
            assert_eq!(restarted.drive_pairings().await.expect("job"), 1);
            assert_eq!(w.state().await, Some(State::Completed));
            assert_eq!(
                w.sim.active_means(&bsi).len(),
                1,
                "the means is not registered twice"
            );
            restarted.db.pool.close().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn removing_the_last_nia_key_deactivates_it_at_nia_and_ends_the_link_but_not_during_an_outage(
) {
    on_both(|w| {
        Box::pin(async move {
            let bsi = w.link("100000003").await;
            assert!(w.idp.nia_link(w.account).await.expect("link").is_some());
            assert!(w.idp.security_keys(w.account).await.expect("keys")[0].nia_linked);

            // outage: refused with the help page's message, and nothing changes on either side
            // a key linked to NIA needs a login made for removing it, however recent the last
            for proof in [
                None,
                Some(w.login_for(w.account, Action::Detach)),
                Some(w.login_for(w.account, Action::RemoveKey(w.key + 1))),
            ] {
                let e = w
                    .idp
                    .remove_key(
                        &citizen(w.account, "obcan", &w.fresh()),
                        w.key,
                        proof.as_ref(),
                    )
                    .await
                    .expect_err("no login for it");
                assert!(matches!(e, Error::ActionLoginRequired), "{e:?}");
            }
            let proof = w.login_for(w.account, Action::RemoveKey(w.key));
            w.sim.set_outage(true);
            let e = w
                .idp
                .remove_key(
                    &citizen(w.account, "obcan", &w.fresh()),
                    w.key,
                    Some(&proof),
                )
                .await
                .expect_err("outage");
            assert!(matches!(e, Error::CannotDisableAuthenticator), "{e:?}");
            w.sim.set_outage(false);
            assert_eq!(w.idp.security_keys(w.account).await.expect("keys").len(), 1);
            assert_eq!(w.sim.active_means(&bsi).len(), 1);
            assert!(w.idp.nia_link(w.account).await.expect("link").is_some());

            // NIA back: deactivated there, removed here, and the link ends with the last means
            w.idp
                .remove_key(
                    &citizen(w.account, "obcan", &w.fresh()),
                    w.key,
                    Some(&proof),
                )
                .await
                .expect("removed");
            assert!(w.sim.active_means(&bsi).is_empty());
            assert!(w.idp.nia_link(w.account).await.expect("link").is_none());
            w.close().await;
        })
    })
    .await;
}

async fn outbox_to(idp: &Idp, to: &str) -> usize {
    idp.outbox_recent(100)
        .await
        .expect("outbox")
        .iter()
        .filter(|m| m.recipient == to)
        .count()
}

#[tokio::test]
async fn czech_point_deliveries_match_by_code_once_and_the_rest_is_kept_for_support() {
    on_both(|w| {
        Box::pin(async move {
            let r = w
                .idp
                .start_czech_point(&citizen(w.account, "obcan", &w.fresh()))
                .await
                .expect("request");
            assert_eq!(r.state, State::AwaitingOffice);
            assert_eq!(
                idp::nia::pairing::code::normalize(&r.code).as_deref(),
                Some(r.code.as_str())
            );
            let mails = outbox_to(&w.idp, "jana@example.cz").await;

            // a code that matches nothing: kept, no e-mail, the request still waits
            w.sim
                .file_office_request("100000002", "NEJAKY-JINY-KOD")
                .expect("filed");
            // the office types the code in lower case with spaces: still ours
            let typed = r.code.replace('-', " ").to_lowercase();
            let filed = w
                .sim
                .file_office_request("100000001", &typed)
                .expect("filed");
            // during an outage the register's delivery waits in its queue
            w.sim.set_outage(true);
            assert_eq!(w.sim.release_queue().await, (0, 2));
            w.sim.set_outage(false);
            assert_eq!(w.sim.release_queue().await, (2, 0));

            let p = w
                .idp
                .current_pairing(w.account)
                .await
                .expect("p")
                .expect("request");
            assert_eq!(p.state, State::DataReceived);
            assert_eq!(
                p.registry.as_ref().map(|d| d.family_name.as_str()),
                Some("Nováková")
            );
            assert_eq!(
                outbox_to(&w.idp, "jana@example.cz").await,
                mails + 1,
                "one e-mail"
            );
            let kept = w.idp.office_deliveries(None, 10).await.expect("deliveries");
            let statuses: Vec<&str> = kept.iter().map(|d| d.status.as_str()).collect();
            assert!(
                statuses.contains(&"unmatched") && statuses.contains(&"matched"),
                "{statuses:?}"
            );

            // the same message again changes nothing
            assert!(
                w.sim
                    .redeliver(&filed.message_id, "100000001", &typed)
                    .await
            );
            assert_eq!(w.idp.office_deliveries(None, 10).await.expect("d").len(), 2);
            assert_eq!(outbox_to(&w.idp, "jana@example.cz").await, mails + 1);

            // finishing during an outage: the processed request is kept, not cancelled
            w.sim.set_outage(true);
            w.idp
                .confirm_pairing(&citizen(w.account, "obcan", &w.fresh()), p.id)
                .await
                .expect("confirm");
            assert_eq!(w.idp.drive_pairings().await.expect("job"), 0);
            let kept = w
                .idp
                .current_pairing(w.account)
                .await
                .expect("p")
                .expect("request");
            assert_eq!(
                (kept.state, kept.outcome.as_deref()),
                (State::DataReceived, Some("nia_unavailable"))
            );
            w.sim.set_outage(false);

            // finishing: NIA matches the person by the register's data
            w.idp
                .confirm_pairing(&citizen(w.account, "obcan", &w.fresh()), p.id)
                .await
                .expect("confirm");
            assert_eq!(w.idp.drive_pairings().await.expect("job"), 1);
            let link = w.idp.nia_link(w.account).await.expect("l").expect("linked");
            assert_eq!(link.method, idp::nia::pairing::Method::CzechPoint);
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn czech_point_requests_are_reminded_then_expire_and_late_data_is_kept_without_mail() {
    on_both(|w| {
        Box::pin(async move {
            let r = w
                .idp
                .start_czech_point(&citizen(w.account, "obcan", &w.fresh()))
                .await
                .expect("request");
            let mails = outbox_to(&w.idp, "jana@example.cz").await;
            assert_eq!(
                w.idp.remind_office_requests().await.expect("remind"),
                0,
                "not yet"
            );
            w.idp.clock.advance(26 * 24 * 3600);
            assert_eq!(w.idp.remind_office_requests().await.expect("remind"), 1);
            assert_eq!(
                w.idp.remind_office_requests().await.expect("remind"),
                0,
                "once"
            );
            assert_eq!(outbox_to(&w.idp, "jana@example.cz").await, mails + 1);
            w.idp.clock.advance(5 * 24 * 3600);
            assert_eq!(w.idp.expire_pairings().await.expect("expire"), 1);
            let p = w
                .idp
                .current_pairing(w.account)
                .await
                .expect("p")
                .expect("r");
            assert_eq!(
                (p.state, p.outcome.as_deref()),
                (State::Cancelled, Some("expired"))
            );

            w.sim
                .file_office_request("100000001", &r.code)
                .expect("filed");
            assert_eq!(w.sim.release_queue().await, (1, 0));
            let kept = w
                .idp
                .office_deliveries(Some(&r.code), 10)
                .await
                .expect("deliveries");
            assert_eq!(kept.len(), 1);
            assert_eq!(kept[0].status, "too_late");
            assert_eq!(
                outbox_to(&w.idp, "jana@example.cz").await,
                mails + 1,
                "no e-mail for late data"
            );
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn a_delivery_that_is_not_signed_by_the_register_is_refused() {
    on_both(|w| {
        Box::pin(async move {
            let xml = r#"<rob:Doruceni xmlns:rob="urn:cz:isvs:rob:schemas:PoskytnutiUdajuJineOsobe:v1" ID="_x"><rob:PodaniId>1</rob:PodaniId><rob:ZpravaProPrijemce>X</rob:ZpravaProPrijemce></rob:Doruceni>"#;
            let e = w.idp.accept_office_delivery(xml, &req()).await.expect_err("unsigned");
            assert!(matches!(e, Error::NiaResponseInvalid), "{e:?}");
            assert!(w.idp.office_deliveries(None, 10).await.expect("d").is_empty(), "nothing stored");
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn detaching_deactivates_every_means_keeps_the_keys_and_validation_and_is_refused_during_an_outage(
) {
    on_both(|w| {
        Box::pin(async move {
            let bsi = w.link("100000001").await;

            w.sim.set_outage(true);
            let e = w
                .idp
                .detach_nia(
                    w.account,
                    "obcan",
                    Some(&w.login_for(w.account, Action::Detach)),
                    &req(),
                )
                .await
                .expect_err("outage");
            assert!(matches!(e, Error::CannotDisableAuthenticator), "{e:?}");
            w.sim.set_outage(false);
            assert!(
                w.idp.nia_link(w.account).await.expect("l").is_some(),
                "nothing changed"
            );
            assert_eq!(w.sim.active_means(&bsi).len(), 1);

            // only a new login made for detaching, and only for a few minutes
            let old = w.login_for(w.account, Action::Detach);
            w.idp.clock.advance(400);
            for proof in [
                None,
                Some(old),
                Some(w.login_for(w.account, Action::RemoveKey(w.key))),
                Some(w.login_for(w.account + 1, Action::Detach)),
            ] {
                let e = w
                    .idp
                    .detach_nia(w.account, "obcan", proof.as_ref(), &req())
                    .await
                    .expect_err("no login for it");
                assert!(matches!(e, Error::ActionLoginRequired), "{e:?}");
            }

            w.idp
                .detach_nia(
                    w.account,
                    "obcan",
                    Some(&w.login_for(w.account, Action::Detach)),
                    &req(),
                )
                .await
                .expect("detached");
            assert!(w.idp.nia_link(w.account).await.expect("l").is_none());
            assert!(w.sim.active_means(&bsi).is_empty());
            assert_eq!(
                w.idp.security_keys(w.account).await.expect("keys").len(),
                1,
                "keys stay"
            );
            let validated: (Option<i64>,) =
                sqlx::query_as("SELECT validated_at FROM accounts WHERE id = $1")
                    .bind(w.account)
                    .fetch_one(&w.idp.db.pool)
                    .await
                    .expect("account");
            assert!(validated.0.is_some(), "stays validated");
            let events: Vec<String> = w
                .idp
                .security_events(w.account, 50)
                .await
                .expect("events")
                .into_iter()
                .map(|e| e.event)
                .collect();
            assert!(
                events.contains(&"nia.unlinked".to_owned())
                    && events.contains(&"nia.linked".to_owned()),
                "{events:?}"
            );
            w.close().await;
        })
    })
    .await;
}

/// The newest message of the outbox to `to`.
async fn last_message(idp: &Idp, to: &str) -> String {
    idp.outbox_recent(100)
        .await
        .expect("outbox")
        .into_iter()
        .find(|m| m.recipient == to)
        .map(|m| m.body)
        .expect("a message")
}

fn pin_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit PIN")
        .to_owned()
}

#[tokio::test]
async fn a_2fa_reset_needs_the_control_code_both_pins_and_the_password_and_unlinks_from_nia() {
    on_both(|w| {
        Box::pin(async move {
            let bsi = w.link("100000001").await;

            // a wrong control code sends nothing
            let (ticket, _code) = w.idp.new_control_code().await.expect("control");
            let e = w
                .idp
                .start_2fa_reset("obcan", &ticket, "WRONG1", &req())
                .await
                .expect_err("control");
            assert!(matches!(e, Error::Invalid(_)), "{e:?}");
            // an unknown account gets a ticket too (no enumeration), which never works
            let (t, c) = w.idp.new_control_code().await.expect("control");
            let ghost = w
                .idp
                .start_2fa_reset("nikdo", &t, &c, &req())
                .await
                .expect("same answer");
            assert!(w
                .idp
                .finish_2fa_reset(&ghost, "000000", "000000", PW, &req())
                .await
                .is_err());

            let (t, c) = w.idp.new_control_code().await.expect("control");
            let reset = w
                .idp
                .start_2fa_reset("obcan", &t, &c.to_lowercase(), &req())
                .await
                .expect("started");
            let pin1 = pin_in(&last_message(&w.idp, "jana@example.cz").await);
            let pin2 = pin_in(&last_message(&w.idp, "+420777000111").await);
            // the control code is single-use
            assert!(w
                .idp
                .start_2fa_reset("obcan", &t, &c, &req())
                .await
                .is_err());
            // PINs swapped, or the wrong password: refused
            assert!(w
                .idp
                .finish_2fa_reset(&reset, &pin2, &pin1, PW, &req())
                .await
                .is_err());
            assert!(w
                .idp
                .finish_2fa_reset(&reset, &pin1, &pin2, "wrong password here", &req())
                .await
                .is_err());

            // during an NIA outage: "Cannot disable authenticator." and nothing changes
            w.sim.set_outage(true);
            let e = w
                .idp
                .finish_2fa_reset(&reset, &pin1, &pin2, PW, &req())
                .await
                .expect_err("outage");
            assert!(matches!(e, Error::CannotDisableAuthenticator), "{e:?}");
            w.sim.set_outage(false);
            assert_eq!(w.idp.security_keys(w.account).await.expect("k").len(), 1);
            assert!(w.idp.nia_link(w.account).await.expect("l").is_some());

            w.idp
                .finish_2fa_reset(&reset, &pin1, &pin2, PW, &req())
                .await
                .expect("reset");
            assert!(w.idp.security_keys(w.account).await.expect("k").is_empty());
            assert!(w.idp.nia_link(w.account).await.expect("l").is_none());
            assert!(w.sim.active_means(&bsi).is_empty());
            assert!(last_message(&w.idp, "+420777000111")
                .await
                .contains("zruseno"));
            // used: the same PINs do nothing more
            assert!(w
                .idp
                .finish_2fa_reset(&reset, &pin1, &pin2, PW, &req())
                .await
                .is_err());
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn guessing_pins_is_cut_off_after_five_attempts() {
    on_both(|w| {
        Box::pin(async move {
            let (t, c) = w.idp.new_control_code().await.expect("control");
            let reset = w.idp.start_2fa_reset("obcan", &t, &c, &req()).await.expect("started");
            let pin1 = pin_in(&last_message(&w.idp, "jana@example.cz").await);
            let pin2 = pin_in(&last_message(&w.idp, "+420777000111").await);
            for _ in 0..5 {
                assert!(w.idp.finish_2fa_reset(&reset, "111111", "222222", PW, &req()).await.is_err());
            }
            let e = w.idp.finish_2fa_reset(&reset, &pin1, &pin2, PW, &req()).await.expect_err("exhausted");
            assert!(matches!(&e, Error::Invalid(v) if v[0].violation == idp::Violation::CodeAttemptsExhausted), "{e:?}");
            assert_eq!(w.idp.security_keys(w.account).await.expect("k").len(), 1);
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn the_helpdesk_unlinks_after_a_full_identity_check_and_queues_it_during_an_outage() {
    use idp::account::sessions::Session;
    use idp::recovery::helpdesk::IdentityAnswers;
    use idp::staff::Role;
    on_both(|w| {
        Box::pin(async move {
            let bsi = w.link("100000001").await;

            let (staff, _) = w
                .idp
                .create_account("podpora", PW, &req())
                .await
                .expect("staff");
            let now = w.idp.clock.now();
            let with_key = Session {
                account_id: staff.id,
                username: "podpora".into(),
                created_at: now,
                auth: vec![
                    AuthRecord {
                        method: AuthMethod::Password,
                        at: now,
                    },
                    AuthRecord {
                        method: AuthMethod::SecurityKey { id: 999 },
                        at: now,
                    },
                ],
            };
            let citizen = Session {
                account_id: w.account,
                username: "obcan".into(),
                created_at: now,
                auth: w.fresh(),
            };
            let right = IdentityAnswers {
                first_name: "jana".into(),
                last_name: "Nováková".into(),
                birth_date: "1985-03-14".into(),
                street: "Květná".into(),
                house_number: "12".into(),
                city: "Brno".into(),
                postcode: "60200".into(),
                email: "jana@example.cz".into(),
                phone: "777 000 111".into(),
            };

            // a citizen, or staff without a key login, cannot
            assert!(matches!(
                w.idp
                    .check_identity(&citizen, w.account, &right, &req())
                    .await,
                Err(Error::Forbidden)
            ));
            w.idp
                .grant_role("podpora", Role::Helpdesk)
                .await
                .expect("role");
            let password_only = Session {
                auth: vec![AuthRecord {
                    method: AuthMethod::Password,
                    at: now,
                }],
                ..with_key.clone()
            };
            assert!(matches!(
                w.idp
                    .check_identity(&password_only, w.account, &right, &req())
                    .await,
                Err(Error::Forbidden)
            ));
            // an auditor may not unlink
            assert!(matches!(
                w.idp.staff(&with_key, &[Role::Auditor]).await,
                Err(Error::Forbidden)
            ));

            // wrong answers: recorded, no unlink
            let wrong = IdentityAnswers {
                birth_date: "1985-03-15".into(),
                ..right.clone()
            };
            let r = w
                .idp
                .check_identity(&with_key, w.account, &wrong, &req())
                .await
                .expect("check");
            assert_eq!(r.missed, vec!["birth_date".to_owned()]);
            assert!(matches!(
                w.idp.helpdesk_unlink(&with_key, w.account, &req()).await,
                Err(Error::Forbidden)
            ));

            let r = w
                .idp
                .check_identity(&with_key, w.account, &right, &req())
                .await
                .expect("check");
            assert!(r.all(), "{r:?}");

            // outage: refused, queued, run when NIA is back
            w.sim.set_outage(true);
            assert!(matches!(
                w.idp.helpdesk_unlink(&with_key, w.account, &req()).await,
                Err(Error::CannotDisableAuthenticator)
            ));
            w.idp
                .queue_unlink(&with_key, w.account, &req())
                .await
                .expect("queued");
            let link_base = "https://mojeid.test";
            assert_eq!(w.idp.drive_queued_work(link_base).await.expect("job"), 0);
            assert!(w.idp.nia_link(w.account).await.expect("l").is_some());
            // the job waits, and tries again after a pause
            let (state, error): (String, Option<String>) =
                sqlx::query_as("SELECT state, last_error FROM jobs WHERE kind = 'helpdesk_unlink'")
                    .fetch_one(&w.idp.db.pool)
                    .await
                    .expect("job");
            assert_eq!(
                (state.as_str(), error.as_deref()),
                ("due", Some("NIA unavailable"))
            );
            w.sim.set_outage(false);
            assert_eq!(
                w.idp.drive_queued_work(link_base).await.expect("job"),
                0,
                "not before its pause"
            );
            w.idp.clock.advance(600);
            assert_eq!(w.idp.drive_queued_work(link_base).await.expect("job"), 1);
            assert!(w.idp.nia_link(w.account).await.expect("l").is_none());
            assert!(w.sim.active_means(&bsi).is_empty());
            assert_eq!(
                w.idp.security_keys(w.account).await.expect("k").len(),
                1,
                "the second factor stays"
            );
            // the notice every end of a link gets: what, when, and what to do if not asked for
            let mail = last_message(&w.idp, "jana@example.cz").await;
            assert!(mail.contains("unlinked from NIA"), "{mail}");
            assert!(
                mail.contains("When: ") && mail.contains("If not:"),
                "{mail}"
            );
            let reasons: Vec<String> = sqlx::query_as::<_, (String,)>(
                "SELECT details FROM audit_events WHERE account_id = $1 AND event = 'nia.unlinked'",
            )
            .bind(w.account)
            .fetch_all(&w.idp.db.pool)
            .await
            .expect("audit")
            .into_iter()
            .map(|r| r.0)
            .collect();
            assert!(
                reasons.iter().any(|d| d.contains("\"helpdesk_queued\"")),
                "{reasons:?}"
            );
            // the citizen sees that staff acted, not who
            let events = w.idp.security_events(w.account, 50).await.expect("events");
            let checked = events
                .iter()
                .find(|e| e.event == "helpdesk.identity_checked")
                .expect("the check");
            assert_eq!(checked.actor, "staff");
            assert!(events.iter().all(|e| e.actor != "podpora"));

            // a queued unlink whose link ended another way is settled: it never ends a link
            // made later (the clock back where NIA's is, for its answers)
            w.idp.clock.advance(-600);
            w.link("100000001").await;
            let now = w.idp.clock.now();
            let staff_now = Session {
                created_at: now,
                auth: vec![
                    AuthRecord {
                        method: AuthMethod::Password,
                        at: now,
                    },
                    AuthRecord {
                        method: AuthMethod::SecurityKey { id: 999 },
                        at: now,
                    },
                ],
                ..with_key.clone()
            };
            w.idp
                .check_identity(&staff_now, w.account, &right, &req())
                .await
                .expect("check");
            w.sim.set_outage(true);
            w.idp
                .queue_unlink(&staff_now, w.account, &req())
                .await
                .expect("queued");
            w.sim.set_outage(false);
            w.idp
                .end_link(
                    w.account,
                    "obcan",
                    idp::nia::unlink::Reason::Detached,
                    &req(),
                )
                .await
                .expect("detached by the citizen");
            let later = w.link("100000001").await;
            w.idp.clock.advance(60);
            assert_eq!(w.idp.drive_queued_work(link_base).await.expect("job"), 0);
            assert!(
                w.idp.nia_link(w.account).await.expect("l").is_some(),
                "the later link stays"
            );
            assert!(!w.sim.active_means(&later).is_empty());
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn auditors_see_every_account_filtered_and_nobody_else_does() {
    use idp::account::sessions::Session;
    use idp::audit::AuditFilter;
    use idp::staff::Role;
    on_both(|w| {
        Box::pin(async move {
            let (saml, relay, browser) = w.portal("100000001", true).await;
            w.idp
                .accept_nia_response(&saml, &relay, Some(&browser), &req())
                .await
                .expect("accepted");
            let (auditor, _) = w
                .idp
                .create_account("auditor", PW, &req())
                .await
                .expect("auditor");
            let now = w.idp.clock.now();
            let session = Session {
                account_id: auditor.id,
                username: "auditor".into(),
                created_at: now,
                auth: vec![AuthRecord {
                    method: AuthMethod::SecurityKey { id: 1 },
                    at: now,
                }],
            };
            let all = AuditFilter::default();
            assert!(matches!(
                w.idp.audit_search(&session, &all, 50).await,
                Err(Error::Forbidden)
            ));
            w.idp
                .grant_role("auditor", Role::Helpdesk)
                .await
                .expect("role");
            assert!(
                matches!(
                    w.idp.audit_search(&session, &all, 50).await,
                    Err(Error::Forbidden)
                ),
                "helpdesk is not auditor"
            );
            w.idp
                .grant_role("auditor", Role::Auditor)
                .await
                .expect("role");

            let rows = w.idp.audit_search(&session, &all, 500).await.expect("all");
            assert!(rows.iter().any(|r| r.account.as_deref() == Some("obcan")));
            assert!(rows.iter().any(|r| r.account.as_deref() == Some("auditor")));
            let nia = w
                .idp
                .audit_search(
                    &session,
                    &AuditFilter {
                        username: Some("OBCAN".into()),
                        event: Some("nia.".into()),
                        ..Default::default()
                    },
                    500,
                )
                .await
                .expect("filtered");
            assert!(!nia.is_empty());
            assert!(
                nia.iter()
                    .all(|r| r.account.as_deref() == Some("obcan") && r.event.starts_with("nia.")),
                "{nia:?}"
            );
            let none = w
                .idp
                .audit_search(
                    &session,
                    &AuditFilter {
                        from: Some(now + 3600),
                        ..Default::default()
                    },
                    500,
                )
                .await
                .expect("future");
            assert!(none.is_empty());
            w.close().await;
        })
    })
    .await;
}

fn violation(r: Result<impl std::fmt::Debug, Error>, field: &str) -> idp::Violation {
    match r {
        Err(Error::Invalid(v)) => v
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.violation.clone())
            .unwrap_or_else(|| panic!("no violation of {field} in {v:?}")),
        other => panic!("expected a violation of {field}, got {other:?}"),
    }
}

#[tokio::test]
async fn the_back_office_resets_the_login_on_a_paper_form_and_queues_it_during_an_outage() {
    use idp::recovery::paper_reset::FormState;
    use idp::staff::Role;
    use idp::Violation;
    const PDF: &[u8] = b"%PDF-1.4\n% the verified form\n";
    on_both(|w| {
        Box::pin(async move {
            let bsi = w.link("100000001").await;
            assert_eq!(w.sim.active_means(&bsi).len(), 1);

            // the helpdesk cannot reach the back office's actions
            let (staff, _) = w.staff("referent", Some(Role::Helpdesk)).await;
            assert!(matches!(
                w.idp
                    .record_paper_form(&staff, w.account, "ZR-1", PDF, &req())
                    .await,
                Err(Error::Forbidden)
            ));
            w.idp
                .grant_role("referent", Role::BackOffice)
                .await
                .expect("role");

            // bad input: each field told, nothing stored
            let r = w
                .idp
                .record_paper_form(&staff, w.account, " ", b"GIF89a", &req())
                .await;
            assert_eq!(violation(r, "reference"), Violation::Required);
            let r = w
                .idp
                .record_paper_form(&staff, w.account, "ZR 1", b"GIF89a", &req())
                .await;
            assert_eq!(violation(r, "scan"), Violation::FileType);
            let big = [PDF, &vec![b'x'; idp::recovery::paper_reset::SCAN_MAX_BYTES]].concat();
            let r = w
                .idp
                .record_paper_form(&staff, w.account, "ZR-1", &big, &req())
                .await;
            assert_eq!(violation(r, "scan"), Violation::FileTooLarge { max_mb: 10 });
            assert!(w
                .idp
                .paper_forms(&staff, w.account)
                .await
                .expect("forms")
                .is_empty());

            let form = w
                .idp
                .record_paper_form(&staff, w.account, " zr-2026/0042 ", PDF, &req())
                .await
                .expect("recorded");
            let r = w
                .idp
                .record_paper_form(&staff, w.account, "ZR-2026/0042", PDF, &req())
                .await;
            assert_eq!(violation(r, "reference"), Violation::ReferenceTaken);
            let forms = w.idp.paper_forms(&staff, w.account).await.expect("forms");
            assert_eq!(forms.len(), 1);
            assert_eq!(forms[0].reference, "ZR-2026/0042");
            assert_eq!(forms[0].recorded_by, "referent");
            assert_eq!(forms[0].state, FormState::Recorded);
            let (_, kind, scan) = w
                .idp
                .paper_form_scan(&staff, form, &req())
                .await
                .expect("scan");
            assert_eq!((kind.as_str(), scan.as_slice()), ("application/pdf", PDF));

            // outage: refused and nothing changes; queued; runs when NIA is back
            w.sim.set_outage(true);
            assert!(matches!(
                w.idp
                    .reset_login(&staff, form, "https://mojeid.test", &req())
                    .await,
                Err(Error::CannotDisableAuthenticator)
            ));
            assert_eq!(w.idp.security_keys(w.account).await.expect("k").len(), 1);
            assert!(w.idp.nia_link(w.account).await.expect("l").is_some());
            w.idp
                .queue_login_reset(&staff, form, &req())
                .await
                .expect("queued");
            assert_eq!(
                w.idp
                    .drive_queued_work("https://mojeid.test")
                    .await
                    .expect("job"),
                0
            );
            w.sim.set_outage(false);
            // the retry's pause (seconds; the staff's key login stays fresh)
            w.idp.clock.advance(30);
            assert_eq!(
                w.idp
                    .drive_queued_work("https://mojeid.test")
                    .await
                    .expect("job"),
                1
            );
            // done once: the job and a second reset find nothing to do
            w.idp.clock.advance(30);
            assert_eq!(
                w.idp
                    .drive_queued_work("https://mojeid.test")
                    .await
                    .expect("job"),
                0
            );
            assert!(matches!(
                w.idp
                    .reset_login(&staff, form, "https://mojeid.test", &req())
                    .await,
                Err(Error::Conflict)
            ));
            let forms = w.idp.paper_forms(&staff, w.account).await.expect("forms");
            assert_eq!(forms[0].state, FormState::Done);

            // exactly as the help page says: second factors and the NIA link gone, at NIA too
            assert!(w.idp.security_keys(w.account).await.expect("k").is_empty());
            assert!(w.idp.nia_link(w.account).await.expect("l").is_none());
            assert!(w.sim.active_means(&bsi).is_empty());
            // the account waits for a new password; the old one no longer works
            assert_eq!(
                w.idp.account(w.account).await.expect("a").state,
                idp::account::accounts::AccountState::LoginReset
            );
            assert!(matches!(
                w.idp
                    .login("obcan", PW, None, "https://mojeid.test", &req())
                    .await,
                Err(Error::BadCredentials)
            ));
            let mail = last_message(&w.idp, "jana@example.cz").await;
            assert!(mail.contains("ZR-2026/0042"), "{mail}");
            let token = between(&mail, "https://mojeid.test/password-reset?token=", "\n")
                .expect("a link")
                .to_owned();
            assert_eq!(
                w.idp.password_link_account(&token).await.expect("works"),
                "obcan"
            );
            let new = "dlouha veta kterou si Jana pamatuje z hor";
            let r = w
                .idp
                .finish_password_reset(&token, new, "jina veta", &req())
                .await;
            assert_eq!(violation(r, "confirmation"), Violation::PasswordsDiffer);
            let r = w
                .idp
                .finish_password_reset(&token, "heslo", "heslo", &req())
                .await;
            assert!(matches!(
                violation(r, "password"),
                Violation::TooShort { .. }
            ));
            w.idp
                .finish_password_reset(&token, new, new, &req())
                .await
                .expect("set");
            let r = w.idp.finish_password_reset(&token, new, new, &req()).await;
            assert_eq!(violation(r, "token"), Violation::LinkInvalid);
            let (_, step) = w
                .idp
                .login("obcan", new, None, "https://mojeid.test", &req())
                .await
                .expect("login with the new password");
            assert!(matches!(step, idp::keys::LoginStep::Done(_)));
            assert_eq!(
                w.idp.account(w.account).await.expect("a").state,
                idp::account::accounts::AccountState::Active
            );

            let events: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT event, actor, details FROM audit_events WHERE account_id = $1 ORDER BY id",
            )
            .bind(w.account)
            .fetch_all(&w.idp.db.pool)
            .await
            .expect("audit");
            let names: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
            for expected in [
                "backoffice.paper_form_recorded",
                "backoffice.login_reset_queued",
                "backoffice.paper_form_scan_viewed",
                "login.reset",
                "nia.unlinked",
                "password.reset",
            ] {
                assert!(names.contains(&expected), "{expected} in {names:?}");
            }
            let reset = events.iter().find(|e| e.0 == "login.reset").expect("reset");
            assert_eq!(reset.1, "job");
            assert!(reset.2.contains("ZR-2026/0042"));
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn a_password_link_expires_and_a_form_needs_a_verified_email() {
    use idp::staff::Role;
    use idp::Violation;
    on_both(|w| {
        Box::pin(async move {
            let (staff, clerk) = w.staff("referent", Some(Role::BackOffice)).await;
            // the clerk's own account has no verified e-mail: the link could not be sent
            let r = w
                .idp
                .record_paper_form(&staff, clerk, "ZR-7", b"%PDF-1.7", &req())
                .await;
            assert_eq!(violation(r, "reference"), Violation::NoVerifiedEmail);

            // not linked to NIA: the reset needs no NIA call
            let form = w
                .idp
                .record_paper_form(&staff, w.account, "ZR-8", b"\x89PNG\r\n\x1a\nscan", &req())
                .await
                .expect("recorded");
            w.idp
                .reset_login(&staff, form, "https://mojeid.test/", &req())
                .await
                .expect("reset");
            assert!(w.idp.security_keys(w.account).await.expect("k").is_empty());
            let mail = last_message(&w.idp, "jana@example.cz").await;
            let token = between(&mail, "https://mojeid.test/password-reset?token=", "\n")
                .expect("a link")
                .to_owned();
            w.idp
                .clock
                .advance(idp::recovery::paper_reset::LINK_TTL_SECS + 1);
            let r = w.idp.password_link_account(&token).await;
            assert_eq!(violation(r, "token"), Violation::LinkExpired);
            let r = w.idp.password_link_account("made-up").await;
            assert_eq!(violation(r, "token"), Violation::LinkInvalid);
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn a_login_reset_interrupted_after_nia_answered_is_finished_by_a_retry() {
    use idp::staff::Role;
    on_both(|w| {
        Box::pin(async move {
            let bsi = w.link("100000002").await;
            let (staff, _) = w.staff("referent", Some(Role::BackOffice)).await;
            let form = w
                .idp
                .record_paper_form(&staff, w.account, "ZR-9", b"%PDF-1.7", &req())
                .await
                .expect("recorded");
            // the process died after NIA deactivated the means and before anything was
            // recorded here: NIA has no active means, our database still has it and the link
            let means = w.sim.active_means(&bsi);
            assert_eq!(means.len(), 1);
            w.idp
                .nia()
                .expect("nia")
                .deactivate_means(&bsi, &means[0].id)
                .await
                .expect("deactivated at NIA");
            assert!(w.idp.nia_link(w.account).await.expect("l").is_some());

            // the back office presses the button again: the reset finishes, both sides agree
            w.idp
                .reset_login(&staff, form, "https://mojeid.test", &req())
                .await
                .expect("reset");
            assert!(w.sim.active_means(&bsi).is_empty());
            assert!(w.idp.nia_link(w.account).await.expect("l").is_none());
            let left: (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM nia_means WHERE account_id = $1")
                    .bind(w.account)
                    .fetch_one(&w.idp.db.pool)
                    .await
                    .expect("means");
            assert_eq!(left.0, 0);
            assert!(w.idp.security_keys(w.account).await.expect("k").is_empty());
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn an_nia_answer_brought_by_another_browser_links_nothing() {
    on_both(|w| {
        Box::pin(async move {
            // the attacker presses "Verify" and sends NIA's address to the victim, whose
            // browser has no nonce (or one of its own): the answer is refused, audited, and
            // the request still waits with no data
            let (saml, relay, browser) = w.portal("100000002", true).await;
            let before = w.acs_rejects();
            for other in [None, Some("a-nonce-of-another-browser")] {
                let e = w
                    .idp
                    .accept_nia_response(&saml, &relay, other, &req())
                    .await
                    .expect_err("another browser");
                assert!(matches!(e, Error::NiaOtherBrowser), "{e:?}");
            }
            assert_eq!(w.acs_rejects(), before + 2);
            let sampled: (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM audit_events WHERE event = 'public_edge.rejected' AND details LIKE '%another browser%'",
            )
            .fetch_one(&w.idp.db.pool)
            .await
            .expect("audit");
            assert_eq!(sampled.0, 1, "the first of the minute is in the audit log");
            let p = w
                .idp
                .current_pairing(w.account)
                .await
                .expect("p")
                .expect("request");
            assert_eq!((p.state, p.registry), (State::NiaLogin, None));

            // the browser that pressed "Verify" still gets its answer
            let (_, r) = w
                .idp
                .accept_nia_response(&saml, &relay, Some(&browser), &req())
                .await
                .expect("same browser");
            assert_eq!(r.state, State::DataReceived);
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn an_account_validated_as_one_person_is_never_offered_another_persons_data() {
    on_both(|w| {
        Box::pin(async move {
            // linked as Jana, then detached: the account stays validated as Jana
            w.link("100000001").await;
            w.idp
                .detach_nia(w.account, "obcan", Some(&w.login_for(w.account, Action::Detach)), &req())
                .await
                .expect("detached");
            // a login at NIA as Petr (another person's card, in the owner's own browser):
            // no data table, the request fails, nothing of Petr's is kept
            let (saml, relay, browser) = w.portal("100000002", true).await;
            let e = w
                .idp
                .accept_nia_response(&saml, &relay, Some(&browser), &req())
                .await
                .expect_err("another person");
            assert!(matches!(e, Error::NiaPersonMismatch), "{e:?}");
            let p = w.idp.current_pairing(w.account).await.expect("p");
            assert!(p.is_none_or(|p| p.registry.is_none() && p.state != State::DataReceived));
            let last: (String,) = sqlx::query_as(
                "SELECT outcome FROM pairing_requests WHERE account_id = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(w.account)
            .fetch_one(&w.idp.db.pool)
            .await
            .expect("request");
            assert_eq!(last.0, "person_mismatch");
            // Jana herself links again
            let (saml, relay, browser) = w.portal("100000001", true).await;
            let (_, r) = w
                .idp
                .accept_nia_response(&saml, &relay, Some(&browser), &req())
                .await
                .expect("the same person");
            assert_eq!(r.state, State::DataReceived);
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn a_czech_point_code_filed_by_somebody_else_brings_their_data_nowhere() {
    on_both(|w| {
        Box::pin(async move {
            // the account's profile names Jana; its code is filed for Petr (a victim handed
            // the attacker's printed document, or a code typed by mistake)
            let r = w
                .idp
                .start_czech_point(&citizen(w.account, "obcan", &w.fresh()))
                .await
                .expect("request");
            let started = w.idp.outbox_recent(10).await.expect("outbox");
            assert!(
                started.iter().any(|m| m.recipient == "jana@example.cz"
                    && m.body
                        .contains("Only the owner of this account may use the code")),
                "the e-mail says the code is the owner's alone"
            );
            w.sim
                .file_office_request("100000002", &r.code)
                .expect("filed");
            assert_eq!(w.sim.release_queue().await, (1, 0));
            let p = w
                .idp
                .current_pairing(w.account)
                .await
                .expect("p")
                .expect("request");
            assert_eq!(
                (p.state, p.outcome.as_deref(), p.registry),
                (State::Failed, Some("person_mismatch"), None),
                "the request ended without the register's data"
            );
            let kept = w.idp.office_deliveries(None, 10).await.expect("deliveries");
            assert_eq!(kept[0].status, "person_mismatch");
            let mail = last_message(&w.idp, "jana@example.cz").await;
            assert!(mail.contains("not the one your profile"), "{mail}");
            assert!(
                !mail.contains("Svoboda"),
                "the victim's data are not sent: {mail}"
            );
            let profile = w.idp.profile(w.account).await.expect("profile");
            assert_eq!(profile.last_name.as_deref(), Some("Nováková"));
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn the_contact_swap_chain_breaks_at_every_link() {
    use idp::account::contacts::ContactKind;
    use idp::outbox::Outgoing;
    on_both(|w| {
        Box::pin(async move {
            let compose = |code: &str| Outgoing {
                subject: "kód".into(),
                body: format!("Kód {code}"),
            };
            let now = w.idp.clock.now();
            let at = |method: AuthMethod, at: i64| AuthRecord { method, at };
            // 1. a session taken over an hour after its login cannot move the contacts
            let stale = [
                at(AuthMethod::Password, now - 3600),
                at(AuthMethod::SecurityKey { id: w.key }, now - 3600),
            ];
            // 2. nor can the password alone, on an account with a security key
            let password_only = [at(AuthMethod::Password, now)];
            for auth in [&stale[..], &password_only[..]] {
                let e = w
                    .idp
                    .start_contact_verification(
                        &citizen(w.account, "obcan", auth),
                        ContactKind::Email,
                        "attacker@evil.example",
                        compose,
                    )
                    .await
                    .expect_err("no fresh login");
                assert!(matches!(e, Error::StepUpRequired), "{e:?}");
            }
            assert_eq!(outbox_to(&w.idp, "attacker@evil.example").await, 0);

            // 3. with a fresh password + key login the change goes through, and the old
            //    addresses hear of it at once
            for (kind, address) in [
                (ContactKind::Email, "attacker@evil.example"),
                (ContactKind::Phone, "+420 608 000 999"),
            ] {
                w.idp
                    .start_contact_verification(
                        &citizen(w.account, "obcan", &w.fresh()),
                        kind,
                        address,
                        compose,
                    )
                    .await
                    .expect("code sent");
                let to = if kind == ContactKind::Email {
                    address.to_owned()
                } else {
                    "+420608000999".to_owned()
                };
                let code = pin_in(&last_message(&w.idp, &to).await);
                w.idp
                    .verify_contact(w.account, "obcan", kind, &code, &req())
                    .await
                    .expect("verified");
            }
            let to_old_email = last_message(&w.idp, "jana@example.cz").await;
            assert!(
                to_old_email.contains("changed to attacker@evil.example")
                    && to_old_email.contains("From: address 10.9.9.9")
                    && to_old_email.contains("If not:"),
                "{to_old_email}"
            );
            let to_old_phone = last_message(&w.idp, "+420777000111").await;
            assert!(
                to_old_phone.contains("telefon uctu byl zmenen na +420 *** *** 999"),
                "{to_old_phone}"
            );

            // 4. the 2FA reset sends no PIN to the new addresses during the cooling-off
            let (t, c) = w.idp.new_control_code().await.expect("control");
            let reset = w
                .idp
                .start_2fa_reset("obcan", &t, &c, &req())
                .await
                .expect("the page answers as always");
            let to_new_phone = last_message(&w.idp, "+420608000999").await;
            assert!(!to_new_phone.contains("PIN2"), "{to_new_phone}");
            let to_new_email = last_message(&w.idp, "attacker@evil.example").await;
            assert!(
                to_new_email.contains("not possible yet")
                    || to_new_email.contains("can be sent from"),
                "{to_new_email}"
            );
            assert!(w
                .idp
                .finish_2fa_reset(&reset, "000000", "000000", PW, &req())
                .await
                .is_err());
            assert_eq!(w.idp.security_keys(w.account).await.expect("k").len(), 1);
            // and asking again and again does not flood the account with notices: three an
            // hour, as for real resets
            for _ in 0..2 {
                let (t, c) = w.idp.new_control_code().await.expect("control");
                w.idp
                    .start_2fa_reset("obcan", &t, &c, &req())
                    .await
                    .expect("the page answers as always");
            }
            let (t, c) = w.idp.new_control_code().await.expect("control");
            assert!(w
                .idp
                .start_2fa_reset("obcan", &t, &c, &req())
                .await
                .is_err());

            // 5. after the cooling-off (the owner who really moved house), it works
            w.idp.clock.advance(72 * 3600 + 1);
            let (t, c) = w.idp.new_control_code().await.expect("control");
            w.idp
                .start_2fa_reset("obcan", &t, &c, &req())
                .await
                .expect("started");
            assert!(last_message(&w.idp, "+420608000999").await.contains("PIN2"));
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn reset_guesses_are_throttled_per_address_before_hashing_and_counted_atomically() {
    on_both(|w| {
        Box::pin(async move {
            // a flood of unknown tickets from one address: after ten, refused outright
            for i in 0..10 {
                let e = w
                    .idp
                    .finish_2fa_reset(&format!("forged-{i}"), "1", "2", "x", &req())
                    .await
                    .expect_err("unknown");
                assert!(matches!(e, Error::Invalid(_)), "{e:?}");
            }
            let e = w
                .idp
                .finish_2fa_reset("forged-10", "1", "2", "x", &req())
                .await
                .expect_err("throttled");
            assert!(matches!(e, Error::Throttled { .. }), "{e:?}");
            // over-long input is refused without any work
            let long = "x".repeat(10_000);
            let other = RequestInfo {
                ip: "10.8.8.8".into(),
                user_agent: "t".into(),
            };
            assert!(w
                .idp
                .finish_2fa_reset(&long, "1", "2", "x", &other)
                .await
                .is_err());

            // a real reset guessed in parallel: never more than five attempts counted
            let (t, c) = w.idp.new_control_code().await.expect("control");
            let reset = w
                .idp
                .start_2fa_reset("obcan", &t, &c, &other)
                .await
                .expect("started");
            let guesses: Vec<_> = (0..12)
                .map(|i| {
                    let idp = w.idp.clone();
                    let reset = reset.clone();
                    tokio::spawn(async move {
                        let from = RequestInfo {
                            ip: format!("10.5.5.{i}"),
                            user_agent: "t".into(),
                        };
                        idp.finish_2fa_reset(&reset, "111111", "222222", PW, &from)
                            .await
                    })
                })
                .collect();
            for g in guesses {
                assert!(g.await.expect("join").is_err());
            }
            let attempts: (i64,) = sqlx::query_as("SELECT attempts FROM twofa_resets")
                .fetch_one(&w.idp.db.pool)
                .await
                .expect("reset");
            assert_eq!(attempts.0, 5);
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn while_a_czech_point_request_waits_the_person_it_is_for_stays_the_same() {
    on_both(|w| {
        Box::pin(async move {
            let r = w
                .idp
                .start_czech_point(&citizen(w.account, "obcan", &w.fresh()))
                .await
                .expect("request");
            let mut input = idp::account::profile::ProfileInput {
                first_name: "Petr".into(),
                last_name: "Svoboda".into(),
                birth_date: "2. 11. 1979".into(),
                street: "Milešovská".into(),
                house_number: "5".into(),
                city: "Praha".into(),
                postcode: "13000".into(),
                country: "CZ".into(),
                organization: String::new(),
            };
            let e = w
                .idp
                .update_profile(w.account, "obcan", &input, &req())
                .await
                .expect_err("locked");
            match &e {
                Error::Invalid(v) => {
                    let fields: Vec<&str> = v.iter().map(|f| f.field.as_str()).collect();
                    assert_eq!(fields, ["first_name", "last_name", "birth_date"]);
                    assert!(v
                        .iter()
                        .all(|f| f.violation == idp::Violation::LockedByCzechPoint));
                }
                other => panic!("{other:?}"),
            }
            // the address is not the person: it may change
            input.first_name = "Jana".into();
            input.last_name = "Nováková".into();
            input.birth_date = "14. 3. 1985".into();
            input.street = "Vinohradská".into();
            w.idp
                .update_profile(w.account, "obcan", &input, &req())
                .await
                .expect("address changed");
            // once the request is cancelled, the name is the citizen's to edit again
            w.idp
                .cancel_pairing(w.account, "obcan", r.id, &req())
                .await
                .expect("cancelled");
            input.first_name = "Jana Marie".into();
            w.idp
                .update_profile(w.account, "obcan", &input, &req())
                .await
                .expect("editable again");
            w.close().await;
        })
    })
    .await;
}

/// Where NIA's answer for `card`, brought to `account`'s request, leaves it.
async fn answer_for(
    w: &World,
    account: i64,
    key: i64,
    card: &str,
) -> idp::nia::pairing::PairingRequest {
    let (saml, relay, browser) = w.portal_for(account, key, card, true).await;
    w.idp
        .accept_nia_response(&saml, &relay, Some(&browser), &req())
        .await
        .expect("answer read")
        .1
}

#[tokio::test]
async fn a_second_account_of_a_linked_person_is_told_why_leaves_nothing_at_nia_and_never_links_later(
) {
    on_both(|w| {
        Box::pin(async move {
            let bsi = w.link("100000001").await;
            let (other, other_key) = w.second_account("obcan2").await;

            // the same eObčanka for the second account: said at once, nothing registered
            let r = answer_for(&w, other, other_key, "100000001").await;
            assert_eq!(r.state, State::Failed);
            assert_eq!(
                r.outcome.as_deref(),
                Some(idp::nia::pairing::LINKED_ELSEWHERE)
            );
            assert_eq!(
                w.sim.active_means(&bsi).len(),
                1,
                "only the first account's"
            );

            // both accounts received the data before either completed: the second one's
            // completion fails for the same reason, with nothing left at NIA
            w.idp
                .detach_nia(
                    w.account,
                    "obcan",
                    Some(&w.login_for(w.account, Action::Detach)),
                    &req(),
                )
                .await
                .expect("detach");
            let first = answer_for(&w, w.account, w.key, "100000001").await;
            let second = answer_for(&w, other, other_key, "100000001").await;
            assert_eq!(first.state, State::DataReceived);
            assert_eq!(second.state, State::DataReceived);
            w.idp
                .confirm_pairing(&citizen(w.account, "obcan", &w.fresh()), first.id)
                .await
                .expect("confirm first");
            w.idp.drive_pairings().await.expect("job");
            w.idp
                .confirm_pairing(
                    &citizen(other, "obcan2", &w.fresh_with(other_key)),
                    second.id,
                )
                .await
                .expect("confirm second");
            w.idp.drive_pairings().await.expect("job");
            let second = w
                .idp
                .current_pairing(other)
                .await
                .expect("p")
                .expect("request");
            assert_eq!(second.state, State::Failed);
            assert_eq!(
                second.outcome.as_deref(),
                Some(idp::nia::pairing::LINKED_ELSEWHERE)
            );
            let at_nia = w.sim.active_means(&bsi);
            assert_eq!(at_nia.len(), 1, "{at_nia:?}");
            assert_eq!(at_nia[0].means_ref, idp::nia::client::means_ref(w.key));

            // the first account detaches: the second one's ended request stays ended
            w.idp.clock.advance(1);
            w.idp
                .detach_nia(
                    w.account,
                    "obcan",
                    Some(&w.login_for(w.account, Action::Detach)),
                    &req(),
                )
                .await
                .expect("detach");
            for _ in 0..3 {
                w.idp.clock.advance(700);
                w.idp.drive_pairings().await.expect("job");
            }
            assert!(
                w.idp.nia_link(other).await.expect("l").is_none(),
                "never links by itself"
            );
            let linked_mail: (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND event = 'nia.linked'",
            )
            .bind(other)
            .fetch_one(&w.idp.db.pool)
            .await
            .expect("audit");
            assert_eq!(linked_mail.0, 0);
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn the_reconciliation_job_deactivates_orphaned_means_and_reports_missing_ones() {
    on_both(|w| {
        Box::pin(async move {
            let bsi = w.link("100000001").await;
            let (other, other_key) = w.second_account("obcan2").await;
            let nia = w.idp.nia().expect("nia");
            // a means of the second account's key left at NIA (a link that died half-way)
            nia.register_means(&bsi, &idp::nia::client::means_ref(other_key))
                .await
                .expect("registered");
            assert_eq!(w.sim.active_means(&bsi).len(), 2);

            // during an outage nothing is decided
            w.sim.set_outage(true);
            assert!(w.idp.reconcile_means().await.is_err());
            w.sim.set_outage(false);
            assert_eq!(w.sim.active_means(&bsi).len(), 2);

            let r = w.idp.reconcile_means().await.expect("reconciled");
            assert_eq!((r.orphans_deactivated, r.missing_at_nia), (1, 0));
            let left = w.sim.active_means(&bsi);
            assert_eq!(left.len(), 1);
            assert_eq!(left[0].means_ref, idp::nia::client::means_ref(w.key), "the link's means stays");
            let audited: (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND event = 'nia.means.orphan_deactivated'",
            )
            .bind(other)
            .fetch_one(&w.idp.db.pool)
            .await
            .expect("audit");
            assert_eq!(audited.0, 1);

            // a means NIA no longer lists is reported, not silently dropped
            nia.deactivate_means(&bsi, &left[0].id).await.expect("gone at NIA");
            let r = w.idp.reconcile_means().await.expect("reconciled");
            assert_eq!((r.orphans_deactivated, r.missing_at_nia), (0, 1));
            assert!(w.idp.nia_link(w.account).await.expect("l").is_some());
            assert_eq!(w.idp.means_counters().missing_at_nia(), 1);
            assert_eq!(w.idp.means_counters().orphans_deactivated(), 1);
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn a_completion_that_keeps_failing_backs_off_then_ends_and_releases_its_means() {
    on_both(|w| {
        Box::pin(async move {
            let (saml, relay, browser) = w.portal("100000001", true).await;
            let (_, request) = w
                .idp
                .accept_nia_response(&saml, &relay, Some(&browser), &req())
                .await
                .expect("accepted");
            let bsi = request.registry.clone().expect("data").bsi;
            w.idp
                .confirm_pairing(&citizen(w.account, "obcan", &w.fresh()), request.id)
                .await
                .expect("confirm");
            // writing the link fails here every time (a broken database, a bug), after NIA
            // registered the means
            sqlx::query("ALTER TABLE profiles RENAME TO profiles_gone")
                .execute(&w.idp.db.pool)
                .await
                .expect("break");
            // the completion's job in the queue: how often it ran, and how it stands
            let job = || async {
                let n: (i64, String, Option<String>) = sqlx::query_as(
                    "SELECT attempts, state, last_error FROM jobs WHERE kind = 'complete_pairing' AND payload = $1",
                )
                .bind(format!("{{\"request\":{}}}", request.id))
                .fetch_one(&w.idp.db.pool)
                .await
                .expect("row");
                n
            };
            let errors = || async { job().await.0 };
            w.idp.drive_pairings().await.expect("job");
            assert_eq!(errors().await, 1);
            // not again in the same second, nor before the pause is over
            w.idp.drive_pairings().await.expect("job");
            assert_eq!(errors().await, 1);
            w.idp.clock.advance(1);
            w.idp.drive_pairings().await.expect("job");
            assert_eq!(errors().await, 1, "the pause after the first error is 2 s");
            for _ in 0..10 {
                w.idp.clock.advance(600);
                w.idp.drive_pairings().await.expect("job");
            }
            assert_eq!(errors().await, 6, "given up at the sixth attempt");
            let (_, state, last_error) = job().await;
            assert_eq!(state, "failed");
            assert!(last_error.is_some_and(|e| e.contains("profiles")), "the error is kept for operators");
            sqlx::query("ALTER TABLE profiles_gone RENAME TO profiles")
                .execute(&w.idp.db.pool)
                .await
                .expect("repair");
            assert_eq!(w.state().await, Some(State::Failed));
            let r = w
                .idp
                .current_pairing(w.account)
                .await
                .expect("p")
                .expect("r");
            assert_eq!(r.outcome.as_deref(), Some("internal_error"));
            assert!(w.sim.active_means(&bsi).is_empty(), "released at NIA");
            assert!(w.idp.nia_link(w.account).await.expect("l").is_none());
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn twenty_citizens_registering_logging_in_and_pairing_at_once_never_see_a_locked_database() {
    on_both(|w| {
        Box::pin(async move {
            let w = std::sync::Arc::new(w);
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..20 {
                let w = w.clone();
                tasks.spawn(async move {
                    let name = format!("soubeh{i}");
                    // a full hashing queue says "try again" (the page says so): a citizen would
                    let pause = || tokio::time::sleep(Duration::from_millis(50));
                    loop {
                        match w.idp.create_account(&name, PW, &req()).await {
                            Err(Error::Overloaded) => pause().await,
                            r => break r.map(|_| ())?,
                        }
                    }
                    let account = loop {
                        match w
                            .idp
                            .login(&name, PW, None, "http://localhost:3000", &req())
                            .await
                        {
                            Err(Error::Overloaded) => pause().await,
                            r => break r?.0,
                        }
                    };
                    let profile = w.idp.profile(w.account).await?;
                    let text = |v: Option<String>| v.unwrap_or_default();
                    w.idp
                        .update_profile(
                            account.id,
                            &name,
                            &idp::account::profile::ProfileInput {
                                first_name: text(profile.first_name),
                                last_name: text(profile.last_name),
                                birth_date: "14. 3. 1985".into(),
                                street: text(profile.street),
                                house_number: text(profile.house_number),
                                city: text(profile.city),
                                postcode: text(profile.postcode),
                                country: "CZ".into(),
                                organization: String::new(),
                            },
                            &req(),
                        )
                        .await?;
                    let now = w.idp.clock.now();
                    sqlx::query("UPDATE contacts SET email = $2, email_verified_at = $3, phone = '+420777000111', phone_verified_at = $3 WHERE account_id = $1")
                        .bind(account.id)
                        .bind(format!("{name}@example.cz"))
                        .bind(now)
                        .execute(&w.idp.db.pool)
                        .await?;
                    let key = (certified_key(&w.idp, account.id, &format!("cred-{name}")).await,);
                    let r = answer_for(&w, account.id, key.0, "100000001").await;
                    if r.state == State::DataReceived {
                        w.idp
                            .confirm_pairing(&citizen(account.id, &name, &w.fresh_with(key.0)), r.id)
                            .await?;
                    }
                    // two job runners at once, as on two servers
                    let (a, b) = tokio::join!(w.idp.drive_pairings(), w.idp.drive_pairings());
                    for r in [a, b] {
                        if let Err(e) = r {
                            // the other runner moved the request first: not a lock
                            if !matches!(e, Error::Conflict) {
                                return Err(e);
                            }
                        }
                    }
                    Ok::<i64, Error>(account.id)
                });
            }
            let mut accounts = Vec::new();
            while let Some(done) = tasks.join_next().await {
                match done.expect("task") {
                    Ok(id) => accounts.push(id),
                    Err(e) => panic!("a concurrent writer failed: {e}"),
                }
            }
            while w.idp.drive_pairings().await.expect("job") > 0 {}
            assert_eq!(accounts.len(), 20);
            let mut linked = 0;
            for id in &accounts {
                let p = w.idp.current_pairing(*id).await.expect("p").expect("a request");
                match p.state {
                    State::Completed => linked += 1,
                    State::Failed => {
                        assert_eq!(p.outcome.as_deref(), Some(idp::nia::pairing::LINKED_ELSEWHERE))
                    }
                    other => panic!("request left {other:?}"),
                }
            }
            assert_eq!(linked, 1, "one person, one linked account");
            let bsi = w
                .idp
                .current_pairing(accounts[0])
                .await
                .expect("p")
                .and_then(|p| p.registry)
                .expect("data")
                .bsi;
            // a racing link's means are released at once, or by the reconciliation job when
            // another request for the person was still open at that moment
            w.idp.reconcile_means().await.expect("reconciled");
            assert_eq!(w.sim.active_means(&bsi).len(), 1, "no means left for the others");
            let w = std::sync::Arc::into_inner(w).expect("the tasks are done");
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn every_field_from_the_register_and_the_organization_are_locked_after_linking() {
    on_both(|w| {
        Box::pin(async move {
            w.link("100000001").await;
            let p = w.idp.profile(w.account).await.expect("profile");
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            let base = idp::account::profile::ProfileInput {
                first_name: text(&p.first_name),
                last_name: text(&p.last_name),
                birth_date: text(&p.birth_date),
                street: text(&p.street),
                house_number: text(&p.house_number),
                city: text(&p.city),
                postcode: text(&p.postcode),
                country: text(&p.country),
                organization: String::new(),
            };
            // unchanged: saved
            w.idp
                .update_profile(w.account, "obcan", &base, &req())
                .await
                .expect("nothing changed is fine");
            type Edit = fn(&mut idp::account::profile::ProfileInput);
            let edits: [(&str, Edit); 9] = [
                ("first_name", |i| i.first_name = "Petra".into()),
                ("last_name", |i| i.last_name = "Svobodová".into()),
                ("birth_date", |i| i.birth_date = "1. 1. 1990".into()),
                ("street", |i| i.street = "Vinohradská".into()),
                ("house_number", |i| i.house_number = "99".into()),
                ("city", |i| i.city = "Ostrava".into()),
                ("postcode", |i| i.postcode = "70030".into()),
                ("country", |i| i.country = "SK".into()),
                ("organization", |i| i.organization = "Firma s.r.o.".into()),
            ];
            for (field, edit) in edits {
                let mut input = base.clone();
                edit(&mut input);
                if field == "country" {
                    // a Slovak postcode, so that only the country is what is refused
                    input.postcode = "811 01".into();
                }
                let e = w
                    .idp
                    .update_profile(w.account, "obcan", &input, &req())
                    .await
                    .expect_err(field);
                let Error::Invalid(v) = e else {
                    panic!("{field}: {e:?}")
                };
                assert!(
                    v.iter()
                        .any(|f| f.field == field && f.violation == idp::Violation::LockedByNia),
                    "{field}: {v:?}"
                );
                assert_eq!(
                    w.idp.profile(w.account).await.expect("p"),
                    p,
                    "{field}: nothing stored"
                );
            }
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn two_servers_on_one_database_complete_each_confirmed_request_exactly_once() {
    on_both(|w| {
        Box::pin(async move {
            // a second server: its own pool and worker name, the same database and NIA
            let other = idp_with_clock(&w.db.url, &w.dir, w.sp, w.sim_addr, w.idp.clock.clone()).await;
            assert_ne!(w.idp.worker(), other.worker());
            let mut accounts = vec![(w.account, w.key)];
            for i in 0..3 {
                accounts.push(w.second_account(&format!("server{i}")).await);
            }
            let cards = ["100000001", "100000002", "100000003", "100000004"];
            let mut requests = Vec::new();
            for (i, ((account, key), card)) in accounts.iter().zip(cards).enumerate() {
                let r = answer_for(&w, *account, *key, card).await;
                assert_eq!(r.state, State::DataReceived, "{card}");
                // the confirmations reach the two servers in turn
                let server = if i % 2 == 0 { &w.idp } else { &other };
                server
                    .confirm_pairing(&citizen(*account, "obcan", &w.fresh_with(*key)), r.id)
                    .await
                    .expect("confirm");
                requests.push(r.id);
            }
            // both servers' job loops at once, a few rounds
            for _ in 0..3 {
                let (a, b) = tokio::join!(w.idp.drive_pairings(), other.drive_pairings());
                a.expect("first server");
                b.expect("second server");
            }
            let jobs: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT payload, state, attempts FROM jobs WHERE kind = 'complete_pairing' ORDER BY id",
            )
            .fetch_all(&w.idp.db.pool)
            .await
            .expect("jobs");
            assert_eq!(jobs.len(), requests.len());
            for (payload, state, attempts) in &jobs {
                assert_eq!((state.as_str(), *attempts), ("done", 1), "{payload}: claimed once");
            }
            for id in &requests {
                let left: Vec<(String,)> = sqlx::query_as(
                    "SELECT details FROM audit_events WHERE event = 'nia.pairing.transition' \
                     AND details LIKE '%\"from\":\"completing\"%' AND details LIKE $1",
                )
                .bind(format!("%\"request\":{id},%"))
                .fetch_all(&w.idp.db.pool)
                .await
                .expect("audit");
                assert_eq!(left.len(), 1, "request {id} left completing once: {left:?}");
            }
            other.db.pool.close().await;
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn a_completion_claimed_by_a_server_that_died_runs_again_when_its_lease_ends() {
    on_both(|w| {
        Box::pin(async move {
            let (saml, relay, browser) = w.portal("100000001", true).await;
            let (_, request) = w
                .idp
                .accept_nia_response(&saml, &relay, Some(&browser), &req())
                .await
                .expect("accepted");
            w.idp
                .confirm_pairing(&citizen(w.account, "obcan", &w.fresh()), request.id)
                .await
                .expect("confirm");
            // a server claimed it and was killed before finishing
            let now = w.idp.clock.now();
            sqlx::query("UPDATE jobs SET locked_by = 'killed', locked_until = $1, attempts = 1")
                .bind(now + 120)
                .execute(&w.idp.db.pool)
                .await
                .expect("lease");
            assert_eq!(
                w.idp.drive_pairings().await.expect("job"),
                0,
                "still leased"
            );
            assert_eq!(w.state().await, Some(State::Completing));
            w.idp.clock.advance(121);
            assert_eq!(w.idp.drive_pairings().await.expect("job"), 1);
            assert!(w.idp.nia_link(w.account).await.expect("l").is_some());
            let job: (String, i64) = sqlx::query_as("SELECT state, attempts FROM jobs")
                .fetch_one(&w.idp.db.pool)
                .await
                .expect("job");
            assert_eq!(job, ("done".to_owned(), 2));
            // the queue as operators see it holds no finished job
            assert!(w.idp.jobs_overview(50).await.expect("queue").is_empty());
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn each_recurring_job_runs_on_one_server_once_per_period() {
    use idp::jobs::Task;
    on_both(|w| {
        Box::pin(async move {
            let other =
                idp_with_clock(&w.db.url, &w.dir, w.sp, w.sim_addr, w.idp.clock.clone()).await;
            // both servers start and schedule: one job per task
            w.idp.schedule_recurring().await.expect("schedule");
            other.schedule_recurring().await.expect("schedule");
            let (a, b) = tokio::join!(w.idp.claim_recurring(), other.claim_recurring());
            let (a, b) = (a.expect("claim"), b.expect("claim"));
            let mut tasks: Vec<Task> = a.iter().chain(&b).map(|(_, t)| *t).collect();
            tasks.sort_by_key(|t| t.name());
            let mut all = Task::ALL.to_vec();
            all.sort_by_key(|t| t.name());
            assert_eq!(tasks, all, "every task claimed, none twice");
            // (which server got which depends on who came first; each reports its own)
            let failed = |t: &Task| (*t == Task::ReconcileMeans).then_some("NIA unavailable");
            for (id, task) in &a {
                w.idp.ran(*id, *task, failed(task)).await.expect("ran");
            }
            for (id, task) in &b {
                other.ran(*id, *task, failed(task)).await.expect("ran");
            }
            // nothing is due until a period has passed, then the two-second one is
            assert!(w.idp.claim_recurring().await.expect("claim").is_empty());
            w.idp.clock.advance(2);
            let due: Vec<Task> = other
                .claim_recurring()
                .await
                .expect("claim")
                .into_iter()
                .map(|(_, t)| t)
                .collect();
            assert_eq!(due, vec![Task::RegistryChanges]);
            // a failed run says so to operators and is tried again next period
            let listed = w.idp.jobs_overview(50).await.expect("queue");
            assert_eq!(listed.len(), Task::ALL.len());
            assert!(listed
                .iter()
                .any(|j| j.last_error.as_deref() == Some("NIA unavailable")));
            other.db.pool.close().await;
            w.close().await;
        })
    })
    .await;
}

/// The origin the soft keys' ceremonies run on.
const KEY_ORIGIN: &str = "http://localhost:3000";

impl World {
    /// FIDO metadata naming `models` (AAGUID, description, status) of one test vendor, in
    /// force now: the vendor's root, which attests the soft keys.
    fn metadata_with(&self, models: &[([u8; 16], &str, &str)]) -> idp::testing::fido::TestCa {
        use idp::keys::mds::{Metadata, Staleness};
        use idp::testing::fido::{aaguid_text, entry, TestCa};
        let fido = TestCa::new("Test FIDO metadata root");
        let vendor = TestCa::new("Test key vendor root");
        let roots = [vendor.der()];
        let entries = models
            .iter()
            .map(|(aaguid, name, status)| {
                entry(
                    &aaguid_text(aaguid),
                    name,
                    &[(status, "2024-01-10")],
                    &roots,
                )
            })
            .collect();
        let blob = fido.blob(1, "2046-10-01", entries);
        self.idp.set_metadata(
            Metadata::load(&blob, &fido.der(), Staleness::Refuse, self.idp.clock.now())
                .expect("test metadata"),
        );
        vendor
    }

    /// A new account of the first account's person (its profile) with verified contacts of
    /// its own and no key yet.
    async fn account_without_key(&self, username: &str, phone: &str) -> i64 {
        let (account, _) = self
            .idp
            .create_account(username, PW, &req())
            .await
            .expect("account");
        sqlx::query(
            "UPDATE profiles SET (first_name, last_name, birth_date, street, house_number, city, postcode, country) = \
             (SELECT first_name, last_name, birth_date, street, house_number, city, postcode, country FROM profiles WHERE account_id = $2) \
             WHERE account_id = $1",
        )
        .bind(account.id)
        .bind(self.account)
        .execute(&self.idp.db.pool)
        .await
        .expect("profile");
        sqlx::query(
            "UPDATE contacts SET email = $2, email_verified_at = 1, phone = $3, phone_verified_at = 1 WHERE account_id = $1",
        )
        .bind(account.id)
        .bind(format!("{username}@example.cz"))
        .bind(phone)
        .execute(&self.idp.db.pool)
        .await
        .expect("contacts");
        account.id
    }

    /// Adds `soft` to the account by the real ceremony, after a login with `login_key` (0:
    /// the account has no key yet).
    async fn add_soft_key(
        &self,
        account: i64,
        username: &str,
        soft: &mut idp::testing::fido::SoftKey,
        name: &str,
        login_key: i64,
    ) -> idp::keys::SecurityKey {
        let auth = self.fresh_with(login_key);
        let (ticket, options) = self
            .idp
            .start_add_key(&citizen(account, username, &auth), KEY_ORIGIN)
            .await
            .expect("start");
        let response = soft.register(&serde_json::to_value(&options).expect("json"), KEY_ORIGIN);
        self.idp
            .finish_add_key(&citizen(account, username, &auth), &ticket, name, &response)
            .await
            .expect("added")
            .0
    }
}

#[tokio::test]
async fn a_certified_key_added_after_linking_becomes_a_means_at_nia_too_and_waits_out_an_outage() {
    use idp::testing::fido::{Attestation, SoftKey};
    const CERTIFIED: [u8; 16] = [0x11; 16];
    const UNCERTIFIED: [u8; 16] = [0x33; 16];
    on_both(|w| {
        Box::pin(async move {
            // FIDO metadata naming one certified and one uncertified model of a test vendor
            let vendor = w.metadata_with(&[
                (CERTIFIED, "Test key L1", "FIDO_CERTIFIED_L1"),
                (UNCERTIFIED, "Test key uncertified", "NOT_FIDO_CERTIFIED"),
            ]);
            // an account whose keys are real registrations (the ceremony, not rows)
            let account = w.account_without_key("klice", "+420777000222").await;
            let add = |aaguid: [u8; 16], name: &'static str, login_key: i64| {
                let (w, vendor) = (&w, &vendor);
                async move {
                    let mut soft = SoftKey::new(vendor, aaguid, Attestation::Packed);
                    w.add_soft_key(account, "klice", &mut soft, name, login_key)
                        .await
                }
            };
            let first = add(CERTIFIED, "Klíč", 0).await;
            let bsi = w.link_as(account, "klice", first.id, "100000001").await;
            assert_eq!(w.sim.active_means(&bsi).len(), 1);

            // during an outage the new certified key waits; the uncertified one never goes
            w.sim.set_outage(true);
            let certified = add(CERTIFIED, "Druhý klíč", first.id).await;
            assert!(certified.nia_eligible);
            let uncertified = add(UNCERTIFIED, "Necertifikovaný", first.id).await;
            assert!(!uncertified.nia_eligible);
            let link_base = "https://mojeid.test";
            assert_eq!(w.idp.drive_queued_work(link_base).await.expect("job"), 0);
            assert_eq!(w.sim.active_means(&bsi).len(), 1);
            w.sim.set_outage(false);
            w.idp.clock.advance(60);
            assert_eq!(w.idp.drive_queued_work(link_base).await.expect("job"), 1);

            // NIA and we agree: the two certified keys are its means, the uncertified is not
            let mut at_nia: Vec<String> =
                w.sim.active_means(&bsi).into_iter().map(|m| m.id).collect();
            let mut here: Vec<String> =
                sqlx::query_scalar("SELECT means_id FROM nia_means WHERE account_id = $1")
                    .bind(account)
                    .fetch_all(&w.idp.db.pool)
                    .await
                    .expect("means");
            at_nia.sort();
            here.sort();
            assert_eq!((at_nia.len(), &at_nia), (2, &here));
            let keys = w.idp.security_keys(account).await.expect("keys");
            let linked: Vec<(&str, bool)> = keys
                .iter()
                .map(|k| (k.name.as_str(), k.nia_linked))
                .collect();
            assert_eq!(
                linked,
                vec![
                    ("Klíč", true),
                    ("Druhý klíč", true),
                    ("Necertifikovaný", false)
                ]
            );
            // once: nothing more to do
            w.idp.clock.advance(60);
            assert_eq!(w.idp.drive_queued_work(link_base).await.expect("job"), 0);
            // a certified key added after a login with a key that is not a means stays ours
            // only: NIA makes a new means only with one it has
            let third = add(CERTIFIED, "Třetí", uncertified.id).await;
            assert!(third.nia_eligible);
            w.idp.clock.advance(60);
            assert_eq!(w.idp.drive_queued_work(link_base).await.expect("job"), 0);
            assert_eq!(w.sim.active_means(&bsi).len(), 2);
            w.close().await;
        })
    })
    .await;
}

/// A citizen at a simulated government service: "Přihlásit se přes NIA", mojeID on NIA's
/// login page, and NIA's signed AuthnRequest as the browser brings it to our SSO endpoint.
struct AtService {
    flow: String,
    saml_request: String,
}

impl World {
    async fn at_service(&self, service: &str) -> AtService {
        let base = &self.sim_url;
        let res = self
            .http
            .get(format!("{base}/sluzby/{service}/prihlasit"))
            .send()
            .await
            .expect("service");
        let flow = res
            .url()
            .path()
            .strip_prefix("/FPSTS/prihlaseni/")
            .expect("NIA's login page")
            .to_owned();
        let page = res.text().await.expect("html");
        assert!(
            page.contains("mojeID") && page.contains("eObčanka"),
            "{page}"
        );
        let page = self
            .http
            .post(format!("{base}/FPSTS/prihlaseni/{flow}/mojeid"))
            .send()
            .await
            .expect("mojeid")
            .text()
            .await
            .expect("html");
        let sso = between(&page, "action=\"", "\"").expect("form");
        assert_eq!(sso, format!("http://{}/saml/idp/sso", self.sp));
        let saml_request = between(&page, "name=\"SAMLRequest\" value=\"", "\"")
            .expect("SAMLRequest")
            .to_owned();
        assert_eq!(
            between(&page, "name=\"RelayState\" value=\"", "\""),
            Some(flow.as_str())
        );
        AtService { flow, saml_request }
    }

    /// The browser posts our answer to NIA: where NIA sends it (the service's page, with a
    /// session cookie on success) and that page's text.
    async fn post_answer(&self, answer: &idp::nia::login::Answer) -> (String, String) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let mut form = vec![("SAMLResponse", answer.saml_response.clone())];
        if let Some(r) = &answer.relay_state {
            form.push(("RelayState", r.clone()));
        }
        let res = http
            .post(&answer.acs_url)
            .form(&form)
            .send()
            .await
            .expect("acs");
        assert_eq!(res.status(), http::StatusCode::SEE_OTHER);
        let to = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("location")
            .to_owned();
        let cookie = res
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .map(str::to_owned);
        let mut page = http.get(format!("{}{to}", self.sim_url));
        if let Some(c) = cookie {
            page = page.header("cookie", c);
        }
        let text = page.send().await.expect("page").text().await.expect("html");
        (to, text)
    }
}

/// Checks our Response with xmlsec1 (an independent implementation): the Response's
/// signature against our metadata's certificate; the assertion decrypted with NIA's key
/// (`nia_key_pem`); the assertion's own signature.
fn xmlsec_verifies(
    response_b64: &str,
    metadata: &str,
    nia_key_pem: &std::path::Path,
    dir: &std::path::Path,
) {
    let xml = base64::engine::general_purpose::STANDARD
        .decode(response_b64)
        .expect("base64");
    let idp_part = &metadata[metadata.find("IDPSSODescriptor").expect("IdP role")..];
    let cert = between(idp_part, "<ds:X509Certificate>", "</ds:X509Certificate>").expect("cert");
    let der = base64::engine::general_purpose::STANDARD
        .decode(cert.split_whitespace().collect::<String>())
        .expect("der");
    std::fs::create_dir_all(dir).expect("dir");
    let (doc, crt, plain) = (
        dir.join("response.xml"),
        dir.join("idp.der"),
        dir.join("decrypted.xml"),
    );
    std::fs::write(&doc, &xml).expect("write");
    std::fs::write(&crt, &der).expect("write");
    let xmlsec = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new("xmlsec1")
            .args(args)
            .output()
            .expect("xmlsec1 (Debian package xmlsec1; `./x test` installs it)");
        assert!(
            out.status.success(),
            "xmlsec1 {args:?} refused: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let verify = |file: &std::path::Path, node: &str| {
        xmlsec(&[
            "--verify".as_ref(),
            "--enabled-reference-uris".as_ref(),
            "same-doc".as_ref(),
            "--id-attr:ID".as_ref(),
            "urn:oasis:names:tc:SAML:2.0:protocol:Response".as_ref(),
            "--id-attr:ID".as_ref(),
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion".as_ref(),
            "--node-xpath".as_ref(),
            node.as_ref(),
            "--pubkey-cert-der".as_ref(),
            crt.as_os_str(),
            file.as_os_str(),
        ])
    };
    verify(
        &doc,
        "/*[local-name()='Response']/*[local-name()='Signature']",
    );
    assert!(
        !String::from_utf8_lossy(&xml).contains("<saml:Assertion"),
        "the assertion is sent in clear"
    );
    xmlsec(&[
        "--decrypt".as_ref(),
        "--privkey-pem".as_ref(),
        nia_key_pem.as_os_str(),
        "--output".as_ref(),
        plain.as_os_str(),
        doc.as_os_str(),
    ]);
    verify(
        &plain,
        "//*[local-name()='Assertion']/*[local-name()='Signature']",
    );
}

#[tokio::test]
async fn citizens_log_into_government_services_through_nia_at_the_level_their_key_reaches() {
    use idp::nia::loa::{HighGap, Loa, Refusal};
    use idp::nia::login::PasswordStep;
    use idp::testing::fido::{aaguid_text, Attestation, SoftKey};
    const ORIGIN: &str = KEY_ORIGIN;
    const L1: [u8; 16] = [0x11; 16];
    const L2_LISTED: [u8; 16] = [0x22; 16];
    on_both(|mut w| {
        Box::pin(async move {
            let vendor = w.metadata_with(&[
                (L1, "Test key L1", "FIDO_CERTIFIED_L1"),
                (L2_LISTED, "Test key L2 FIPS", "FIDO_CERTIFIED_L2"),
            ]);
            w.idp.policy.high_models = vec![aaguid_text(&L2_LISTED)];
            let account = w.account_without_key("sluzby", "+420777000333").await;
            let mut l1 = SoftKey::new(&vendor, L1, Attestation::Packed);
            let mut l2 = SoftKey::new(&vendor, L2_LISTED, Attestation::Packed);
            let add = async |soft: &mut SoftKey, name: &'static str, login_key: i64| {
                w.add_soft_key(account, "sluzby", soft, name, login_key)
                    .await
            };
            let first = add(&mut l1, "Klíč L1", 0).await;

            // before linking: the account is told why, and NIA hears RequestDenied
            let at = w.at_service("portal").await;
            let token = w
                .idp
                .receive_nia_login(&at.saml_request, Some(&at.flow), &req())
                .await
                .expect("verified");
            let view = w.idp.nia_login(&token).await.expect("flow");
            assert_eq!(
                (view.service.as_str(), view.requested),
                ("Portál občana", Loa::Substantial)
            );
            let PasswordStep::Refused(answer) = w
                .idp
                .nia_login_password(&token, "sluzby", PW, ORIGIN, &req())
                .await
                .expect("password")
            else {
                panic!("a key step for an account that is not linked");
            };
            assert_eq!(answer.result, Err(Some(Refusal::NotLinked)));
            let (to, page) = w.post_answer(&answer).await;
            assert_eq!(to, "/sluzby/portal?chyba=RequestDenied", "{page}");
            assert!(page.contains("není propojen s NIA"), "{page}");

            // link with eObčanka (card 100000001, Jana Nováková)
            let bsi = w.link_as(account, "sluzby", first.id, "100000001").await;
            assert_eq!(w.sim.active_means(&bsi).len(), 1);

            // the Citizen Portal (substantial): password + the L1 key, a fresh assertion
            let login = async |w: &World, service: &str, soft: &mut SoftKey| {
                let at = w.at_service(service).await;
                let token = w
                    .idp
                    .receive_nia_login(&at.saml_request, Some(&at.flow), &req())
                    .await
                    .expect("verified");
                // a wrong password is refused and counted, and the flow stays open
                assert!(matches!(
                    w.idp
                        .nia_login_password(&token, "sluzby", "wrong password", ORIGIN, &req())
                        .await,
                    Err(Error::BadCredentials)
                ));
                let PasswordStep::Key { ticket, options } = w
                    .idp
                    .nia_login_password(&token, "sluzby", PW, ORIGIN, &req())
                    .await
                    .expect("password")
                else {
                    panic!("no key step for a linked account");
                };
                let options = serde_json::to_value(&*options).expect("json");
                assert_eq!(options["publicKey"]["userVerification"], "required");
                let assertion = soft.answer(&options, ORIGIN);
                let answer = w
                    .idp
                    .nia_login_key(&token, &ticket, &assertion, &req())
                    .await
                    .expect("key");
                // the flow is answered once
                assert!(matches!(
                    w.idp.nia_login_cancel(&token, &req()).await,
                    Err(Error::NotFound)
                ));
                answer
            };
            let answer = login(&w, "portal", &mut l1).await;
            assert_eq!(answer.result, Ok(Loa::Substantial));
            let metadata = w.idp.nia().expect("nia").sp_metadata();
            xmlsec_verifies(
                &answer.saml_response,
                &metadata,
                &w.dir.join("nia-sim").join("nia-key.pem"),
                &w.dir.join("xmlsec"),
            );
            let (to, page) = w.post_answer(&answer).await;
            assert_eq!(to, "/sluzby/portal");
            for shown in ["Jana Nováková", "1985-03-14", "značná", "mojeID"] {
                assert!(page.contains(shown), "{shown} not on {page}");
            }

            // the tax filing (high) refuses the L1 key, saying what high still needs
            let answer = login(&w, "epo", &mut l1).await;
            assert_eq!(
                answer.result,
                Err(Some(Refusal::HighNeeds {
                    missing: vec![HighGap::KeyLevel, HighGap::ModelNotListed]
                }))
            );
            let (to, _) = w.post_answer(&answer).await;
            assert_eq!(to, "/sluzby/epo?chyba=NoAuthnContext");

            // an L2 key on the operator's list, added after a login with the NIA key, becomes
            // a means and reaches high
            let second = add(&mut l2, "Klíč FIPS", first.id).await;
            w.idp.clock.advance(1);
            assert_eq!(
                w.idp
                    .drive_queued_work("https://mojeid.test")
                    .await
                    .expect("job"),
                1
            );
            let answer = login(&w, "epo", &mut l2).await;
            assert_eq!(answer.result, Ok(Loa::High));
            let (to, page) = w.post_answer(&answer).await;
            assert_eq!(to, "/sluzby/epo");
            assert!(
                page.contains("vysoká") && page.contains("Jana Nováková"),
                "{page}"
            );

            // the history, newest first, and the audit log
            let history = w.idp.nia_logins_of(account, 10).await.expect("history");
            let seen: Vec<(&str, Loa, &str)> = history
                .iter()
                .map(|h| (h.service.as_str(), h.loa, h.key_name.as_str()))
                .collect();
            assert_eq!(
                seen,
                vec![
                    (
                        "Daňový portál – elektronická podání (EPO)",
                        Loa::High,
                        "Klíč FIPS"
                    ),
                    ("Portál občana", Loa::Substantial, "Klíč L1"),
                ]
            );
            let audited: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND event = 'nia.login'",
            )
            .bind(account)
            .fetch_one(&w.idp.db.pool)
            .await
            .expect("audit");
            assert_eq!(audited, 2);
            let _ = second;

            // cancelling: NIA hears AuthnFailed, the service says so
            let at = w.at_service("portal").await;
            let token = w
                .idp
                .receive_nia_login(&at.saml_request, Some(&at.flow), &req())
                .await
                .expect("verified");
            let answer = w
                .idp
                .nia_login_cancel(&token, &req())
                .await
                .expect("cancel");
            assert_eq!(answer.result, Err(None));
            // the page after the step shows the same answer, while the flow would have lasted
            assert_eq!(w.idp.nia_login_answer(&token).await.expect("kept"), answer);
            assert!(matches!(
                w.idp.nia_login_answer("no-such-flow").await,
                Err(idp::Error::NotFound)
            ));
            w.idp.clock.advance(idp::nia::login::FLOW_SECS);
            assert!(matches!(
                w.idp.nia_login_answer(&token).await,
                Err(idp::Error::NotFound)
            ));
            w.idp.clock.advance(-idp::nia::login::FLOW_SECS);
            let (to, _) = w.post_answer(&answer).await;
            assert_eq!(to, "/sluzby/portal?chyba=AuthnFailed");

            // NIA down when we would answer: nothing is spent or recorded, the flow stays open
            let at = w.at_service("portal").await;
            let token = w
                .idp
                .receive_nia_login(&at.saml_request, Some(&at.flow), &req())
                .await
                .expect("verified");
            // an open flow has no answer to show
            assert!(matches!(
                w.idp.nia_login_answer(&token).await,
                Err(idp::Error::NotFound)
            ));
            let PasswordStep::Key { ticket, options } = w
                .idp
                .nia_login_password(&token, "sluzby", PW, ORIGIN, &req())
                .await
                .expect("password")
            else {
                panic!("no key step");
            };
            w.sim.set_outage(true);
            let assertion = l1.answer(&serde_json::to_value(&*options).expect("json"), ORIGIN);
            assert!(matches!(
                w.idp
                    .nia_login_key(&token, &ticket, &assertion, &req())
                    .await,
                Err(Error::NiaUnavailable)
            ));
            w.sim.set_outage(false);
            assert_eq!(
                w.idp
                    .nia_logins_of(account, 10)
                    .await
                    .expect("history")
                    .len(),
                2
            );
            assert!(!w.idp.nia_login(&token).await.expect("flow").answered);
            w.close().await;
        })
    })
    .await;
}

#[tokio::test]
async fn only_a_fresh_authn_request_signed_by_nia_for_us_opens_a_login() {
    on_both(|w| {
        Box::pin(async move {
            let at = w.at_service("portal").await;
            // tampered: a changed level no longer matches NIA's signature
            let xml = String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(&at.saml_request)
                    .expect("b64"),
            )
            .expect("utf8");
            let tampered = base64::engine::general_purpose::STANDARD
                .encode(xml.replace("LoA/substantial", "LoA/low"));
            assert!(matches!(
                w.idp.receive_nia_login(&tampered, None, &req()).await,
                Err(Error::NiaRequestInvalid)
            ));
            // foreign: the same request signed by a key that is not NIA's
            let unsigned = {
                let start = xml.find("<ds:Signature").expect("signature");
                let end = xml.find("</ds:Signature>").expect("end") + "</ds:Signature>".len();
                let template = xml[start..end]
                    .replace(
                        between(&xml, "<ds:DigestValue>", "</ds:DigestValue>").unwrap_or(""),
                        "",
                    )
                    .replace(
                        between(&xml, "<ds:SignatureValue>", "</ds:SignatureValue>").unwrap_or(""),
                        "",
                    );
                format!("{}{template}{}", &xml[..start], &xml[end..])
            };
            let (other_key, _) = load_sp_identity(&w.dir.join("other"), true).expect("key");
            let foreign = {
                use samael::crypto::CryptoProvider;
                samael::crypto::Crypto::sign_xml(
                    &unsigned,
                    &other_key.private_key_to_der().expect("der"),
                )
                .expect("signed")
            };
            assert!(matches!(
                w.idp
                    .receive_nia_login(
                        &base64::engine::general_purpose::STANDARD.encode(foreign),
                        None,
                        &req()
                    )
                    .await,
                Err(Error::NiaRequestInvalid)
            ));
            // the genuine one opens a flow once; the same request again is a replay
            w.idp
                .receive_nia_login(&at.saml_request, Some(&at.flow), &req())
                .await
                .expect("verified");
            assert!(matches!(
                w.idp
                    .receive_nia_login(&at.saml_request, Some(&at.flow), &req())
                    .await,
                Err(Error::NiaRequestInvalid)
            ));
            // expired: a request older than five minutes (the manual clock started earlier)
            let late = w.at_service("portal").await;
            w.idp.clock.advance(400);
            assert!(matches!(
                w.idp
                    .receive_nia_login(&late.saml_request, None, &req())
                    .await,
                Err(Error::NiaRequestInvalid)
            ));
            w.idp.clock.advance(-400);
            // each rejection is counted, and sampled into the audit log
            assert_eq!(
                w.idp
                    .edge_counters()
                    .rejected(idp::public_edge::Edge::NiaSso),
                4
            );
            let sampled: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_events WHERE event = 'public_edge.rejected' AND details LIKE '%nia_sso%'",
            )
            .fetch_one(&w.idp.db.pool)
            .await
            .expect("audit");
            assert!(sampled >= 1);
            w.close().await;
        })
    })
    .await;
}

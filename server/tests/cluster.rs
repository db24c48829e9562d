//! Several server processes on one database, and what `kill -9` at a step boundary leaves.
//!
//! Each test starts real `mojeid-server` processes (`APP_MODE=test`) on one throw-away
//! database — a SQLite file, and PostgreSQL when `DATABASE_URL_PG` is set — with the NIA
//! simulator in the test process, as the other organisation it is. The test process also
//! holds a domain handle on the same database for what only a browser with a security key
//! could do over HTTP (pressing "Verify" and "Complete connection to NIA" after a fresh
//! password + key login) and to read what the servers wrote. Everything else — NIA's answer,
//! the register's delivery, logins, the 2FA reset, the completion job — happens in the
//! server processes.
//!
//! The crash harness starts a server with `CRASH_AT=<point>` (`idp::crash`): it kills itself
//! with SIGKILL there; the test checks that nothing is half written, restarts it without the
//! point, and checks that the flow resumes or can be repeated and that NIA and we agree.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use idp::account::sessions::{AuthMethod, AuthRecord};
use idp::nia::client::{load_sp_identity, NiaClient, NiaConfig};
use idp::nia::pairing::State;
use idp::testing::TempDatabase;
use idp::{Clock, Db, Idp, Policy, RequestInfo};

const BIN: &str = env!("CARGO_BIN_EXE_mojeid-server");
const PW: &str = "kobyla ma maly bok u potoka";
const API_TOKEN: &str = "test-token";
const INTAKE_TOKEN: &str = "intake-token-for-tests";
/// Jana Nováková's eObčanka in the simulator's population (PIN 123456).
const JANA_CARD: &str = "100000001";
/// Petr Svoboda's: his Czech POINT visit.
const PETR_CARD: &str = "100000002";

fn req() -> RequestInfo {
    RequestInfo {
        ip: "10.9.9.9".into(),
        user_agent: "cluster-test".into(),
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// A citizen's account as the test made it: eligible for linking, with a certified key.
#[derive(Clone, Copy)]
struct Citizen {
    account: i64,
    key: i64,
    username: &'static str,
}

struct Cluster {
    db: TempDatabase,
    dir: PathBuf,
    /// The test's own handle on the servers' database.
    idp: Idp,
    sim: nia_sim::Sim,
    sim_url: String,
    ports: Vec<u16>,
    servers: Vec<Option<Child>>,
    starts: usize,
    /// JOB_LEASE_SECS of the servers.
    lease_secs: u32,
    http: reqwest::Client,
}

impl Cluster {
    /// `servers` ports on one database; the register delivers to server `intake_on`.
    async fn new(db: TempDatabase, servers: usize, intake_on: usize, lease_secs: u32) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "mojeid-cluster-{}-{}",
            std::process::id(),
            free_port()
        ));
        let ports: Vec<u16> = (0..servers).map(|_| free_port()).collect();
        let public = format!("http://127.0.0.1:{}", ports[0]);
        let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let sim_addr = sim_listener.local_addr().expect("addr");
        // the servers' SAML identity, made once here so that every process (and this one)
        // signs with the same key
        let (key, cert) = load_sp_identity(&dir.join("data").join("sp"), true).expect("sp");
        let client = NiaClient::new(
            NiaConfig {
                sso_url: format!("http://{sim_addr}/FPSTS/saml2/basic"),
                metadata_url: format!(
                    "http://{sim_addr}/FPSTS/FederationMetadata/2007-06/FederationMetadata.xml"
                ),
                api_url: format!("http://{sim_addr}/idp-api"),
                api_token: API_TOKEN.into(),
                sp_entity_id: format!("{public}/saml/metadata"),
                acs_url: format!("{public}/nia/acs"),
                idp_sso_url: format!("{public}/saml/idp/sso"),
                login_acs_url: format!("http://{sim_addr}/FPSTS/mojeid/acs"),
                signing_cert_pins: Vec::new(),
            },
            key,
            cert,
        )
        .expect("client");
        // connecting migrates the database before any server starts
        let idp = Idp::new(
            Db::connect(&db.url, 5).await.expect("db"),
            idp::account::password::Hasher::new(1, 8).expect("hasher"),
            Clock::system(),
            Policy::default(),
        );
        idp.set_nia(client);
        let sim = nia_sim::Sim::open(nia_sim::SimConfig {
            data_dir: dir.join("nia-sim"),
            base_url: format!("http://{sim_addr}"),
            sp_entity_id: format!("{public}/saml/metadata"),
            sp_metadata_url: format!("{public}/saml/metadata"),
            api_token: API_TOKEN.into(),
            intake_url: format!("http://127.0.0.1:{}/intake/rob", ports[intake_on]),
            intake_token: INTAKE_TOKEN.into(),
        })
        .expect("sim");
        let router = nia_sim::router(sim.clone());
        tokio::spawn(async move {
            let _ = axum::serve(sim_listener, router).await;
        });
        Self {
            db,
            dir,
            idp,
            sim,
            sim_url: format!("http://{sim_addr}"),
            servers: (0..servers).map(|_| None).collect(),
            ports,
            starts: 0,
            lease_secs,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http"),
        }
    }

    fn url(&self, server: usize, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports[server])
    }

    /// Our origin, as a load balancer in front of every server presents it.
    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports[0])
    }

    /// Starts server `i` (killing it with `CRASH_AT=crash_at` there) and waits until it is
    /// ready.
    async fn start(&mut self, i: usize, crash_at: Option<&str>) {
        self.starts += 1;
        let log = std::fs::File::create(self.dir.join(format!("server-{i}-{}.log", self.starts)))
            .expect("log");
        let child = Command::new(BIN)
            .env("APP_MODE", "test")
            .env("BIND_ADDR", format!("127.0.0.1:{}", self.ports[i]))
            .env("PUBLIC_URL", self.origin())
            .env("DATABASE_URL", &self.db.url)
            .env("DATA_DIR", self.dir.join("data"))
            .env("NIA_SIM_ADDR", "")
            .env("NIA_BASE_URL", self.sim_base())
            .env("NIA_API_TOKEN", API_TOKEN)
            .env("INTAKE_TOKEN", INTAKE_TOKEN)
            .env("SEED_DEMO", "false")
            .env("JOB_LEASE_SECS", self.lease_secs.to_string())
            .env("HASH_WORKERS", "1")
            .env("CRASH_AT", crash_at.unwrap_or(""))
            .env("RUST_LOG", "warn")
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start server");
        self.servers[i] = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self.http.get(self.url(i, "/readyz")).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            if let Some(status) = self.servers[i]
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("server {i} exited at start ({status}): {}", self.log(i));
            }
            assert!(Instant::now() < deadline, "server {i} not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn sim_base(&self) -> String {
        self.sim_url.clone()
    }

    fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("server-{i}-{}.log", self.starts)))
            .unwrap_or_default()
    }

    /// Waits until server `i` has killed itself at its crash point: SIGKILL, nothing else.
    async fn killed(&mut self, i: usize, point: &str) {
        let mut child = self.servers[i].take().expect("a running server");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "the server never reached {point}: {}",
                self.log(i)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(status.signal(), Some(9), "{point}: {status}");
    }

    fn stop(&mut self, i: usize) {
        if let Some(mut c) = self.servers[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A citizen meeting every condition of linking (the profile as `card`'s person in the
    /// register), with a certified L1 key row (the ceremony is tested elsewhere).
    async fn citizen(&self, username: &'static str, card: &str) -> Citizen {
        let (given, family, birth) = match card {
            JANA_CARD => ("Jana", "Nováková", "1985-03-14"),
            PETR_CARD => ("Petr", "Svoboda", "1979-11-02"),
            _ => unreachable!("a card of the test population"),
        };
        let (account, _) = self
            .idp
            .create_account(username, PW, &req())
            .await
            .expect("account");
        self.idp
            .update_profile(
                account.id,
                username,
                &idp::account::profile::ProfileInput {
                    first_name: given.into(),
                    last_name: family.into(),
                    birth_date: birth.into(),
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
        sqlx::query(
            "UPDATE contacts SET email = $2, email_verified_at = 1, phone = $3, phone_verified_at = 1 \
             WHERE account_id = $1",
        )
        .bind(account.id)
        .bind(format!("{username}@example.cz"))
        .bind(format!("+420777{:06}", account.id))
        .execute(&self.idp.db.pool)
        .await
        .expect("contacts");
        let key = self.certified_key(account.id, username).await;
        Citizen {
            account: account.id,
            key,
            username,
        }
    }

    async fn certified_key(&self, account: i64, name: &str) -> i64 {
        let key: (i64,) = sqlx::query_as(
            "INSERT INTO security_keys (account_id, credential_id, credential, name, kind, level, nia_eligible, verdict, created_at) \
             VALUES ($1, $2, '{}', 'Klíč', 'hardware', 'FIDO_CERTIFIED_L1', 1, '{}', $3) RETURNING id",
        )
        .bind(account)
        .bind(format!("cred-{name}-{}", free_port()))
        .bind(self.idp.clock.now())
        .fetch_one(&self.idp.db.pool)
        .await
        .expect("key");
        key.0
    }

    /// The password + key login the citizen's browser just made.
    fn fresh(&self, c: Citizen) -> Vec<AuthRecord> {
        let now = self.idp.clock.now();
        vec![
            AuthRecord {
                method: AuthMethod::Password,
                at: now,
            },
            AuthRecord {
                method: AuthMethod::SecurityKey { id: c.key },
                at: now,
            },
        ]
    }

    /// "Verify" with eObčanka, the simulated portal with `card`, consent: NIA's answer as
    /// the browser would post it (SAMLResponse, RelayState) and the browser's nonce.
    async fn nia_answer(&self, c: Citizen, card: &str) -> (String, String, String) {
        let start = self
            .idp
            .start_eobcanka(&citizen(c.account, c.username, &self.fresh(c)))
            .await
            .expect("start");
        let page = self
            .http
            .get(&start.url)
            .send()
            .await
            .expect("sso")
            .text()
            .await
            .expect("html");
        let flow = between(&page, "/portal/", "/eobcanka").expect("a link to eObčanka");
        let base = self.sim_base();
        self.http
            .post(format!("{base}/portal/{flow}/eobcanka"))
            .form(&[("card", card), ("pin", "123456")])
            .send()
            .await
            .expect("card");
        let page = self
            .http
            .post(format!("{base}/portal/{flow}/consent"))
            .form(&[("answer", "yes")])
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

    /// Posts NIA's answer to server `i`'s ACS from the browser that pressed "Verify".
    async fn post_answer(
        &self,
        i: usize,
        (saml, relay, nonce): &(String, String, String),
    ) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(self.url(i, "/nia/acs"))
            .header("cookie", format!("__Host-mojeid_nia={nonce}"))
            .form(&[("SAMLResponse", saml), ("RelayState", relay)])
            .send()
            .await
    }

    /// A server function on server `i`, as the app's forms call it.
    async fn api(
        &self,
        i: usize,
        name: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut r = self
            .http
            .post(self.url(i, &format!("/api/{name}")))
            .header("origin", self.origin())
            .form(form);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        r.send().await
    }

    async fn pairing(&self, c: Citizen) -> idp::nia::pairing::PairingRequest {
        self.idp
            .current_pairing(c.account)
            .await
            .expect("pairing")
            .expect("a request")
    }

    /// "Complete connection to NIA" (the table of the register's data was shown).
    async fn confirm(&self, c: Citizen) {
        let id = self.pairing(c).await.id;
        self.idp
            .confirm_pairing(&citizen(c.account, c.username, &self.fresh(c)), id)
            .await
            .expect("confirm");
    }

    /// Waits until the citizen's request is `state` (a server's job moves it).
    async fn until_state(&self, c: Citizen, state: State) {
        let deadline = Instant::now() + Duration::from_secs(45);
        loop {
            let now = self.pairing(c).await.state;
            if now == state {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "request still {now:?}, not {state:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// NIA's active means for the citizen's person and the means our link holds: the same.
    async fn agree_with_nia(&self, c: Citizen, bsi: &str) -> usize {
        let mut at_nia: Vec<String> = self
            .sim
            .active_means(bsi)
            .into_iter()
            .map(|m| m.id)
            .collect();
        let mut here: Vec<String> =
            sqlx::query_scalar("SELECT means_id FROM nia_means WHERE account_id = $1")
                .bind(c.account)
                .fetch_all(&self.idp.db.pool)
                .await
                .expect("means");
        at_nia.sort();
        here.sort();
        if at_nia != here {
            let events: Vec<(String, String)> = sqlx::query_as(
                "SELECT event, details FROM audit_events WHERE account_id = $1 ORDER BY id",
            )
            .bind(c.account)
            .fetch_all(&self.idp.db.pool)
            .await
            .expect("events");
            panic!(
                "NIA and we disagree on the means: NIA {at_nia:?}, we {here:?}; NIA holds {:?}; events {events:?}",
                self.sim.all_means()
            );
        }
        here.len()
    }

    async fn count(&self, sql: &str, account: i64) -> i64 {
        sqlx::query_scalar(sql)
            .bind(account)
            .fetch_one(&self.idp.db.pool)
            .await
            .expect(sql)
    }

    async fn linked_events(&self, c: Citizen) -> i64 {
        self.count(
            "SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND event = 'nia.linked'",
            c.account,
        )
        .await
    }

    async fn link_rows(&self, c: Citizen) -> i64 {
        self.count(
            "SELECT COUNT(*) FROM nia_links WHERE account_id = $1",
            c.account,
        )
        .await
    }

    /// The person the account is linked to (NIA's BSI for us).
    async fn bsi(&self, c: Citizen) -> String {
        sqlx::query_scalar("SELECT bsi FROM nia_links WHERE account_id = $1")
            .bind(c.account)
            .fetch_one(&self.idp.db.pool)
            .await
            .expect("a link")
    }

    /// The last PIN the outbox holds for `to`.
    async fn pin_for(&self, to: &str) -> String {
        let body = self
            .idp
            .outbox_recent(200)
            .await
            .expect("outbox")
            .into_iter()
            .find(|m| m.recipient == to)
            .map(|m| m.body)
            .expect("a message");
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a six-digit PIN")
            .to_owned()
    }

    /// "Is your two factor authentication not working?": the control code on server `a`,
    /// the PINs requested on `b`; returns the reset ticket and both PINs.
    async fn start_reset(&self, c: Citizen, a: usize, b: usize) -> (String, String, String) {
        let control: serde_json::Value = self
            .api(a, "reset_control", &[], None)
            .await
            .expect("control")
            .json()
            .await
            .expect("json");
        let ticket: String = self
            .api(
                b,
                "reset_start",
                &[
                    ("username", c.username),
                    (
                        "control_ticket",
                        control["ticket"].as_str().expect("ticket"),
                    ),
                    ("control", control["code"].as_str().expect("code")),
                ],
                None,
            )
            .await
            .expect("start")
            .json()
            .await
            .expect("json");
        let pin1 = self.pin_for(&format!("{}@example.cz", c.username)).await;
        let pin2 = self.pin_for(&format!("+420777{:06}", c.account)).await;
        (ticket, pin1, pin2)
    }

    async fn finish_reset(
        &self,
        i: usize,
        (ticket, pin1, pin2): &(String, String, String),
    ) -> reqwest::Result<reqwest::Response> {
        self.api(
            i,
            "reset_finish",
            &[
                ("ticket", ticket),
                ("pin1", pin1),
                ("pin2", pin2),
                ("password", PW),
            ],
            None,
        )
        .await
    }

    async fn close(mut self) {
        for i in 0..self.servers.len() {
            self.stop(i);
        }
        self.idp.db.pool.close().await;
        self.db.drop_now().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("mojeid_session=") && !v.starts_with("mojeid_session=;"))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

async fn on_both<F, Fut>(test: F)
where
    F: Fn(TempDatabase) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    test(TempDatabase::sqlite()).await;
    if let Some(db) = TempDatabase::postgres().await {
        test(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_share_every_step_and_run_each_job_once() {
    on_both(|db| async move {
        // a lease longer than any completion here: a second claim would be a second run
        let mut c = Cluster::new(db, 2, 1, 30).await;
        c.start(0, None).await;
        c.start(1, None).await;

        // a session opened on one server is the session on the other, and ends on both
        c.idp
            .create_account("bez-klice", PW, &req())
            .await
            .expect("account without keys");
        let login = c
            .api(
                0,
                "login",
                &[("username", "bez-klice"), ("password", PW), ("next", "")],
                None,
            )
            .await
            .expect("login");
        assert_eq!(login.status(), 200);
        let cookie = session_cookie(&login).expect("a session cookie");
        let me = c.api(1, "me", &[], Some(&cookie)).await.expect("me");
        assert_eq!(me.text().await.expect("me"), "\"bez-klice\"");
        let out = c
            .http
            .post(c.url(1, "/logout"))
            .header("origin", c.origin())
            .header("cookie", &cookie)
            .send()
            .await
            .expect("logout");
        assert!(out.status().is_redirection(), "{}", out.status());
        let me = c.api(0, "me", &[], Some(&cookie)).await.expect("me");
        assert_eq!(me.text().await.expect("me"), "null");

        // wrong passwords counted together: five spread over both servers are judged, and
        // from then on the tries wait, on either server (the delays grow: one comes soon)
        let wrong = [
            ("username", "bez-klice"),
            ("password", "wrong password!"),
            ("next", ""),
        ];
        for n in 0..5 {
            let r = c.api(n % 2, "login", &wrong, None).await.expect("login");
            assert_eq!(r.status(), 401, "attempt {n}");
        }
        let mut delayed = None;
        for n in 5..9 {
            let r = c.api(n % 2, "login", &wrong, None).await.expect("login");
            if r.status() == 429 {
                delayed = r.headers().get("retry-after").cloned();
                break;
            }
        }
        assert!(delayed.is_some(), "no try was delayed");

        // eObčanka: "Verify" (here), NIA's answer to server 1, the completion by whichever
        // server claims it
        let jana = c.citizen("jana", JANA_CARD).await;
        let answer = c.nia_answer(jana, JANA_CARD).await;
        let r = c.post_answer(1, &answer).await.expect("acs");
        assert_eq!(
            r.headers().get("location").and_then(|v| v.to_str().ok()),
            Some("/settings/nia")
        );
        assert_eq!(c.pairing(jana).await.state, State::DataReceived);
        // the same answer at the other server: refused as used, nothing changes
        let again = c.post_answer(0, &answer).await.expect("acs");
        assert!(again.status().is_redirection() || again.status().is_client_error());
        assert_ne!(
            again
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok()),
            Some("/settings/nia")
        );
        assert_eq!(c.pairing(jana).await.state, State::DataReceived);
        c.confirm(jana).await;
        c.until_state(jana, State::Completed).await;
        let jana_bsi = c.bsi(jana).await;
        assert_eq!(c.agree_with_nia(jana, &jana_bsi).await, 1);

        // Czech POINT: the register delivers to server 1
        let petr = c.citizen("petr", PETR_CARD).await;
        let office = c
            .idp
            .start_czech_point(&citizen(petr.account, petr.username, &c.fresh(petr)))
            .await
            .expect("office request");
        c.sim
            .file_office_request(PETR_CARD, &office.code)
            .expect("filed");
        assert_eq!(c.sim.release_queue().await, (1, 0));
        assert_eq!(c.pairing(petr).await.state, State::DataReceived);
        c.confirm(petr).await;
        c.until_state(petr, State::Completed).await;
        let petr_bsi = c.bsi(petr).await;
        assert_eq!(c.agree_with_nia(petr, &petr_bsi).await, 1);

        // each completion ran once, on one of the two servers
        let jobs: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, attempts FROM jobs WHERE kind = 'complete_pairing' ORDER BY id",
        )
        .fetch_all(&c.idp.db.pool)
        .await
        .expect("jobs");
        assert_eq!(jobs, vec![("done".to_owned(), 1), ("done".to_owned(), 1)]);
        assert_eq!(
            (c.linked_events(jana).await, c.linked_events(petr).await),
            (1, 1)
        );

        // the 2FA reset: control code on server 0, PINs sent by server 1, finished on 0
        let reset = c.start_reset(jana, 0, 1).await;
        let r = c.finish_reset(0, &reset).await.expect("finish");
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
        assert_eq!(c.link_rows(jana).await, 0);
        assert!(c.sim.active_means(&jana_bsi).is_empty());
        assert!(c
            .idp
            .security_keys(jana.account)
            .await
            .expect("keys")
            .is_empty());
        // the other server sees the used ticket as used
        let r = c.finish_reset(1, &reset).await.expect("finish");
        assert_ne!(r.status(), 200);
        c.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_at_any_step_leaves_a_flow_that_resumes_or_can_be_repeated() {
    on_both(|db| async move {
        // one server at a time, restarted: a short lease lets a killed job be claimed again soon
        let mut c = Cluster::new(db, 1, 0, 2).await;
        let jana = c.citizen("jana", JANA_CARD).await;

        // the completion job, killed before NIA, after the match, after the first means,
        // after the link was written: restarted, it finishes, once
        for (n, point) in [
            "complete.start",
            "complete.after_match",
            "complete.after_first_means",
            "complete.after_link",
        ]
        .into_iter()
        .enumerate()
        {
            // NIA reads our metadata from a running server
            c.start(0, None).await;
            let answer = c.nia_answer(jana, JANA_CARD).await;
            c.post_answer(0, &answer).await.expect("acs");
            assert_eq!(c.pairing(jana).await.state, State::DataReceived);
            c.stop(0);
            c.start(0, Some(point)).await;
            c.confirm(jana).await;
            c.killed(0, point).await;
            // nothing half written: the request waits in `completing` with no link, or is
            // complete with its link, its means and its event
            let linked = c.link_rows(jana).await;
            match point {
                "complete.after_link" => {
                    assert_eq!(c.pairing(jana).await.state, State::Completed);
                    assert_eq!(linked, 1);
                }
                _ => {
                    assert_eq!(c.pairing(jana).await.state, State::Completing, "{point}");
                    assert_eq!(linked, 0, "{point}");
                    assert_eq!(
                        c.count(
                            "SELECT COUNT(*) FROM nia_means WHERE account_id = $1",
                            jana.account
                        )
                        .await,
                        0
                    );
                }
            }
            c.start(0, None).await;
            c.until_state(jana, State::Completed).await;
            let bsi = c.bsi(jana).await;
            assert_eq!(c.agree_with_nia(jana, &bsi).await, 1, "{point}");
            assert_eq!(
                c.linked_events(jana).await,
                n as i64 + 1,
                "{point}: linked once"
            );
            c.stop(0);
            // unlinked again for the next point (the helpdesk's way, from here)
            c.idp
                .end_link(
                    jana.account,
                    "test",
                    idp::nia::unlink::Reason::Detached,
                    &req(),
                )
                .await
                .expect("unlink");
            assert!(c.sim.active_means(&bsi).is_empty());
        }

        // NIA's answer at the ACS, killed once it was verified: nothing kept; the browser
        // posting it again (or the citizen pressing "Verify" again) goes on
        c.start(0, Some("acs.verified")).await;
        let answer = c.nia_answer(jana, JANA_CARD).await;
        assert!(
            c.post_answer(0, &answer).await.is_err(),
            "the server died mid-answer"
        );
        c.killed(0, "acs.verified").await;
        assert_eq!(c.pairing(jana).await.state, State::NiaLogin);
        assert!(c.pairing(jana).await.registry.is_none());
        c.start(0, None).await;
        let r = c.post_answer(0, &answer).await.expect("acs");
        if c.pairing(jana).await.state != State::DataReceived {
            // the answer counts as used: a new "Verify" works
            assert!(r.status().is_redirection());
            let answer = c.nia_answer(jana, JANA_CARD).await;
            c.post_answer(0, &answer).await.expect("acs");
        }
        assert_eq!(c.pairing(jana).await.state, State::DataReceived);
        c.confirm(jana).await;
        c.until_state(jana, State::Completed).await;
        let jana_bsi = c.bsi(jana).await;
        assert_eq!(c.agree_with_nia(jana, &jana_bsi).await, 1);
        c.stop(0);

        // the register's delivery, killed once verified: the register keeps it and delivers
        // again
        let petr = c.citizen("petr", PETR_CARD).await;
        let office = c
            .idp
            .start_czech_point(&citizen(petr.account, petr.username, &c.fresh(petr)))
            .await
            .expect("office request");
        c.sim
            .file_office_request(PETR_CARD, &office.code)
            .expect("filed");
        c.start(0, Some("intake.verified")).await;
        assert_eq!(c.sim.release_queue().await, (0, 1));
        c.killed(0, "intake.verified").await;
        assert_eq!(c.pairing(petr).await.state, State::AwaitingOffice);
        c.start(0, None).await;
        assert_eq!(c.sim.release_queue().await, (1, 0));
        assert_eq!(c.pairing(petr).await.state, State::DataReceived);

        // a password login, killed once the password was judged: no session, and the next
        // try logs in (the attempt left behind is no failure)
        c.idp
            .create_account("bez-klice", PW, &req())
            .await
            .expect("a");
        c.stop(0);
        c.start(0, Some("login.verified")).await;
        let creds = [("username", "bez-klice"), ("password", PW), ("next", "")];
        assert!(c.api(0, "login", &creds, None).await.is_err());
        c.killed(0, "login.verified").await;
        c.start(0, None).await;
        let r = c.api(0, "login", &creds, None).await.expect("login");
        assert_eq!(r.status(), 200);
        assert!(session_cookie(&r).is_some());

        // the 2FA reset, killed after NIA deactivated a means (nothing local yet) and
        // before its transaction committed: the citizen presses "Remove" again and it is done
        for point in ["unlink.after_nia", "twofa_reset.before_commit"] {
            if c.link_rows(jana).await == 0 {
                // linked again, with a new key, for this point
                let key = c.certified_key(jana.account, point).await;
                let jana2 = Citizen { key, ..jana };
                let answer = c.nia_answer(jana2, JANA_CARD).await;
                c.post_answer(0, &answer).await.expect("acs");
                c.confirm(jana2).await;
                c.until_state(jana2, State::Completed).await;
            }
            let reset = c.start_reset(jana, 0, 0).await;
            c.stop(0);
            c.start(0, Some(point)).await;
            assert!(c.finish_reset(0, &reset).await.is_err(), "{point}");
            c.killed(0, point).await;
            // the link and the keys are still here
            assert_eq!(c.link_rows(jana).await, 1, "{point}");
            if point == "unlink.after_nia" {
                // NIA deactivated the means, we did not forget it yet: the repeat settles it
                assert!(c.sim.active_means(&jana_bsi).is_empty());
                assert_eq!(
                    c.count(
                        "SELECT COUNT(*) FROM nia_means WHERE account_id = $1",
                        jana.account
                    )
                    .await,
                    1
                );
            }
            assert!(!c
                .idp
                .security_keys(jana.account)
                .await
                .expect("k")
                .is_empty());
            c.start(0, None).await;
            let r = c.finish_reset(0, &reset).await.expect("finish");
            assert_eq!(r.status(), 200, "{point}: {:?}", r.text().await);
            assert_eq!(c.link_rows(jana).await, 0);
            assert!(c
                .idp
                .security_keys(jana.account)
                .await
                .expect("k")
                .is_empty());
            assert!(c.sim.active_means(&jana_bsi).is_empty(), "{point}");
            assert_eq!(c.agree_with_nia(jana, &jana_bsi).await, 0);
        }
        c.close().await;
    })
    .await;
}

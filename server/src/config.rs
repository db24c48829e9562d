//! Configuration from the environment, read and validated once at start. Every variable, its
//! default and its meaning is listed in the README; a bad value is named in the error.

use std::net::SocketAddr;

/// The key models that reach LoA high unless `LOA_HIGH_AAGUIDS` says otherwise: the YubiKey
/// 5 FIPS Series (FIPS 140-2 validated hardware; USB-A/C, with NFC, with Lightning), each
/// FIDO_CERTIFIED_L2 in the shipped metadata.
pub const DEFAULT_HIGH_MODELS: &[&str] = &[
    "73bb0cd4-e502-49b8-9c6f-b59445bf720b",
    "c1f9a0bc-1dd2-404a-b27f-8e29047a43fd",
    "85203421-48f9-4355-9bc8-8a53846e5083",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Local development: demo data, `/dev/outbox`, the NIA simulator started in-process.
    Dev,
    /// Automated tests: like dev, without demo data.
    Test,
    /// Real deployment: HTTPS origin and SMTP required, no dev tools.
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    pub bind_addr: SocketAddr,
    /// The origin users reach us at; state-changing requests must come from it.
    pub public_url: String,
    pub database_url: String,
    pub database_max_connections: u32,
    pub site_root: String,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// The SMS gateway's HTTP API and its bearer token (required in production).
    pub sms_gateway_url: Option<String>,
    pub sms_gateway_token: String,
    /// The sender name the gateway shows.
    pub sms_sender: String,
    /// Where to start the NIA simulator in-process (dev and test), if anywhere.
    pub nia_sim_addr: Option<SocketAddr>,
    pub nia_base_url: String,
    /// The token for NIA's identity-provider services.
    pub nia_api_token: String,
    /// Our SAML key and certificate (`sp-key.pem`, `sp-cert.pem`), and the simulator's data.
    pub data_dir: String,
    pub seed_demo: bool,
    pub trust_forwarded_for: bool,
    pub log_format: LogFormat,
    pub hash_workers: usize,
    pub hash_queue: usize,
    /// A login that would wait longer than this (ms) for a hashing worker is refused at once.
    pub hash_wait_budget_ms: u64,
    pub shutdown_grace_secs: u64,
    pub policy: idp::Policy,
    /// SHA-256 fingerprints of NIA's signing certificates (required in production).
    pub nia_signing_cert_pins: Vec<String>,
    /// NIA's assertion consumer for our answers to logins through NIA (default: the
    /// simulator's address under `NIA_BASE_URL`).
    pub nia_login_acs_url: Option<String>,
    /// The bearer token `/metrics` asks for; without one there is no `/metrics`.
    pub metrics_token: Option<String>,
    /// The transport credential the register's data-box delivery presents at `/intake/rob`.
    pub intake_token: String,
    /// FIDO metadata BLOB (JWS) and the root its chain must lead to (DER).
    pub mds_blob_path: String,
    pub mds_root_path: String,
    /// Use a BLOB past its nextUpdate (with a warning).
    pub mds_allow_stale: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .0.join("\n"))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut r = Reader {
            get: &get,
            errors: Vec::new(),
        };
        // no mode named: a real deployment, with every check that brings
        let mode_given = r.raw("APP_MODE").is_some();
        let mode = match r.raw("APP_MODE").as_deref().unwrap_or("production") {
            "dev" => Mode::Dev,
            "test" => Mode::Test,
            "production" => Mode::Production,
            other => {
                r.errors.push(format!(
                    "APP_MODE={other:?}: expected dev, test or production"
                ));
                Mode::Dev
            }
        };
        let dev_like = mode != Mode::Production;
        let bind_addr = r.parse("BIND_ADDR", "127.0.0.1:3000");
        let public_url = r
            .raw("PUBLIC_URL")
            // WebAuthn needs a domain name, and NIA posts back to this origin: the session
            // cookie must be the browser's for the same name
            .unwrap_or_else(|| {
                let b: SocketAddr = bind_addr;
                if b.ip().is_loopback() || b.ip().is_unspecified() {
                    format!("http://localhost:{}", b.port())
                } else {
                    format!("http://{b}")
                }
            })
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            r.errors.push(format!(
                "PUBLIC_URL={public_url:?}: expected an http:// or https:// origin"
            ));
        }
        if mode == Mode::Production && !public_url.starts_with("https://") {
            r.errors.push(format!(
                "PUBLIC_URL={public_url:?}: production needs https://"
            ));
        }
        let database_url = r
            .raw("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://data/mojeid.db?mode=rwc".into());
        if idp::Backend::of_url(&database_url).is_none() {
            r.errors.push(format!(
                "DATABASE_URL: expected sqlite:… or postgres://…, got {:?}",
                redact(&database_url)
            ));
        }
        let smtp_url = r.raw("SMTP_URL").filter(|s| !s.is_empty());
        if mode == Mode::Production && smtp_url.is_none() {
            r.errors
                .push("SMTP_URL: required in production (e-mail codes must reach people)".into());
        }
        let sms_gateway_url = r.raw("SMS_GATEWAY_URL").filter(|s| !s.is_empty());
        let sms_gateway_token = r.raw("SMS_GATEWAY_TOKEN").unwrap_or_default();
        match (&sms_gateway_url, mode) {
            (None, Mode::Production) => r.errors.push(
                "SMS_GATEWAY_URL: required in production (the 2FA reset's PIN2 must reach a phone)"
                    .into(),
            ),
            (Some(url), Mode::Production) if !url.starts_with("https://") => r.errors.push(
                "SMS_GATEWAY_URL: production talks to the SMS gateway over https:// only".into(),
            ),
            _ => {}
        }
        if sms_gateway_url.is_some() && sms_gateway_token.is_empty() {
            r.errors
                .push("SMS_GATEWAY_TOKEN: required with SMS_GATEWAY_URL".into());
        }
        let nia_sim_addr = match r.raw("NIA_SIM_ADDR") {
            Some(s) if s.is_empty() => None,
            Some(s) => match s.parse() {
                Ok(a) => Some(a),
                Err(_) => {
                    r.errors
                        .push(format!("NIA_SIM_ADDR={s:?}: expected host:port or empty"));
                    None
                }
            },
            None => dev_like.then(|| SocketAddr::from(([127, 0, 0, 1], 3001))),
        };
        if mode == Mode::Production && nia_sim_addr.is_some() {
            r.errors
                .push("NIA_SIM_ADDR: the simulator must not run in production".into());
        }
        let nia_base_url = r.raw("NIA_BASE_URL").unwrap_or_else(|| {
            if mode == Mode::Production {
                "https://nia.identitaobcana.cz".into()
            } else {
                nia_sim_addr
                    .map_or_else(|| "http://127.0.0.1:3001".into(), |a| format!("http://{a}"))
            }
        });
        if mode == Mode::Production && !nia_base_url.starts_with("https://") {
            r.errors.push(format!(
                "NIA_BASE_URL={nia_base_url:?}: production talks to NIA over https:// only"
            ));
        }
        let nia_signing_cert_pins: Vec<String> = r
            .raw("NIA_SIGNING_CERT_SHA256")
            .unwrap_or_default()
            .split([',', ' '])
            .map(|p| p.trim().replace(':', "").to_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        for pin in &nia_signing_cert_pins {
            if pin.len() != 64 || !pin.chars().all(|c| c.is_ascii_hexdigit()) {
                r.errors.push(format!(
                    "NIA_SIGNING_CERT_SHA256: {pin:?} is not a SHA-256 fingerprint (64 hex digits)"
                ));
            }
        }
        if mode == Mode::Production && nia_signing_cert_pins.is_empty() {
            r.errors.push(
                "NIA_SIGNING_CERT_SHA256: required in production (the SHA-256 fingerprints of NIA's signing certificates, comma-separated), so that NIA's metadata cannot bring a key of its own".into(),
            );
        }
        let metrics_token = r.raw("METRICS_TOKEN").filter(|t| !t.is_empty());
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            r.errors
                .push("METRICS_TOKEN: at least 16 characters".into());
        }
        let intake_token = match r.raw("INTAKE_TOKEN").filter(|t| !t.is_empty()) {
            Some(t) if t.len() < 16 => {
                r.errors.push("INTAKE_TOKEN: at least 16 characters".into());
                t
            }
            Some(t) => t,
            None if mode == Mode::Production => {
                r.errors.push(
                    "INTAKE_TOKEN: required in production (the credential the data-box delivery presents at /intake/rob)".into(),
                );
                String::new()
            }
            None => "dev-intake-token-0000".into(),
        };
        let nia_api_token = match r.raw("NIA_API_TOKEN").filter(|t| !t.is_empty()) {
            Some(t) => t,
            None if mode == Mode::Production => {
                r.errors
                    .push("NIA_API_TOKEN: required in production".into());
                String::new()
            }
            None => "dev-nia-token".into(),
        };
        let data_dir = r.raw("DATA_DIR").unwrap_or_else(|| "data".into());

        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let policy = idp::Policy {
            max_failures_per_account: r.parse("LOGIN_MAX_FAILURES_PER_ACCOUNT", "5"),
            max_failures_per_address: r.parse("LOGIN_MAX_FAILURES_PER_ADDRESS", "20"),
            max_failures_per_username: r.parse("LOGIN_MAX_FAILURES_PER_USERNAME", "100"),
            max_reset_failures_per_address: r.parse("RESET_MAX_FAILURES_PER_ADDRESS", "10"),
            contact_cooling_off_secs: r.parse("CONTACT_COOLING_OFF_SECS", "259200"),
            throttle_window_secs: r.parse("LOGIN_THROTTLE_WINDOW_SECS", "900"),
            session_idle_secs: r.parse("SESSION_IDLE_SECS", "1800"),
            session_absolute_secs: r.parse("SESSION_ABSOLUTE_SECS", "43200"),
            registrations_per_address_per_hour: r.parse("REGISTRATIONS_PER_ADDRESS_PER_HOUR", "20"),
            job_lease_secs: r.parse("JOB_LEASE_SECS", "120"),
            high_models: r
                .raw("LOA_HIGH_AAGUIDS")
                .unwrap_or_else(|| DEFAULT_HIGH_MODELS.join(","))
                .split(',')
                .map(|a| a.trim().to_lowercase())
                .filter(|a| !a.is_empty())
                .collect(),
            ..idp::Policy::default()
        };
        for aaguid in &policy.high_models {
            if uuid::Uuid::parse_str(aaguid).is_err() {
                r.errors.push(format!(
                    "LOA_HIGH_AAGUIDS: {aaguid:?} is not an AAGUID (8-4-4-4-12 hex digits)"
                ));
            }
        }
        let nia_login_acs_url = r.raw("NIA_LOGIN_ACS_URL").filter(|u| !u.is_empty());
        if let Some(u) = &nia_login_acs_url {
            if !(u.starts_with("https://")
                || (mode != Mode::Production && u.starts_with("http://")))
            {
                r.errors.push(format!(
                    "NIA_LOGIN_ACS_URL={u:?}: expected an https:// address (NIA's assertion consumer for our logins)"
                ));
            }
        }
        for (name, v) in [
            (
                "LOGIN_MAX_FAILURES_PER_ACCOUNT",
                policy.max_failures_per_account,
            ),
            (
                "LOGIN_MAX_FAILURES_PER_ADDRESS",
                policy.max_failures_per_address,
            ),
            (
                "LOGIN_MAX_FAILURES_PER_USERNAME",
                policy.max_failures_per_username,
            ),
            (
                "RESET_MAX_FAILURES_PER_ADDRESS",
                policy.max_reset_failures_per_address,
            ),
            ("LOGIN_THROTTLE_WINDOW_SECS", policy.throttle_window_secs),
            ("SESSION_IDLE_SECS", policy.session_idle_secs),
            ("SESSION_ABSOLUTE_SECS", policy.session_absolute_secs),
            (
                "REGISTRATIONS_PER_ADDRESS_PER_HOUR",
                policy.registrations_per_address_per_hour,
            ),
            ("JOB_LEASE_SECS", policy.job_lease_secs),
        ] {
            if v < 1 {
                r.errors.push(format!("{name}={v}: must be at least 1"));
            }
        }
        if let Some(point) = idp::crash::configured() {
            if mode == Mode::Production {
                r.errors.push(
                    "CRASH_AT: crash points are for the crash tests, never in production".into(),
                );
            } else if !idp::crash::POINTS.contains(&point) {
                r.errors.push(format!(
                    "CRASH_AT={point:?}: not a crash point (one of {})",
                    idp::crash::POINTS.join(", ")
                ));
            }
        }
        if policy.contact_cooling_off_secs < 0 {
            r.errors
                .push("CONTACT_COOLING_OFF_SECS: must not be negative".into());
        }
        let config = Config {
            mode,
            bind_addr,
            public_url,
            database_url,
            database_max_connections: r.parse("DATABASE_MAX_CONNECTIONS", "10"),
            site_root: r.raw("SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            smtp_url,
            mail_from: r
                .raw("MAIL_FROM")
                .unwrap_or_else(|| "mojeID <noreply@mojeid.localhost>".into()),
            sms_gateway_url,
            sms_gateway_token,
            sms_sender: r.raw("SMS_SENDER").unwrap_or_else(|| "mojeID".into()),
            nia_sim_addr,
            nia_base_url,
            nia_api_token,
            data_dir,
            seed_demo: r.parse(
                "SEED_DEMO",
                if mode == Mode::Dev { "true" } else { "false" },
            ),
            trust_forwarded_for: r.parse("TRUST_FORWARDED_FOR", "false"),
            log_format: match r.raw("LOG_FORMAT").as_deref() {
                None => {
                    if dev_like {
                        LogFormat::Pretty
                    } else {
                        LogFormat::Json
                    }
                }
                Some("pretty") => LogFormat::Pretty,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    r.errors
                        .push(format!("LOG_FORMAT={other:?}: expected pretty or json"));
                    LogFormat::Pretty
                }
            },
            hash_workers: r.parse("HASH_WORKERS", &cpus.to_string()),
            hash_queue: r.parse("HASH_QUEUE", "64"),
            hash_wait_budget_ms: r.parse("HASH_WAIT_BUDGET_MS", "500"),
            shutdown_grace_secs: r.parse("SHUTDOWN_GRACE_SECS", "30"),
            policy,
            mds_blob_path: r
                .raw("MDS_BLOB_PATH")
                .unwrap_or_else(|| "fido/mds/blob.jwt".into()),
            mds_root_path: r
                .raw("MDS_ROOT_PATH")
                .unwrap_or_else(|| "fido/mds/root-r3.crt".into()),
            mds_allow_stale: r.parse("MDS_ALLOW_STALE", if dev_like { "true" } else { "false" }),
            nia_signing_cert_pins,
            nia_login_acs_url,
            metrics_token,
            intake_token,
        };
        if config.mode == Mode::Production && config.seed_demo {
            r.errors.push(
                "SEED_DEMO=true: the demo account (with its published password) must not exist in production".into(),
            );
        }
        if config.database_max_connections == 0 {
            r.errors
                .push("DATABASE_MAX_CONNECTIONS=0: must be at least 1".into());
        }
        if config.hash_workers == 0 {
            r.errors.push("HASH_WORKERS=0: must be at least 1".into());
        }
        if r.errors.is_empty() {
            Ok(config)
        } else {
            if !mode_given {
                r.errors.push(
                    "APP_MODE is not set, so this is a production start; for development set APP_MODE=dev (./x run does), for automated tests APP_MODE=test".into(),
                );
            }
            Err(ConfigError(r.errors))
        }
    }

    /// Dev tools (`/dev/outbox`) exist only outside production.
    /// The NIA client's settings: NIA (or the simulator) at `NIA_BASE_URL`, us at
    /// `PUBLIC_URL`.
    pub fn nia(&self) -> idp::nia::client::NiaConfig {
        let nia = self.nia_base_url.trim_end_matches('/');
        let us = self.public_url.trim_end_matches('/');
        idp::nia::client::NiaConfig {
            sso_url: format!("{nia}/FPSTS/saml2/basic"),
            metadata_url: format!("{nia}/FPSTS/FederationMetadata/2007-06/FederationMetadata.xml"),
            api_url: format!("{nia}/idp-api"),
            api_token: self.nia_api_token.clone(),
            sp_entity_id: format!("{us}/saml/metadata"),
            acs_url: format!("{us}/nia/acs"),
            idp_sso_url: format!("{us}/saml/idp/sso"),
            login_acs_url: self
                .nia_login_acs_url
                .clone()
                .unwrap_or_else(|| format!("{nia}/FPSTS/mojeid/acs")),
            signing_cert_pins: self.nia_signing_cert_pins.clone(),
        }
    }

    pub fn dev_tools(&self) -> bool {
        self.mode != Mode::Production
    }

    /// Cookies get `Secure` unless we are served over plain http.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Origins our own pages may be served from: `PUBLIC_URL`'s, and outside production the
    /// same with `localhost` and `127.0.0.1` swapped (both name the machine the run command
    /// serves on).
    pub fn allowed_origins(&self) -> Vec<String> {
        let origin = self.origin();
        let mut all = vec![origin.clone()];
        if self.dev_tools() {
            for (a, b) in [
                ("://127.0.0.1", "://localhost"),
                ("://localhost", "://127.0.0.1"),
            ] {
                if origin.contains(a) {
                    all.push(origin.replacen(a, b, 1));
                }
            }
        }
        all
    }

    /// The origin (`scheme://host[:port]`) of `PUBLIC_URL`.
    pub fn origin(&self) -> String {
        let after_scheme = self.public_url.find("://").map_or(0, |i| i + 3);
        match self.public_url[after_scheme..].find('/') {
            Some(i) => self.public_url[..after_scheme + i].to_owned(),
            None => self.public_url.clone(),
        }
    }
}

/// Hides a password in a URL before it is shown.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<String>,
}

impl Reader<'_> {
    fn raw(&self, key: &str) -> Option<String> {
        (self.get)(key)
    }

    fn parse<T: std::str::FromStr>(&mut self, key: &str, default: &str) -> T
    where
        T::Err: std::fmt::Display,
    {
        let value = self.raw(key).unwrap_or_else(|| default.to_owned());
        match value.trim().parse() {
            Ok(v) => v,
            Err(e) => {
                self.errors.push(format!("{key}={value:?}: {e}"));
                // the default always parses
                default
                    .parse()
                    .unwrap_or_else(|_| unreachable!("default of {key} parses"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn without_a_mode_the_start_is_a_production_one_and_says_what_to_set() {
        let text = cfg(&[]).expect_err("production needs settings").to_string();
        for name in [
            "PUBLIC_URL",
            "SMTP_URL",
            "SMS_GATEWAY_URL",
            "NIA_API_TOKEN",
            "NIA_SIGNING_CERT_SHA256",
            "INTAKE_TOKEN",
            "APP_MODE is not set",
        ] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
    }

    #[test]
    fn production_refuses_demo_data_plain_http_to_nia_and_bad_pins() {
        let text = cfg(&[
            ("APP_MODE", "production"),
            ("PUBLIC_URL", "https://mojeid.example"),
            ("SMTP_URL", "smtps://u:p@mail.example"),
            ("SMS_GATEWAY_URL", "https://sms.example/api/send"),
            ("SMS_GATEWAY_TOKEN", "sms-secret"),
            ("NIA_API_TOKEN", "secret-token"),
            ("INTAKE_TOKEN", "intake-secret-0123456789"),
            ("SEED_DEMO", "true"),
            ("NIA_BASE_URL", "http://nia.example"),
            ("NIA_SIGNING_CERT_SHA256", "abc"),
        ])
        .expect_err("invalid")
        .to_string();
        for name in ["SEED_DEMO", "NIA_BASE_URL", "NIA_SIGNING_CERT_SHA256"] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
        assert!(!text.contains("APP_MODE is not set"), "{text}");
    }

    #[test]
    fn dev_needs_no_configuration() {
        let c = cfg(&[("APP_MODE", "dev")]).expect("defaults are valid");
        assert_eq!(c.mode, Mode::Dev);
        assert_eq!(c.bind_addr.to_string(), "127.0.0.1:3000");
        assert!(c.database_url.starts_with("sqlite:"));
        assert_eq!(
            c.nia_sim_addr.map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:3001")
        );
        assert!(c.seed_demo && c.dev_tools() && !c.secure_cookies());
        // a domain name, as WebAuthn needs
        assert_eq!(c.origin(), "http://localhost:3000");
        assert_eq!(
            c.allowed_origins(),
            vec!["http://localhost:3000", "http://127.0.0.1:3000"]
        );
    }

    #[test]
    fn every_bad_value_is_named() {
        let err = cfg(&[
            ("APP_MODE", "staging"),
            ("BIND_ADDR", "localhost"),
            ("DATABASE_URL", "mysql://u:secret@db/x"),
            ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "many"),
            ("SEED_DEMO", "yes please"),
        ])
        .expect_err("invalid");
        let text = err.to_string();
        for name in [
            "APP_MODE",
            "BIND_ADDR",
            "DATABASE_URL",
            "LOGIN_MAX_FAILURES_PER_ACCOUNT",
            "SEED_DEMO",
        ] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
        assert!(
            !text.contains("secret"),
            "passwords are never printed: {text}"
        );
    }

    #[test]
    fn production_sends_sms_over_https_with_a_token() {
        let text = cfg(&[
            ("APP_MODE", "production"),
            ("SMS_GATEWAY_URL", "http://sms.example/api"),
        ])
        .expect_err("invalid")
        .to_string();
        assert!(
            text.contains("SMS_GATEWAY_URL: production talks to the SMS gateway over https://")
                && text.contains("SMS_GATEWAY_TOKEN: required"),
            "{text}"
        );
        // outside production the gateway is optional (SMS stay in the outbox)
        let dev = cfg(&[("APP_MODE", "dev")]).expect("dev");
        assert!(dev.sms_gateway_url.is_none());
        let with = cfg(&[
            ("APP_MODE", "dev"),
            ("SMS_GATEWAY_URL", "http://127.0.0.1:9/sms"),
            ("SMS_GATEWAY_TOKEN", "dev-token"),
        ])
        .expect("dev with a gateway");
        assert_eq!(with.sms_sender, "mojeID");
    }

    #[test]
    fn production_requires_https_and_smtp_and_no_simulator() {
        let err = cfg(&[
            ("APP_MODE", "production"),
            ("NIA_SIM_ADDR", "127.0.0.1:3001"),
        ])
        .expect_err("invalid");
        let text = err.to_string();
        assert!(
            text.contains("PUBLIC_URL")
                && text.contains("SMTP_URL")
                && text.contains("SMS_GATEWAY_URL")
                && text.contains("NIA_SIM_ADDR"),
            "{text}"
        );
        let ok = cfg(&[
            ("APP_MODE", "production"),
            ("PUBLIC_URL", "https://mojeid.example/"),
            ("SMTP_URL", "smtps://u:p@mail.example"),
            ("SMS_GATEWAY_URL", "https://sms.example/api/send"),
            ("SMS_GATEWAY_TOKEN", "sms-secret"),
            ("NIA_API_TOKEN", "secret-token"),
            ("INTAKE_TOKEN", "intake-secret-0123456789"),
            (
                "NIA_SIGNING_CERT_SHA256",
                "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
            ),
        ])
        .expect("valid");
        assert_eq!(
            ok.nia().signing_cert_pins,
            vec!["abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"]
        );
        assert_eq!(ok.nia_base_url, "https://nia.identitaobcana.cz");
        assert!(
            ok.secure_cookies() && !ok.dev_tools() && !ok.seed_demo && ok.nia_sim_addr.is_none()
        );
        assert_eq!(ok.origin(), "https://mojeid.example");
        assert_eq!(ok.allowed_origins(), vec!["https://mojeid.example"]);
    }
}

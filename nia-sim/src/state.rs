//! The simulator's state: the test population, flows in progress at the portal, registered
//! means, registry changes and queued Czech POINT deliveries, kept in memory and in a JSON file
//! under the data directory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::population::{self, Address, Citizen};
use crate::saml;

/// How the simulator is set up.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Keys, certificate and state live here.
    pub data_dir: PathBuf,
    /// The simulator's own address as browsers reach it (for metadata).
    pub base_url: String,
    /// The one service provider / qualified identity provider registered with it.
    pub sp_entity_id: String,
    /// Where its SAML metadata (with its signing certificate) is published.
    pub sp_metadata_url: String,
    /// The token the identity provider presents on `/idp-api`.
    pub api_token: String,
    /// Where the register delivers population-register data to the identity provider (its
    /// data box, in reality).
    pub intake_url: String,
    /// The transport credential the delivery presents there (the data box's own login,
    /// in reality), as a bearer token.
    pub intake_token: String,
}

/// A Czech POINT request waiting for the register to process it (1–2 business days in
/// reality; the officer console releases the queue).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueuedDelivery {
    pub message_id: String,
    pub citizen_id: String,
    pub message: String,
    pub filed_at: i64,
}

/// A registered means of a person (one of the identity provider's security keys).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Means {
    pub id: String,
    pub bsi: String,
    pub means_ref: String,
    pub loa: String,
    pub active: bool,
}

/// A change of a person's registry data.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    pub seq: u64,
    pub bsi: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub birth_place: String,
    pub address: Option<Address>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub(crate) citizens: Vec<Citizen>,
    pub(crate) means: Vec<Means>,
    pub(crate) changes: Vec<Change>,
    #[serde(default)]
    pub(crate) queue: Vec<QueuedDelivery>,
    /// Logins to the services through NIA, as NIA recorded them.
    #[serde(default)]
    pub(crate) logins: Vec<crate::services::LoginRecord>,
}

pub(crate) struct Flow {
    pub(crate) request: saml::Request,
    pub(crate) citizen: Option<String>,
    pub(crate) pin_failures: u32,
}

pub(crate) struct Inner {
    pub(crate) config: SimConfig,
    pub(crate) signer: saml::Signer,
    pub(crate) outage: AtomicBool,
    pub(crate) state: Mutex<Stored>,
    pub(crate) flows: Mutex<HashMap<String, Flow>>,
    /// Logins toward the services in progress at NIA (by flow).
    pub(crate) logins: Mutex<HashMap<String, crate::services::LoginFlow>>,
    /// Who is logged into which service in which browser.
    pub(crate) service_sessions: Mutex<HashMap<String, crate::services::ServiceSession>>,
    pub(crate) http: reqwest::Client,
}

#[derive(Clone)]
pub struct Sim(pub(crate) Arc<Inner>);

impl Sim {
    /// Loads (or makes, on first start) the keys and state in `config.data_dir`.
    pub fn open(config: SimConfig) -> std::io::Result<Self> {
        let signer = saml::Signer::load_or_create(&config.data_dir)?;
        let path = config.data_dir.join("state.json");
        let stored = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(std::io::Error::other)?,
            Err(_) => Stored {
                citizens: population::test_population(),
                means: Vec::new(),
                changes: Vec::new(),
                queue: Vec::new(),
                logins: Vec::new(),
            },
        };
        Ok(Sim(Arc::new(Inner {
            config,
            signer,
            outage: AtomicBool::new(false),
            state: Mutex::new(stored),
            flows: Mutex::new(HashMap::new()),
            logins: Mutex::new(HashMap::new()),
            service_sessions: Mutex::new(HashMap::new()),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .map_err(std::io::Error::other)?,
        })))
    }

    pub fn outage(&self) -> bool {
        self.0.outage.load(Ordering::SeqCst)
    }

    pub fn set_outage(&self, on: bool) {
        self.0.outage.store(on, Ordering::SeqCst);
        tracing::info!(outage = on, "nia-sim outage switched");
    }

    /// NIA's signing certificate (DER).
    pub fn certificate_der(&self) -> Vec<u8> {
        self.0.signer.cert.to_der().unwrap_or_default()
    }

    /// The pseudonymous identifier of a person for the registered provider: stable, and
    /// different for every provider.
    pub fn bsi(&self, citizen_id: &str) -> String {
        let mut h = sha2::Sha256::new();
        h.update(self.certificate_der());
        h.update(self.0.config.sp_entity_id.as_bytes());
        h.update(citizen_id.as_bytes());
        let d = h.finalize();
        let hex = hex::encode(&d[..16]);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    pub(crate) fn with_state<T>(&self, f: impl FnOnce(&mut Stored) -> T) -> T {
        let mut s = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        let out = f(&mut s);
        let path = self.0.config.data_dir.join("state.json");
        if let Ok(json) = serde_json::to_vec_pretty(&*s) {
            let tmp = path.with_extension("json.tmp");
            if std::fs::write(&tmp, json).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
        out
    }

    /// The holder of test card `card` when `pin` is its PIN (what a card login checks).
    pub(crate) fn card_holder(&self, card: &str, pin: &str) -> Option<Citizen> {
        self.with_state(|s| {
            s.citizens
                .iter()
                .find(|c| c.card_number == card.trim() && c.pin == pin.trim())
                .cloned()
        })
    }

    pub(crate) fn citizen_by_bsi(&self, bsi: &str) -> Option<Citizen> {
        let citizens = self.with_state(|s| s.citizens.clone());
        citizens.into_iter().find(|c| self.bsi(&c.id) == bsi)
    }

    /// Changes a citizen's registry data; a linked person (with an active means) gets a
    /// change notification.
    pub fn update_citizen(&self, id: &str, patch: &CitizenPatch) -> Option<Citizen> {
        let bsi = self.bsi(id);
        self.with_state(|s| {
            let c = s.citizens.iter_mut().find(|c| c.id == id)?;
            if let Some(v) = &patch.given_name {
                c.given_name = v.trim().to_owned();
            }
            if let Some(v) = &patch.family_name {
                c.family_name = v.trim().to_owned();
            }
            if patch.street.is_some()
                || patch.number.is_some()
                || patch.city.is_some()
                || patch.postcode.is_some()
            {
                let old = c.address.clone().unwrap_or(Address {
                    street: String::new(),
                    number: String::new(),
                    city: String::new(),
                    postcode: String::new(),
                });
                c.address = Some(Address {
                    street: patch.street.clone().unwrap_or(old.street).trim().to_owned(),
                    number: patch.number.clone().unwrap_or(old.number).trim().to_owned(),
                    city: patch.city.clone().unwrap_or(old.city).trim().to_owned(),
                    postcode: patch
                        .postcode
                        .clone()
                        .unwrap_or(old.postcode)
                        .trim()
                        .to_owned(),
                });
            }
            let c = c.clone();
            if s.means.iter().any(|m| m.bsi == bsi && m.active) {
                let seq = s.changes.last().map_or(1, |l| l.seq + 1);
                s.changes.push(Change {
                    seq,
                    bsi: bsi.clone(),
                    given_name: c.given_name.clone(),
                    family_name: c.family_name.clone(),
                    birth_date: c.birth_date.clone(),
                    birth_place: c.birth_place.clone(),
                    address: c.address.clone(),
                });
            }
            Some(c)
        })
    }

    /// At a Czech POINT office: the citizen with card `card` asks for their data to be
    /// provided to the identity provider, with `message` for the recipient. Queued.
    pub fn file_office_request(&self, card: &str, message: &str) -> Option<QueuedDelivery> {
        let citizen = self.with_state(|s| {
            s.citizens
                .iter()
                .find(|c| c.card_number == card.trim())
                .cloned()
        })?;
        let q = QueuedDelivery {
            message_id: uuid::Uuid::new_v4().to_string(),
            citizen_id: citizen.id,
            message: message.trim().to_owned(),
            filed_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        self.with_state(|s| s.queue.push(q.clone()));
        Some(q)
    }

    pub fn queue(&self) -> Vec<QueuedDelivery> {
        self.with_state(|s| s.queue.clone())
    }

    /// The register processes the queue: each request is delivered (signed) to the identity
    /// provider's intake; what could not be delivered stays queued. Returns (delivered, left).
    pub async fn release_queue(&self) -> (usize, usize) {
        if self.outage() {
            return (0, self.queue().len());
        }
        let mut delivered = 0;
        for q in self.queue() {
            let Some(c) =
                self.with_state(|s| s.citizens.iter().find(|c| c.id == q.citizen_id).cloned())
            else {
                continue;
            };
            use base64::Engine;
            let pdf =
                base64::engine::general_purpose::STANDARD.encode(saml::extract_pdf(&c, &q.message));
            let xml = match saml::delivery(
                &self.0.signer,
                &q.message_id,
                "CZ.NIC, z. s. p. o. (mojeID)",
                &q.message,
                &c,
                &pdf,
                time::OffsetDateTime::now_utc(),
            ) {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!(error = %e, "nia-sim: cannot sign a delivery");
                    continue;
                }
            };
            let sent = self
                .0
                .http
                .post(&self.0.config.intake_url)
                .header("content-type", "application/xml")
                .bearer_auth(&self.0.config.intake_token)
                .body(xml)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    self.with_state(|s| s.queue.retain(|x| x.message_id != q.message_id));
                    delivered += 1;
                }
                Ok(r) => {
                    tracing::warn!(status = %r.status(), "nia-sim: the recipient refused a delivery")
                }
                Err(e) => tracing::warn!(error = %e, "nia-sim: delivery failed; it stays queued"),
            }
        }
        (delivered, self.queue().len())
    }

    /// Delivers a message that was already delivered once more (a duplicate, as data boxes
    /// may do) — for tests.
    pub async fn redeliver(&self, message_id: &str, card: &str, message: &str) -> bool {
        let Some(c) =
            self.with_state(|s| s.citizens.iter().find(|c| c.card_number == card).cloned())
        else {
            return false;
        };
        let Ok(xml) = saml::delivery(
            &self.0.signer,
            message_id,
            "CZ.NIC, z. s. p. o. (mojeID)",
            message,
            &c,
            "",
            time::OffsetDateTime::now_utc(),
        ) else {
            return false;
        };
        matches!(self.0.http.post(&self.0.config.intake_url).header("content-type", "application/xml").bearer_auth(&self.0.config.intake_token).body(xml).send().await, Ok(r) if r.status().is_success())
    }

    /// Every means ever registered, active or not.
    pub fn all_means(&self) -> Vec<Means> {
        self.with_state(|s| s.means.clone())
    }

    /// The active means registered for a person.
    pub fn active_means(&self, bsi: &str) -> Vec<Means> {
        self.with_state(|s| {
            s.means
                .iter()
                .filter(|m| m.bsi == bsi && m.active)
                .cloned()
                .collect()
        })
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct CitizenPatch {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub street: Option<String>,
    pub number: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
}

//! The mojeID server: configuration, the axum router around the Leptos app, middleware
//! (request ids, client facts, language, Origin checks, login guard, security headers),
//! health checks, background jobs and graceful shutdown. `main` only wires these together.

// the page views (islands inside them) are deeply nested types
#![recursion_limit = "256"]

pub mod config;
pub mod document;
pub mod handlers;
pub mod jobs;
pub mod mds_import;
pub mod middleware;
pub mod seed;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use http::header::{self, HeaderValue};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use config::{Config, Mode};

/// What every handler and middleware gets: cloned per request and per middleware, so its
/// parts are shared, not copied.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: Arc<LeptosOptions>,
    pub idp: Arc<idp::Idp>,
    pub config: Arc<Config>,
}

impl AppState {
    /// The session cookie's name (`__Host-` prefixed on https).
    pub fn session_cookie(&self) -> &'static str {
        app::ssr::session_cookie_name(self.config.secure_cookies())
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        (*state.leptos_options).clone()
    }
}

/// Connects the database (running migrations) and builds the domain handle.
pub async fn build_idp(config: &Config, clock: idp::Clock) -> Result<idp::Idp, idp::Error> {
    let metadata = load_metadata(config, clock.now())?;
    let idp = open_idp(config, clock).await?;
    idp.set_metadata(metadata);
    let sp_dir = std::path::Path::new(&config.data_dir).join("sp");
    let (key, cert) =
        idp::nia::client::load_sp_identity(&sp_dir, config.mode != config::Mode::Production)
            .map_err(|e| idp::Error::Internal(format!("DATA_DIR={}: {e}", config.data_dir)))?;
    let client = idp::nia::client::NiaClient::new(config.nia(), key, cert)
        .map_err(|e| idp::Error::Internal(e.to_string()))?;
    idp.set_nia(client);
    Ok(idp)
}

/// The database alone (no FIDO metadata, no NIA client): enough for operator commands
/// such as `staff grant` and `deliveries`.
pub async fn open_idp(config: &Config, clock: idp::Clock) -> Result<idp::Idp, idp::Error> {
    if let Some(path) = sqlite_file(&config.database_url) {
        if let Some(dir) = std::path::Path::new(&path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| idp::Error::Internal(format!("creating {}: {e}", dir.display())))?;
        }
    }
    let db = idp::Db::connect(&config.database_url, config.database_max_connections).await?;
    let hasher = idp::account::password::Hasher::new(config.hash_workers, config.hash_queue)?
        .with_wait_budget(std::time::Duration::from_millis(config.hash_wait_budget_ms));
    Ok(idp::Idp::new(db, hasher, clock, config.policy.clone()))
}

/// Reads and verifies the FIDO metadata BLOB named by the configuration. A stale BLOB is
/// used only when allowed, with a warning; an invalid one stops the start.
pub fn load_metadata(config: &Config, now: i64) -> Result<idp::keys::mds::Metadata, idp::Error> {
    let read = |name: &str, path: &str| {
        std::fs::read(path).map_err(|e| idp::Error::Internal(format!("{name}={path}: {e}")))
    };
    let blob = read("MDS_BLOB_PATH", &config.mds_blob_path)?;
    let root = read("MDS_ROOT_PATH", &config.mds_root_path)?;
    let staleness = if config.mds_allow_stale {
        idp::keys::mds::Staleness::Allow
    } else {
        idp::keys::mds::Staleness::Refuse
    };
    let started = std::time::Instant::now();
    let metadata =
        idp::keys::mds::Metadata::load(&String::from_utf8_lossy(&blob), &root, staleness, now)
            .map_err(|e| {
                idp::Error::Internal(format!("MDS_BLOB_PATH={}: {e}", config.mds_blob_path))
            })?;
    tracing::info!(
        serial = metadata.serial,
        models = metadata.models.len(),
        ms = started.elapsed().as_millis() as u64,
        "FIDO metadata loaded"
    );
    if let Some(since) = &metadata.stale_since {
        tracing::warn!(
            next_update = %since,
            "FIDO metadata is stale since {since}: import a current BLOB (MDS_BLOB_PATH)"
        );
    }
    Ok(metadata)
}

fn sqlite_file(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("mojeid")
        .site_root(config.site_root.as_str())
        // pages name the assets by their content's hash, so browsers may keep them for ever
        .site_pkg_dir(format!("pkg/{}", asset_version(&config.site_root)))
        .site_addr(config.bind_addr)
        .build()
}

/// A hash of the built assets under `SITE_ROOT/pkg` (names and contents, first 16 hex digits
/// of SHA-256): the path segment of `/pkg/{version}/…`, new with every build that changes a
/// byte. A missing directory hashes as empty (the server still starts and says so on the
/// pages' missing scripts).
pub fn asset_version(site_root: &str) -> String {
    use sha2::Digest;
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(format!("{site_root}/pkg"))
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    let mut hash = sha2::Sha256::new();
    for f in files {
        hash.update(
            f.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        hash.update(std::fs::read(&f).unwrap_or_default());
    }
    hex::encode(&hash.finalize()[..8])
}

/// `/pkg/…`: the assets. Under the current version (`/pkg/{version}/…`, what pages link)
/// they never change, so they are cached for a year without asking again; by their plain
/// name (`/pkg/mojeid.css`, for the few server-written pages) browsers ask again each time.
async fn assets(
    dir: ServeDir,
    versioned: Arc<str>,
    mut req: axum::extract::Request,
) -> axum::response::Response {
    use tower::ServiceExt;
    // "/pkg/{version}/mojeid.js" or "/pkg/mojeid.js", as "/mojeid.js" for the directory
    let path = req.uri().path();
    let (rest, immutable) = match path.strip_prefix(&*versioned) {
        Some(rest) => (format!("/{rest}"), true),
        None => (path.strip_prefix("/pkg").unwrap_or(path).to_owned(), false),
    };
    if let Ok(uri) = rest.parse::<http::Uri>() {
        *req.uri_mut() = uri;
    }
    let mut res = match dir.oneshot(req).await {
        Ok(res) => res.map(axum::body::Body::new),
        Err(never) => match never {},
    };
    if res.status().is_success() {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if immutable {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            }),
        );
    }
    res
}

/// The largest request body the server reads at all.
pub const MAX_REQUEST_BODY_BYTES: usize = 12 * 1024 * 1024;

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let server_ctx = app::ssr::ServerContext {
        idp: state.idp.clone(),
        secure_cookies: state.config.secure_cookies(),
        public_url: state.config.public_url.as_str().into(),
    };
    let options = state.leptos_options.clone();
    let mut router = Router::new()
        .route("/logout", post(handlers::logout).get(handlers::logout_page))
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(handlers::readyz))
        .route("/metrics", get(handlers::metrics))
        // browsers ask for it whatever the page names: the one icon there is
        .route(
            "/favicon.ico",
            get(|| async { axum::response::Redirect::permanent("/favicon.svg") }),
        )
        .route("/saml/metadata", get(handlers::saml_metadata))
        // anyone can post to these three: bodies past what NIA and the register send are cut
        // off before they are read
        .route(
            "/nia/acs",
            post(handlers::nia_acs).layer(axum::extract::DefaultBodyLimit::max(
                idp::nia::client::MAX_RESPONSE_BYTES + 4096,
            )),
        )
        .route(
            "/saml/idp/sso",
            post(handlers::nia_sso).get(handlers::nia_sso_get).layer(
                axum::extract::DefaultBodyLimit::max(idp::nia::saml_idp::MAX_REQUEST_BYTES + 4096),
            ),
        )
        .route(
            "/intake/rob",
            post(handlers::office_intake).layer(axum::extract::DefaultBodyLimit::max(
                idp::nia::client::MAX_DELIVERY_BYTES,
            )),
        )
        .route(
            "/settings/nia/document/{id}/pdf",
            get(handlers::office_document_pdf),
        )
        .route(
            "/admin/paper-forms/{id}/scan",
            get(handlers::paper_form_scan),
        )
        .route(
            "/support/draft/screenshot",
            get(handlers::support_draft_screenshot),
        )
        .route(
            "/admin/support/{id}/screenshot",
            get(handlers::support_screenshot),
        )
        .route(
            "/help/zadost-o-reset-hesla-v-mojeid.pdf",
            get(handlers::reset_form_pdf),
        );
    if state.config.dev_tools() {
        router = router.route("/dev/outbox", get(handlers::dev_outbox));
    }
    let router = router
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(server_ctx.clone()),
            move || app::shell((*options).clone()),
        )
        // WASM, JS and CSS, precompressed with brotli by `./x build --release`
        .route("/pkg/{*path}", {
            let dir = ServeDir::new(format!("{}/pkg", state.config.site_root)).precompressed_br();
            let versioned: Arc<str> = format!("/{}/", state.leptos_options.site_pkg_dir).into();
            get(move |req| assets(dir.clone(), versioned.clone(), req))
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::require_login,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::check_origin,
        ))
        .layer(axum::middleware::from_fn(middleware::limit_support_posts))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::keep_refused_form,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_meta,
        ))
        .layer(axum::middleware::from_fn(middleware::no_store))
        // no request body is bigger than a paper form's scan (10 MB) and its form; the XML
        // edges and the support form have tighter limits of their own
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_REQUEST_BODY_BYTES,
        ));
    let hsts = state.config.secure_cookies();
    let router = router.with_state(state);
    // browsers that have seen us over https never try plain http again
    let router = if hsts {
        router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ))
    } else {
        router
    };
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
            ),
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(middleware::request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::ERROR)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

//! The server as a browser and an operator meet it: the real router, driven in-process, on
//! SQLite and on PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use http::header::{
    ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, RETRY_AFTER, SET_COOKIE,
};
use http::{Request, Response, StatusCode};
use idp::testing::TempDatabase;
use server::{AppState, Config};
use tower::ServiceExt;

const ORIGIN_OK: &str = "http://127.0.0.1:3000";
const PW: &str = "kobyla ma maly bok u potoka";

struct Harness {
    client: Client,
    db: TempDatabase,
}

/// What a test drives: the router and its state.
#[derive(Clone)]
struct Client {
    router: Router,
    state: AppState,
}

async fn harness(db: TempDatabase, extra: &[(&str, &str)]) -> Harness {
    let mut env: HashMap<String, String> = HashMap::from([
        ("APP_MODE".into(), "test".into()),
        ("DATABASE_URL".into(), db.url.clone()),
        ("NIA_SIM_ADDR".into(), String::new()),
        (
            "DATA_DIR".into(),
            std::env::temp_dir()
                .join(format!("mojeid-http-test-{}", std::process::id()))
                .display()
                .to_string(),
        ),
        (
            "MDS_BLOB_PATH".into(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/../fido/mds/blob.jwt").into(),
        ),
        (
            "MDS_ROOT_PATH".into(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/../fido/mds/root-r3.crt").into(),
        ),
    ]);
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("config");
    let idp = server::build_idp(&config, idp::Clock::system())
        .await
        .expect("idp");
    let state = AppState {
        leptos_options: Arc::new(server::leptos_options(&config)),
        idp: Arc::new(idp),
        config: Arc::new(config),
    };
    Harness {
        client: Client {
            router: server::router(state.clone()),
            state,
        },
        db,
    }
}

impl Client {
    async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.expect("response")
    }
}

impl Harness {
    async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.client.send(req).await
    }

    async fn close(self) {
        self.client.state.idp.db.pool.close().await;
        self.db.drop_now().await;
    }
}

async fn text(res: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .expect("body");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The answer's `Cache-Control`.
fn cache_control(res: &http::Response<Body>) -> Option<&str> {
    res.headers()
        .get(http::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
}

fn get(uri: &str) -> http::request::Builder {
    Request::get(uri)
}

fn form(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(ORIGIN, ORIGIN_OK)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .expect("request")
}

fn session_cookie(res: &Response<Body>) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("mojeid_session=") || c.starts_with("__Host-mojeid_session="))
        .map(str::to_owned)
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or("").to_owned()
}

macro_rules! both_databases {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let h = harness(TempDatabase::sqlite(), &[]).await;
                ($body)(h.client.clone()).await;
                h.close().await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(db) = TempDatabase::postgres().await else {
                    eprintln!("PostgreSQL not configured (DATABASE_URL_PG): skipped");
                    return;
                };
                let h = harness(db, &[]).await;
                ($body)(h.client.clone()).await;
                h.close().await;
            }
        }
    };
}

both_databases!(
    login_page_is_server_rendered_in_the_right_language,
    |h: Client| async move {
        let res = h
            .send(get("/login").body(Body::empty()).expect("req"))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().contains_key("x-request-id"));
        let html = text(res).await;
        assert!(html.contains(r#"<html lang="cs">"#), "{html}");
        assert!(html.contains(r#"action="/api/login""#) && html.contains(r#"name="password""#));
        assert!(html.contains("Přihlášení"));

        let res = h
            .send(
                get("/login")
                    .header(ACCEPT_LANGUAGE, "en-GB,en;q=0.9")
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        assert!(text(res).await.contains(r#"<html lang="en">"#));

        let res = h
            .send(get("/register?lang=en").body(Body::empty()).expect("req"))
            .await;
        let cookie = res
            .headers()
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(cookie.starts_with("lang=en;"), "{cookie}");
        let res = h
            .send(
                get("/register")
                    .header(COOKIE, "lang=en")
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        assert!(text(res).await.contains("Create account"));
    }
);

both_databases!(
    register_needs_our_origin_and_sets_a_safe_cookie,
    |h: Client| async move {
        let foreign = Request::post("/api/register")
            .header(ORIGIN, "https://evil.example")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("username=eva&password={PW}")))
            .expect("req");
        assert_eq!(h.send(foreign).await.status(), StatusCode::FORBIDDEN);
        let no_origin = Request::post("/api/register")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("username=eva&password={PW}")))
            .expect("req");
        assert_eq!(h.send(no_origin).await.status(), StatusCode::FORBIDDEN);
        assert!(
            h.state.idp.find_account("eva").await.expect("db").is_none(),
            "nothing was created"
        );

        let res = h
            .send(form(
                "/api/register",
                &format!("username=eva&password={}", PW.replace(' ', "+")),
            ))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = session_cookie(&res).expect("session cookie");
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && !cookie.contains("Secure"),
            "{cookie}"
        );
        assert_eq!(text(res).await, r#""/settings""#);

        // the session opens the settings; without it the browser is sent to log in
        let res = h
            .send(
                get("/settings")
                    .header(COOKIE, cookie_pair(&cookie))
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(text(res).await.contains("eva"));
        let res = h
            .send(get("/settings/profile").body(Body::empty()).expect("req"))
            .await;
        assert!(res.status().is_redirection());
        assert_eq!(
            res.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
            Some("/login?next=%2Fsettings%2Fprofile")
        );

        // logout ends the session and clears the cookie
        let res = h
            .send(
                Request::post("/logout")
                    .header(ORIGIN, ORIGIN_OK)
                    .header(COOKIE, cookie_pair(&cookie))
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        assert_eq!(
            res.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
            Some("/login?logged_out=1")
        );
        assert!(session_cookie(&res).is_some_and(|c| c.contains("Max-Age=0")));
        let res = h
            .send(
                get("/settings")
                    .header(COOKIE, cookie_pair(&cookie))
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        assert!(res.status().is_redirection());
    }
);

both_databases!(
    login_errors_have_statuses_and_retry_after,
    |h: Client| async move {
        let res = h
            .send(form(
                "/api/register",
                &format!("username=petr&password={}", PW.replace(' ', "+")),
            ))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        for _ in 0..5 {
            let res = h
                .send(form(
                    "/api/login",
                    "username=petr&password=wrong+password+here&next=",
                ))
                .await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
            assert!(text(res).await.contains("BadCredentials"));
        }
        // past the five, each try waits longer than the last (1 s, 2 s, 4 s …): keep guessing
        // until a try comes before its delay is over
        let mut throttled = None;
        for _ in 0..12 {
            let res = h
                .send(form(
                    "/api/login",
                    "username=petr&password=wrong+password+here&next=",
                ))
                .await;
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                throttled = Some(res);
                break;
            }
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let res = throttled.expect("a delay within twelve guesses");
        let retry: i64 = res
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After");
        assert!(retry > 0 && retry <= 900);
    }
);

both_databases!(
    plain_form_login_without_javascript_redirects,
    |h: Client| async move {
        h.send(form(
            "/api/register",
            &format!("username=nojs&password={}", PW.replace(' ', "+")),
        ))
        .await;
        let mut req = form(
            "/api/login",
            &format!(
                "username=nojs&password={}&next=%2Fsettings%2Fcontacts",
                PW.replace(' ', "+")
            ),
        );
        req.headers_mut()
            .insert(ACCEPT, "text/html".parse().expect("header"));
        let res = h.send(req).await;
        assert_eq!(res.status(), StatusCode::FOUND);
        assert_eq!(
            res.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
            Some("/settings/contacts")
        );
        assert!(session_cookie(&res).is_some());

        // a refused plain post goes back to the form, which shows the error in the page's language
        let body = "username=nojs&password=wrong+password+here&next=";
        let mut req = form("/api/login", body);
        req.headers_mut()
            .insert(ACCEPT, "text/html".parse().expect("header"));
        // as a browser sends it (a form of unknown length is passed on, its fields not kept)
        req.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            body.len().to_string().parse().expect("header"),
        );
        req.headers_mut().insert(
            http::header::REFERER,
            format!("{ORIGIN_OK}/login").parse().expect("header"),
        );
        let res = h.send(req).await;
        assert_eq!(res.status(), StatusCode::FOUND);
        let back = res
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(back.starts_with(&format!("{ORIGIN_OK}/login?")), "{back}");
        // what was typed comes back for the form (a one-minute cookie), the password never
        let kept: Vec<String> = res
            .headers()
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|c| c.starts_with("kept_form="))
            .map(str::to_owned)
            .collect();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(kept[0].contains("username=nojs"), "{}", kept[0]);
        assert!(
            !kept[0].contains("password") && !kept[0].contains("wrong"),
            "{}",
            kept[0]
        );
        assert!(kept[0].contains("HttpOnly") && kept[0].contains("SameSite=Strict"));
        let kept_pair = kept[0].split(';').next().unwrap_or("").to_owned();
        let path = back.trim_start_matches(ORIGIN_OK);
        let res = h
            .send(
                get(path)
                    .header(ACCEPT_LANGUAGE, "en")
                    .header(http::header::COOKIE, &kept_pair)
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        // read once: the page clears it
        assert!(res
            .headers()
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.starts_with("kept_form=;") && c.contains("Max-Age=0")));
        let page = text(res).await;
        assert!(page.contains("Incorrect username or password."), "{page}");
        assert!(
            page.contains(r#"name="username""#) && page.contains(r#"value="nojs""#),
            "{page}"
        );
    }
);

both_databases!(
    a_form_posted_by_its_island_is_told_where_to_go,
    |h: Client| async move {
        // what the KeepTyped island sends: the form as the browser would, and its header
        let island = |uri: &str, body: &str, origin: &str| {
            let mut req = form(uri, body);
            let headers = req.headers_mut();
            headers.insert(ACCEPT, "text/html".parse().expect("header"));
            headers.insert(ORIGIN, origin.parse().expect("header"));
            headers.insert("x-keep-typed", "1".parse().expect("header"));
            headers.insert(
                http::header::CONTENT_LENGTH,
                body.len().to_string().parse().expect("header"),
            );
            headers.insert(
                http::header::REFERER,
                format!("{ORIGIN_OK}/register").parse().expect("header"),
            );
            req
        };
        let go = |res: &Response<Body>| {
            res.headers()
                .get("x-go")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        // a refusal: no redirect to follow, the address with the error in x-go
        let res = h
            .send(island(
                "/api/register",
                "username=a+b&password=short",
                ORIGIN_OK,
            ))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().get(LOCATION).is_none());
        let back = go(&res).expect("x-go");
        assert!(
            back.starts_with(&format!("{ORIGIN_OK}/register?")),
            "{back}"
        );
        assert!(back.contains("__err="), "{back}");
        // done: where the page goes next, and the session's cookie with it
        let body = format!("username=island&password={}", PW.replace(' ', "+"));
        let res = h.send(island("/api/register", &body, ORIGIN_OK)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(go(&res).as_deref(), Some("/settings"));
        assert!(session_cookie(&res).is_some());
        // the header opens no door: another site's page is refused as before
        let body = format!("username=island2&password={}", PW.replace(' ', "+"));
        let res = h
            .send(island("/api/register", &body, "https://evil.example"))
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(go(&res).is_none());
    }
);

both_databases!(health_and_readiness, |h: Client| async move {
    let res = h
        .send(get("/healthz").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = h
        .send(
            get("/readyz")
                .header("x-request-id", "req-123")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("req-123")
    );
    // operators see that the shipped FIDO metadata is stale
    assert!(text(res)
        .await
        .contains("FIDO metadata is stale since 2025-01-01"));
    h.state.idp.db.pool.close().await;
    let res = h
        .send(get("/readyz").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
});

#[tokio::test]
async fn dev_outbox_exists_only_outside_production() {
    let h = harness(TempDatabase::sqlite(), &[]).await;
    let res = h
        .send(get("/dev/outbox").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    h.close().await;

    let h = harness(
        TempDatabase::sqlite(),
        &[
            ("APP_MODE", "production"),
            ("PUBLIC_URL", "https://mojeid.example"),
            ("SMTP_URL", "smtp://127.0.0.1:2525"),
            ("SMS_GATEWAY_URL", "https://sms.example/api/send"),
            ("SMS_GATEWAY_TOKEN", "sms-token"),
            // production never makes a SAML key: the dev harness above made it in DATA_DIR
            ("NIA_API_TOKEN", "token"),
            ("INTAKE_TOKEN", "intake-token-0123456789"),
            (
                "NIA_SIGNING_CERT_SHA256",
                "0000000000000000000000000000000000000000000000000000000000000000",
            ),
            // the shipped BLOB is past its nextUpdate
            ("MDS_ALLOW_STALE", "true"),
        ],
    )
    .await;
    let res = h
        .send(get("/dev/outbox").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // and cookies are Secure behind https
    let req = Request::post("/api/register")
        .header(ORIGIN, "https://mojeid.example")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username=prod&password={}",
            PW.replace(' ', "+")
        )))
        .expect("req");
    let res = h.send(req).await;
    // behind https the session cookie is Secure and `__Host-` prefixed, and browsers are told
    // to come back over https only; nothing we answer may be cached
    assert!(session_cookie(&res)
        .is_some_and(|c| c.contains("; Secure") && c.starts_with("__Host-mojeid_session=")));
    assert!(res
        .headers()
        .get(http::header::STRICT_TRANSPORT_SECURITY)
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("max-age="))));
    assert_eq!(cache_control(&res), Some("no-store"));
    h.close().await;
}

#[tokio::test]
async fn site_assets_are_served_precompressed_and_cached_by_their_content_hash() {
    let site = std::env::temp_dir().join(format!("mojeid-site-{}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).expect("dir");
    std::fs::write(site.join("pkg/app.js"), "console.log('plain')").expect("js");
    std::fs::write(site.join("pkg/app.js.br"), b"brotli-bytes").expect("br");
    let h = harness(
        TempDatabase::sqlite(),
        &[("SITE_ROOT", site.to_str().expect("utf-8 path"))],
    )
    .await;
    let res = h
        .send(
            get("/pkg/app.js")
                .header("accept-encoding", "gzip, br")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("br")
    );
    assert_eq!(text(res).await, "brotli-bytes");
    let res = h
        .send(get("/pkg/app.js").body(Body::empty()).expect("req"))
        .await;
    // by the plain name: asked again each time
    assert_eq!(cache_control(&res), Some("no-cache"));
    assert_eq!(text(res).await, "console.log('plain')");

    // pages name the assets by the build's content hash, and those are kept for a year
    let version = server::asset_version(site.to_str().expect("utf-8 path"));
    let page = text(
        h.send(get("/login").body(Body::empty()).expect("req"))
            .await,
    )
    .await;
    assert!(
        page.contains(&format!("/pkg/{version}/mojeid.css")),
        "no versioned stylesheet in {page}"
    );
    let res = h
        .send(
            get(&format!("/pkg/{version}/app.js"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        cache_control(&res),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(text(res).await, "console.log('plain')");
    // another version is not ours: nothing is served under its name
    let res = h
        .send(
            get("/pkg/0123456789abcdef/app.js")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // a changed byte is a new version
    std::fs::write(site.join("pkg/app.js"), "console.log('plain!')").expect("js");
    assert_ne!(
        server::asset_version(site.to_str().expect("utf-8 path")),
        version
    );
    h.close().await;
    let _ = std::fs::remove_dir_all(site);
}

both_databases!(
    the_public_xml_edges_turn_away_cheaply_what_nothing_vouches_for,
    |h: Client| async move {
        let acs = |body: String| {
            Request::post("/nia/acs")
                .header(ORIGIN, "http://127.0.0.1:3001")
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .expect("req")
        };
        // more than NIA ever sends: cut off before it is read
        let huge = format!("SAMLResponse={}&RelayState=x", "A".repeat(2 * 1024 * 1024));
        let res = h.send(acs(huge)).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        // a RelayState nobody issued: counted, sampled once into the audit log, no XML read
        for _ in 0..50 {
            let res = h
                .send(acs("SAMLResponse=PHg+&RelayState=forged".into()))
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            assert_eq!(
                res.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
                Some("/settings/nia?nia=invalid")
            );
        }
        let idp = &h.state.idp;
        assert_eq!(
            idp.edge_counters().rejected(idp::public_edge::Edge::NiaAcs),
            50
        );
        let sampled: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_events WHERE event = 'public_edge.rejected'",
        )
        .fetch_one(&idp.db.pool)
        .await
        .expect("audit");
        assert!(
            (1..=2).contains(&sampled.0),
            "sampled, not a row each: {}",
            sampled.0
        );

        // the intake: without the data box's credential nothing is read
        let intake = |auth: Option<&str>, body: &str| {
            let mut r = Request::post("/intake/rob").header(CONTENT_TYPE, "application/xml");
            if let Some(a) = auth {
                r = r.header(http::header::AUTHORIZATION, a);
            }
            r.body(Body::from(body.to_owned())).expect("req")
        };
        let res = h.send(intake(None, "<x/>")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = h
            .send(intake(Some("Bearer wrong-token-0123456789"), "<x/>"))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // with it, a document type declaration is refused before any parser sees it
        let entity = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
        let res = h
            .send(intake(Some("Bearer dev-intake-token-0000"), entity))
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            idp.edge_counters()
                .rejected(idp::public_edge::Edge::RobIntake),
            3
        );

        // /metrics exists only with a token, and only for its holder
        let res = h
            .send(get("/metrics").body(Body::empty()).expect("req"))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
);

/// `/metrics` asked for with the test servers' token.
fn metrics_request() -> Request<Body> {
    get("/metrics")
        .header(
            http::header::AUTHORIZATION,
            "Bearer metrics-token-0123456789",
        )
        .body(Body::empty())
        .expect("req")
}

#[tokio::test]
async fn metrics_count_the_rejects_for_the_token_holder_only() {
    let h = harness(
        TempDatabase::sqlite(),
        &[("METRICS_TOKEN", "metrics-token-0123456789")],
    )
    .await;
    let _ = h
        .send(
            Request::post("/intake/rob")
                .body(Body::from("<x/>"))
                .expect("req"),
        )
        .await;
    let res = h
        .send(get("/metrics").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = h.send(metrics_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = text(res).await;
    assert!(
        body.contains("mojeid_public_edge_rejects_total{edge=\"rob_intake\"} 1"),
        "{body}"
    );
    // what the means reconciliation found, for alerts
    assert!(
        body.contains("mojeid_nia_means_missing_total 0")
            && body.contains("mojeid_nia_means_orphans_deactivated_total 0"),
        "{body}"
    );
    h.close().await;
}

#[tokio::test]
async fn the_icon_browsers_ask_for_by_habit_leads_to_ours() {
    let h = harness(TempDatabase::sqlite(), &[]).await;
    let res = h
        .send(get("/favicon.ico").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        res.headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok()),
        Some("/favicon.svg")
    );
    h.close().await;
}

/// The value of one series in a `/metrics` body (0 when absent).
fn series(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

fn multipart(uri: &str, fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Request<Body> {
    let boundary = "----mojeid-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"shot.png\"\r\nContent-Type: image/png\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Request::post(uri)
        .header(ORIGIN, ORIGIN_OK)
        .header(http::header::ACCEPT, "text/html")
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request")
}

fn location(res: &Response<Body>) -> String {
    res.headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_support_request_goes_through_without_javascript_and_the_metrics_move() {
    let h = harness(
        TempDatabase::sqlite(),
        &[("METRICS_TOKEN", "metrics-token-0123456789")],
    )
    .await;
    let metrics = || async {
        let res = h.send(metrics_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        text(res).await
    };
    let before = metrics().await;

    // a failed login counts (the counters are the process's: other tests may add to them)
    let res = h
        .send(form(
            "/api/login",
            "username=nikdo&password=spatne+heslo+heslo&next=%2Fsettings",
        ))
        .await;
    assert_ne!(res.status(), StatusCode::OK);

    // the form's plain post: a draft, kept by a cookie, and the preview
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let fields = [
        ("username", "jana.zapomnela"),
        ("email", "jana@example.cz"),
        ("os", "Ubuntu 18.04"),
        ("browser", "Google Chrome 131"),
        ("key_type", "GoTrust Idem Key"),
        ("description", "Klíč nefunguje."),
        ("happened_at", "dnes"),
        ("key_check", ""),
    ];
    let res = h
        .send(multipart(
            "/api/support_draft",
            &fields,
            Some(("screenshot", png)),
        ))
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(location(&res), "/support/preview");
    let draft = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("support_draft="))
        .map(cookie_pair)
        .expect("draft cookie");
    assert!(draft.len() > "support_draft=".len() + 20);
    // the preview's screenshot is the draft's holder's only, and sandboxed
    let res = h
        .send(
            get("/support/draft/screenshot")
                .header(http::header::COOKIE, &draft)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get(http::header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok()),
        Some("sandbox; default-src 'none'")
    );
    let res = h
        .send(
            get("/support/draft/screenshot")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // a post bigger than a screenshot and its text is refused by its length, unread
    let mut big = multipart("/api/support_draft", &fields, None);
    big.headers_mut().insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(server::middleware::SUPPORT_POST_MAX_BYTES + 1),
    );
    assert_eq!(h.send(big).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // another site cannot post into it
    let mut foreign = multipart("/api/support_draft", &fields, None);
    foreign.headers_mut().insert(
        ORIGIN,
        http::HeaderValue::from_static("https://evil.example"),
    );
    assert_eq!(h.send(foreign).await.status(), StatusCode::FORBIDDEN);

    let mut send = form("/api/support_send", "");
    send.headers_mut().insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("text/html"),
    );
    send.headers_mut().insert(
        http::header::COOKIE,
        http::HeaderValue::from_str(&draft).expect("cookie"),
    );
    let res = h.send(send).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = location(&res);
    assert!(to.starts_with("/support/sent?reference=MID-"), "{to}");

    // logging out (here: nobody) clears a draft in this browser too
    let res = h.send(form("/logout", "")).await;
    assert!(
        res.headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.starts_with("support_draft=;") && c.contains("Max-Age=0")),
        "{:?}",
        res.headers()
    );

    let after = metrics().await;
    assert!(
        series(&after, "mojeid_logins_total{outcome=\"failed\"}")
            >= series(&before, "mojeid_logins_total{outcome=\"failed\"}") + 1.0,
        "{after}"
    );
    assert!(
        series(
            &after,
            "mojeid_events_total{event=\"support.request_sent\"}"
        ) >= series(
            &before,
            "mojeid_events_total{event=\"support.request_sent\"}"
        ) + 1.0
    );
    // the gauges are this database's
    assert_eq!(
        series(&after, "mojeid_support_requests{state=\"open\"}"),
        1.0
    );
    assert_eq!(
        series(&after, "mojeid_outbox{status=\"pending\"}"),
        1.0,
        "{after}"
    );
    for name in [
        "mojeid_logins_total{outcome=\"shed\"}",
        "mojeid_key_registrations_total{verdict=\"refused\"}",
        "mojeid_mds_serial",
    ] {
        assert!(after.contains(name), "{name} missing in {after}");
    }
    h.close().await;
}

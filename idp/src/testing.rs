//! Throw-away databases for tests (feature `testing`): a fresh SQLite file, or a fresh
//! PostgreSQL database created on the server named by `DATABASE_URL_PG` and dropped after.

use sqlx::Connection;

pub mod fido;

pub struct TempDatabase {
    /// The URL to connect to.
    pub url: String,
    admin: Option<(String, String)>,
    file: Option<std::path::PathBuf>,
}

impl TempDatabase {
    pub fn sqlite() -> Self {
        let file = std::env::temp_dir().join(format!("mojeid-test-{}.db", uuid::Uuid::new_v4()));
        Self {
            url: format!("sqlite://{}?mode=rwc", file.display()),
            admin: None,
            file: Some(file),
        }
    }

    /// `None` when `DATABASE_URL_PG` is not set (the test command sets it whenever a server
    /// answers on 127.0.0.1:5432). Panics when it is set but unusable: that is a failure.
    pub async fn postgres() -> Option<Self> {
        let admin = std::env::var("DATABASE_URL_PG").ok()?;
        let name = format!("mojeid_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("DATABASE_URL_PG is set but unreachable: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
        let base = admin
            .rsplit_once('/')
            .map(|(base, _)| base.to_owned())
            .unwrap_or_else(|| panic!("DATABASE_URL_PG needs a database path"));
        Some(Self {
            url: format!("{base}/{name}"),
            admin: Some((admin, name)),
            file: None,
        })
    }

    /// Drops the database (call after closing every pool on it).
    pub async fn drop_now(self) {
        if let Some((admin, name)) = &self.admin {
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

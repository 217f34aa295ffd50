//! The lab's store: one schema on PostgreSQL (a shared lab) or on an SQLite file (one machine).
//! Every write that decides who holds what runs in a [`Store::write`] transaction, which the
//! store serializes (an advisory lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};

use crate::error::LabError;
use crate::migrations::MIGRATIONS;
use crate::wake::Waker;

/// The environment variable that names the store when `--lab-db` is not given.
pub const DB_ENV: &str = "VITRO_LAB_DB";

/// The channel that tells every waiter "the lab changed, look again".
pub const CHANNEL: &str = "vitro_lab";

/// The channel that tells the waiter of `ticket` alone that it was granted a board.
pub fn ticket_channel(ticket: i64) -> String {
    format!("{CHANNEL}_{ticket}")
}

/// How long one store operation (a connection, a transaction's statements) may take before it
/// fails naming the store: a store that accepts connections and never answers must not hang.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// How long an SQLite writer waits for another's lock: a second less than [`DEADLINE`].
const SQLITE_BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 9000";

/// Key of the advisory lock that serializes the lab's writes on PostgreSQL.
const WRITE_LOCK: i64 = 0x0056_5452_4f4c_4142; // "VTROLAB"

/// Which engine holds the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A shared lab: many machines, waiters woken by `LISTEN/NOTIFY`.
    Postgres,
    /// One machine: a file, waiters poll.
    Sqlite,
}

/// An open store with its schema up to date.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
    poll: bool,
    /// The waiter's alarm (a listening connection on PostgreSQL), made once and kept: one
    /// acquisition at a time uses it.
    pub(crate) waker: Arc<tokio::sync::Mutex<Option<Waker>>>,
}

impl Store {
    /// Opens `url` (`postgres://...`, `sqlite://PATH`), or `VITRO_LAB_DB`, or an SQLite file in
    /// the user's data directory, and applies the migrations it lacks.
    pub async fn open(url: Option<&str>) -> Result<Self, LabError> {
        sqlx::any::install_default_drivers();
        let url =
            match url.map(str::to_owned).or_else(|| std::env::var(DB_ENV).ok().filter(|u| !u.is_empty())) {
                Some(url) => url,
                None => default_sqlite_url()?,
            };
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(LabError::Config(format!(
                "--lab-db {}: not a store URL; give postgres://USER@HOST/DB (a shared lab) or sqlite://PATH (one machine)",
                redact(&url)
            )));
        };
        if backend == Backend::Sqlite {
            check_sqlite_file(&url)?;
        }
        let options: AnyConnectOptions = url
            .parse()
            .map_err(|e| LabError::Config(scrub(&format!("--lab-db {}: {e}", redact(&url)), &url)))?;
        // One connection first: an unreachable store fails now with its own error, not after
        // the pool's retries.
        let probe = match tokio::time::timeout(DEADLINE, AnyConnection::connect_with(&options)).await {
            Ok(Ok(probe)) => probe,
            Ok(Err(e)) => {
                let text = format!("cannot open the lab store {}: {e}", redact(&url));
                return Err(LabError::Store(scrub(&text, &url)));
            }
            Err(_) => return Err(LabError::Store(no_answer(&redact(&url), DEADLINE, "connecting"))),
        };
        let _ = probe.close().await;
        // Few connections, closed when idle: a job holding a board needs one only to renew it
        // every TTL/3, so a lab of many jobs stays well under PostgreSQL's connection limit.
        let pool = AnyPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(5))
            .acquire_timeout(DEADLINE)
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Writers wait for each other, less long than a store operation may take,
                        // so that SQLite's own "database is locked" comes first.
                        conn.execute(SQLITE_BUSY_TIMEOUT).await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy_with(options);
        let store = Self { pool, backend, url, poll: false, waker: Arc::default() };
        store.within(DEADLINE, "opening", store.migrate()).await?;
        Ok(store)
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Waiters poll even on PostgreSQL, as on SQLite: the baseline `scripts/bench-lab` measures
    /// `LISTEN/NOTIFY` against.
    pub fn polling(mut self) -> Self {
        self.poll = true;
        self
    }

    /// Closes the waiter's listening connection (after the wait; the next wait opens one again).
    pub async fn stop_listening(&self) {
        self.waker.lock().await.take();
    }

    /// Whether waiters poll instead of listening.
    pub(crate) fn polls(&self) -> bool {
        self.poll || self.backend == Backend::Sqlite
    }

    /// The store's URL without a password, for messages.
    pub fn display_url(&self) -> String {
        redact(&self.url)
    }

    /// The URL itself (it may hold a password: never print it).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The pool, for reads that need no serialization.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that no other writer of the lab runs beside.
    pub(crate) async fn write(&self) -> Result<Transaction<'static, Any>, LabError> {
        match self.backend {
            Backend::Postgres => {
                let mut tx = self.pool.begin().await.map_err(|e| self.error(e))?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.error(e))?;
                Ok(tx)
            }
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(|e| self.error(e)),
        }
    }

    /// The store's clock, in milliseconds since the epoch: one clock for every machine of a lab.
    pub(crate) async fn now(&self, tx: &mut Transaction<'static, Any>) -> Result<i64, LabError> {
        sqlx::query_scalar(self.now_sql()).fetch_one(&mut **tx).await.map_err(|e| self.error(e))
    }

    /// [`Store::now`] outside a transaction, for reads.
    pub(crate) async fn read_now(&self) -> Result<i64, LabError> {
        sqlx::query_scalar(self.now_sql()).fetch_one(&self.pool).await.map_err(|e| self.error(e))
    }

    fn now_sql(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
            Backend::Sqlite => "SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
        }
    }

    /// Tells every waiter, at commit, that the lab changed (boards imported, quarantined or back
    /// in service): each looks again. On SQLite waiters find out by looking every second.
    pub(crate) async fn notify_changed(&self, tx: &mut Transaction<'static, Any>) -> Result<(), LabError> {
        self.notify(tx, CHANNEL).await
    }

    /// Tells the waiter of `ticket`, and only it, at commit, that it was granted a board.
    pub(crate) async fn notify_granted(
        &self,
        tx: &mut Transaction<'static, Any>,
        ticket: i64,
    ) -> Result<(), LabError> {
        self.notify(tx, &ticket_channel(ticket)).await
    }

    async fn notify(&self, tx: &mut Transaction<'static, Any>, channel: &str) -> Result<(), LabError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(channel)
                .execute(&mut **tx)
                .await
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// `operation`, failed naming the store when it takes longer than `deadline` (what it was
    /// `doing`, for the message).
    pub(crate) async fn within<T>(
        &self,
        deadline: Duration,
        doing: &str,
        operation: impl std::future::Future<Output = Result<T, LabError>>,
    ) -> Result<T, LabError> {
        match tokio::time::timeout(deadline, operation).await {
            Ok(result) => result,
            Err(_) => Err(LabError::Store(no_answer(&self.display_url(), deadline, doing))),
        }
    }

    /// A store error, naming the store.
    pub(crate) fn error(&self, e: sqlx::Error) -> LabError {
        LabError::Store(scrub(&format!("lab store {}: {e}", self.display_url()), &self.url))
    }

    /// The schema's version, read without writing; `None` for a store without one.
    async fn schema_version(&self) -> Option<i64> {
        sqlx::query_scalar("SELECT MAX(version) FROM lab_schema").fetch_one(&self.pool).await.ok().flatten()
    }

    /// Brings the schema up to date. A store that is up to date is only read (a read-only store,
    /// for a lab's viewers, opens too).
    async fn migrate(&self) -> Result<(), LabError> {
        let newest = MIGRATIONS.len() as i64;
        let newer = |current: i64| {
            LabError::Store(format!(
                "lab store {} has schema {current}, newer than this vitro-plugin-lab knows ({newest}); upgrade it",
                self.display_url()
            ))
        };
        match self.schema_version().await {
            Some(current) if current == newest => return Ok(()),
            Some(current) if current > newest => return Err(newer(current)),
            _ => {}
        }
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL").execute(&self.pool).await.map_err(|e| self.error(e))?;
        }
        let mut tx = self.write().await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS lab_schema (version BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM lab_schema")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        let current = current.unwrap_or(0);
        if current > newest {
            return Err(newer(current));
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let sql = match self.backend {
                Backend::Postgres => migration.postgres,
                Backend::Sqlite => migration.sqlite,
            };
            for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                sqlx::query(statement).execute(&mut *tx).await.map_err(|e| self.error(e))?;
            }
            sqlx::query("INSERT INTO lab_schema (version) VALUES ($1)")
                .bind(index as i64 + 1)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.error(e))?;
        }
        tx.commit().await.map_err(|e| self.error(e))
    }
}

/// The message for a store that did not answer within `deadline` while `doing` something.
fn no_answer(url: &str, deadline: Duration, doing: &str) -> String {
    format!(
        "lab store {url} did not answer within {} ({doing}); check that it is the lab's PostgreSQL or SQLite \
         file and that it is up",
        humantime::format_duration(Duration::from_secs(deadline.as_secs().max(1)))
    )
}

/// Refuses an SQLite URL whose file does not exist unless it asks for one to be made
/// (`mode=rwc`): SQLite's own word for it is "unable to open database file".
fn check_sqlite_file(url: &str) -> Result<(), LabError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let creates = query.split('&').any(|pair| pair == "mode=rwc");
    if creates || path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory") {
        return Ok(());
    }
    if std::path::Path::new(path).exists() {
        return Ok(());
    }
    Err(LabError::Config(format!(
        "lab store {}: the SQLite file {path} does not exist; to create it, add ?mode=rwc to the URL \
         (sqlite://{path}?mode=rwc)",
        redact(url)
    )))
}

/// `sqlite://` + the lab file in the user's data directory (created with its directory).
fn default_sqlite_url() -> Result<String, LabError> {
    let dir: PathBuf = dirs::data_dir()
        .ok_or_else(|| {
            LabError::Config(format!(
                "no data directory for the lab's SQLite file; give --lab-db or {DB_ENV}"
            ))
        })?
        .join("vitro");
    std::fs::create_dir_all(&dir).map_err(|e| {
        LabError::Config(format!("cannot create {}: {e}; give --lab-db or {DB_ENV}", dir.display()))
    })?;
    Ok(format!("sqlite://{}?mode=rwc", dir.join("lab.db").display()))
}

/// `url` with its password, if any, masked: whatever stands between `://user:` and the last `@`
/// (a password may hold `/`, `?` or `@` unescaped, so this never relies on the URL parsing), and
/// a `password=` query parameter.
pub fn redact(url: &str) -> String {
    let mask = vitro_sdk::protocol::secrets::MASK;
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let rest = match (rest.find(':'), rest.rfind('@')) {
        (Some(colon), Some(at)) if colon < at => format!("{}{mask}{}", &rest[..=colon], &rest[at..]),
        _ => rest.to_owned(),
    };
    let rest = match rest.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}={mask}"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => rest,
    };
    format!("{scheme}://{rest}")
}

/// `text` with the password of `url`, if it quotes it (a driver's error may), masked.
pub(crate) fn scrub(text: &str, url: &str) -> String {
    match password(url) {
        Some(password) => text.replace(password, vitro_sdk::protocol::secrets::MASK),
        None => text.to_owned(),
    }
}

/// The password `url` holds, if any, as [`redact`] finds it: to scrub from texts that quote it.
fn password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let from_userinfo = match (rest.find(':'), rest.rfind('@')) {
        (Some(colon), Some(at)) if colon < at => Some(&rest[colon + 1..at]),
        _ => None,
    };
    let from_query = rest.split_once('?').and_then(|(_, query)| {
        query.split('&').find_map(|pair| {
            pair.split_once('=').filter(|(key, _)| key.eq_ignore_ascii_case("password")).map(|(_, v)| v)
        })
    });
    from_userinfo.or(from_query).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_password_never_shows() {
        assert_eq!(redact("postgres://lab:s3cret@db/lab"), "postgres://lab:********@db/lab");
        assert_eq!(
            redact("postgres://db/lab?user=x&password=s3cret"),
            "postgres://db/lab?user=x&password=********"
        );
        assert_eq!(redact("postgres://lab@db/lab"), "postgres://lab@db/lab");
        assert_eq!(redact("sqlite:///var/lab.db?mode=rwc"), "sqlite:///var/lab.db?mode=rwc");
    }

    #[test]
    fn a_password_that_does_not_parse_as_a_url_never_shows_either() {
        for (url, shown) in [
            ("postgres://lab:Wr/ngPw@db/lab", "postgres://lab:********@db/lab"),
            ("postgres://lab:a@b?c/d@db:5432/lab", "postgres://lab:********@db:5432/lab"),
            ("postgres://lab:p%2Fw@db/lab?sslmode=disable", "postgres://lab:********@db/lab?sslmode=disable"),
        ] {
            assert_eq!(redact(url), shown);
            assert!(!shown.contains(super::password(url).unwrap()), "{url}");
        }
        assert_eq!(super::password("postgres://db/lab?password=s3cret"), Some("s3cret"));
        assert_eq!(super::password("sqlite:///var/lab.db?mode=rwc"), None);
    }
}

//! MySQL: the pool and the embedded migrations every service applies at start-up.
//!
//! Migrations are plain SQL files compiled into the binary (`include_str!`), applied in
//! version order under a per-database named lock, so a blue and a green copy starting
//! together never race. Each applied version is recorded with a checksum; a changed file
//! for an applied version stops the start-up (fix forward with a new version instead).
//! (A hand-written runner of ~60 lines instead of refinery: refinery's mysql_async driver
//! pins another mysql_async version, which would put two in the build.)

use std::time::Duration;

use anyhow::Context as _;
use mysql_async::prelude::Queryable;
use mysql_async::{Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts};
use secrecy::{ExposeSecret, SecretString};
use sha2_lite::checksum;

/// One schema step.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// A pool for `url`; waits up to `wait` for the server to answer (compose start order).
pub async fn connect(url: &SecretString, wait: Duration) -> anyhow::Result<Pool> {
    let opts = Opts::from_url(url.expose_secret())
        .map_err(|_| anyhow::anyhow!("DATABASE_URL is not a valid mysql:// URL"))?;
    let constraints = PoolConstraints::new(1, 32).context("while sizing the pool")?;
    let opts = OptsBuilder::from_opts(opts)
        // Keep idle connections for a minute (the default, 0, closes every connection beyond
        // the minimum as soon as it is returned: scripts/bench measured a new MySQL connection
        // per request), and do not reset them on return, which would also drop their
        // prepared statements. No code relies on session state surviving a checkout from the
        // pool (the migration lock is taken and released on one connection).
        .pool_opts(
            PoolOpts::default()
                .with_constraints(constraints)
                .with_inactive_connection_ttl(Duration::from_secs(60))
                .with_reset_connection(false),
        )
        .conn_ttl(Duration::from_secs(300))
        .stmt_cache_size(256);
    let pool = Pool::new(opts);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match pool.get_conn().await {
            Ok(mut conn) => {
                conn.query_drop("SELECT 1")
                    .await
                    .context("while checking the database connection")?;
                return Ok(pool);
            }
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(error = %e, "database not reachable yet; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e).context("while connecting to the database"),
        }
    }
}

/// How long a request waits for a database connection before the database counts as
/// unavailable (503): a server that does not answer must not hold requests for minutes
/// (TCP's own connect timeout), and a pool exhausted this long is overloaded.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A connection from `pool`, or an I/O error ("timed out") after [`ACQUIRE_TIMEOUT`]:
/// every request-serving query takes its connection here.
pub async fn conn(pool: &Pool) -> Result<mysql_async::Conn, mysql_async::Error> {
    match tokio::time::timeout(ACQUIRE_TIMEOUT, pool.get_conn()).await {
        Ok(got) => got,
        Err(_) => Err(timed_out()),
    }
}

/// Runs one writing statement on a connection from `pool` (autocommit); true when it
/// changed exactly one row (a conditional move that found its row in the expected state).
pub async fn changed_one<P>(pool: &Pool, sql: &str, params: P) -> Result<bool, mysql_async::Error>
where
    P: Into<mysql_async::Params> + Send,
{
    use mysql_async::prelude::Queryable;
    let mut conn = conn(pool).await?;
    conn.exec_drop(sql, params).await?;
    Ok(conn.affected_rows() == 1)
}

/// A transaction on a connection from `pool`, with the same bound as [`conn`].
pub async fn transaction(
    pool: &Pool,
) -> Result<mysql_async::Transaction<'static>, mysql_async::Error> {
    let start = pool.start_transaction(mysql_async::TxOpts::default());
    match tokio::time::timeout(ACQUIRE_TIMEOUT, start).await {
        Ok(got) => got,
        Err(_) => Err(timed_out()),
    }
}

fn timed_out() -> mysql_async::Error {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "no database connection within the acquire timeout",
    )
    .into()
}

/// True when `err` says the database cannot be used right now (down, unreachable, the
/// connection lost, the account refused or locked, the server shutting down or out of
/// connections, a statement cut off), as opposed to a fault in the request or the code:
/// such errors answer 503 with `Retry-After`, and the pool reconnects by itself.
pub fn is_unavailable(err: &mysql_async::Error) -> bool {
    use mysql_async::{DriverError, Error};
    match err {
        Error::Io(_) => true,
        Error::Driver(DriverError::ConnectionClosed | DriverError::PoolDisconnected) => true,
        Error::Server(e) => matches!(
            e.code,
            // too many connections, access denied (db, user), shutdown in progress, lost
            // connection errors, interrupted, lock wait timeout, a deadlock's victim still
            // after `deadlock::retry`'s attempts, connection killed (MariaDB), statement
            // timeout (MariaDB, MySQL), account locked (MySQL, MariaDB)
            1040 | 1044 | 1045 | 1053 | 1152 | 1158
                ..=1161 | 1184 | 1205 | 1213 | 1317 | 1927 | 1969 | 3024 | 3118 | 4031 | 4151
        ),
        _ => false,
    }
}

/// A pool for `url` with `migrations` applied: what every service does at start-up.
pub async fn open(url: &SecretString, migrations: &[Migration]) -> anyhow::Result<Pool> {
    let pool = connect(url, Duration::from_secs(30)).await?;
    migrate(&pool, migrations).await?;
    Ok(pool)
}

/// Applies the migrations that are not yet applied.
pub async fn migrate(pool: &Pool, migrations: &[Migration]) -> anyhow::Result<()> {
    let mut conn = pool
        .get_conn()
        .await
        .context("while getting a connection for migrations")?;
    let locked: Option<i64> = conn
        .query_first("SELECT GET_LOCK(CONCAT('mall_migrate:', DATABASE()), 60)")
        .await
        .context("while taking the migration lock")?;
    if locked != Some(1) {
        anyhow::bail!("could not take the migration lock within 60 s");
    }
    let result = apply(&mut conn, migrations).await;
    let _: Option<i64> = conn
        .query_first("SELECT RELEASE_LOCK(CONCAT('mall_migrate:', DATABASE()))")
        .await
        .context("while releasing the migration lock")?;
    result
}

async fn apply(conn: &mut mysql_async::Conn, migrations: &[Migration]) -> anyhow::Result<()> {
    conn.query_drop(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INT UNSIGNED PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            checksum CHAR(16) NOT NULL,
            applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
        )",
    )
    .await
    .context("while creating schema_migrations")?;
    let applied: Vec<(u32, String)> = conn
        .query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        .await
        .context("while reading schema_migrations")?;
    let mut sorted = migrations.to_vec();
    sorted.sort_by_key(|m| m.version);
    for m in sorted {
        let sum = checksum(m.sql);
        match applied.iter().find(|(v, _)| *v == m.version) {
            Some((_, existing)) if *existing == sum => continue,
            Some(_) => anyhow::bail!(
                "migration {} ({}) changed after it was applied",
                m.version,
                m.name
            ),
            None => {}
        }
        tracing::info!(version = m.version, name = m.name, "applying migration");
        conn.query_drop(m.sql)
            .await
            .with_context(|| format!("while applying migration {} ({})", m.version, m.name))?;
        conn.exec_drop(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
            (m.version, m.name, sum),
        )
        .await
        .context("while recording a migration")?;
    }
    Ok(())
}

/// What a stored procedure call that holds its own transaction needs after an error, on
/// its connection (before it goes back to the pool). The mall's procedures roll back before
/// they re-raise an error, but a statement interrupted on the server (`KILL QUERY`) may end
/// one without running its handler: MariaDB 10.11 runs it (tried), MySQL is not documented
/// to. Its transaction would then stay open on a pooled connection (mysql_async rolls back
/// only transactions it started itself), and the next `START TRANSACTION` there would
/// commit the half. So after a server error other than a duplicate key (which only the
/// handler's RESIGNAL can deliver) the connection is rolled back: a no-op when the handler
/// ran, on error paths only. Should that fail too, the connection is broken, and the
/// server rolls back when it goes.
pub async fn after_procedure<T>(
    conn: &mut mysql_async::Conn,
    result: Result<T, mysql_async::Error>,
) -> Result<T, mysql_async::Error> {
    if let Err(e @ mysql_async::Error::Server(_)) = &result {
        if !is_duplicate_key(e) {
            conn.query_drop("ROLLBACK").await.ok();
        }
    }
    result
}

/// True when a MySQL error is a duplicate-key violation (1062): the one place that maps
/// unique constraints to 409.
pub fn is_duplicate_key(err: &mysql_async::Error) -> bool {
    matches!(err, mysql_async::Error::Server(e) if e.code == 1062)
}

mod sha2_lite {
    //! A stable 64-bit FNV-1a checksum of a migration's text (not security relevant).
    pub fn checksum(text: &str) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

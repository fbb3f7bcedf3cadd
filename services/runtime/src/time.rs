//! Timestamps: stored as UTC `DATETIME(6)` values written by the services (never the
//! database server's time zone), shown as RFC 3339 UTC strings (API.md).

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};

/// Now, in the form stored in MySQL: to the microsecond, what a `DATETIME(6)` column
/// keeps (so a value written and then answered without reading it back equals a later
/// read).
pub fn now_naive() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

/// `2026-11-20 23:11:00.000001`: a `DATETIME(6)` value as a stored procedure reads it from
/// a JSON argument (the batch procedures' items carry their own times).
pub fn sql_datetime(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// `2026-11-20T23:11:00Z`.
pub fn rfc3339(t: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(t, Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `fut`'s result, or an error saying `who` did not answer when it takes longer than
/// `limit` (a connection that hangs instead of failing).
pub async fn within<T, E>(
    limit: Duration,
    who: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => Ok(r?),
        Err(_) => anyhow::bail!("{who} did not answer within {limit:?}"),
    }
}

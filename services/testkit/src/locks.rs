//! Rows a test holds on purpose: knowing when the call under test has reached them.

use std::time::Duration;

use mysql_async::prelude::Queryable;

/// Waits until another connection to this test's database runs a statement whose text is
/// `LIKE pattern` (information_schema.PROCESSLIST shows the statement a stored procedure
/// is at): the call under test has reached a row the test's own transaction holds, and
/// waits for it or is about to. How the deadlock tests know to close the cycle (MariaDB
/// 10.11 did not show INNODB_TRX's `LOCK WAIT` reliably). Panics after 10 s.
pub async fn until_a_statement_runs(pool: &mysql_async::Pool, pattern: &str) {
    let mut conn = pool.get_conn().await.expect("a connection to watch from");
    for _ in 0..2_000 {
        let running: Option<u64> = conn
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST
                 WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep'
                   AND INFO LIKE ?",
                (pattern,),
            )
            .await
            .expect("reading the process list");
        if running.unwrap_or(0) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("no statement LIKE {pattern:?} ran within 10 s: the call never reached the held row");
}

//! A transaction InnoDB chose as a deadlock's victim, run again.
//!
//! Two transactions that each wait for a row the other holds are a deadlock; InnoDB ends
//! it at once by rolling one of them back whole (error 1213), the one that changed the
//! fewest rows. The mall's writers lock rows in one order (products by ascending id, a
//! reservation before its products), which keeps deadlocks rare, but InnoDB's gap and
//! index locks can still close a cycle under load: `scripts/bench checkout` met one in
//! about 15,000 checkouts, a declined order's release against a reservation batch, and
//! the shopper got a 503 for a card decline. MySQL's own advice is to be ready to run
//! such a transaction again; nothing of it stayed, so running it again is safe.
//!
//! [`retry`] runs an atomic call (one statement, or a stored procedure that holds its
//! own transaction and rolls it back on any error) up to [`ATTEMPTS`] times while it is
//! a victim. A call that is still a victim after that answers 503
//! (`db::is_unavailable`): the database is too contended right now, try again shortly.

use std::future::Future;
use std::time::Duration;

/// Attempts in all, the first included.
pub const ATTEMPTS: u32 = 3;

/// The pause before attempt n + 1 is n times this: the winner of the deadlock holds the
/// rows now, and the new attempt queues behind it.
const PAUSE: Duration = Duration::from_millis(2);

/// True when `err` is InnoDB's "Deadlock found when trying to get lock" (1213): the
/// statement's whole transaction was rolled back.
pub fn is_victim(err: &mysql_async::Error) -> bool {
    matches!(err, mysql_async::Error::Server(e) if e.code == 1213)
}

/// Runs `attempt` until it is not a deadlock's victim, at most [`ATTEMPTS`] times.
/// `attempt` must be atomic on the server (see the module's text): a victim left nothing.
pub async fn retry<T, F, Fut>(what: &str, mut attempt: F) -> Result<T, mysql_async::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, mysql_async::Error>>,
{
    let mut n = 1;
    loop {
        match attempt().await {
            Err(e) if is_victim(&e) && n < ATTEMPTS => {
                tracing::warn!(
                    call = what,
                    attempt = n,
                    "chosen as a deadlock's victim (rolled back whole); running it again"
                );
                tokio::time::sleep(PAUSE * n).await;
                n += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn server_error(code: u16) -> mysql_async::Error {
        mysql_async::Error::Server(mysql_async::ServerError {
            code,
            message: "m".into(),
            state: "40001".into(),
        })
    }

    #[tokio::test]
    async fn a_victim_runs_again_and_other_errors_do_not() {
        let calls = AtomicU32::new(0);
        let got = retry("t", || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err(server_error(1213))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(got.ok(), Some(1));
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        calls.store(0, Ordering::SeqCst);
        let got: Result<(), _> = retry("t", || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(server_error(1062)) }
        })
        .await;
        assert!(got.is_err_and(|e| !is_victim(&e)));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "a duplicate key is not retried"
        );
    }

    #[tokio::test]
    async fn a_victim_every_time_gives_up_after_the_attempts() {
        let calls = AtomicU32::new(0);
        let got: Result<(), _> = retry("t", || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(server_error(1213)) }
        })
        .await;
        assert!(got.is_err_and(|e| is_victim(&e)));
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);
    }
}

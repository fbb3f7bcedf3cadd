//! The steady load's accounting against small real servers on loopback: answers counted,
//! and every refused connection, close without an answer and unannounced keep-alive close
//! counted as a failed request.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::client::{connection, Plan};
use super::tally::Tally;

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nX-Served-By: t-blue@1\r\nContent-Length: 2\r\n\r\nok";

/// A server that answers `answers` requests per connection (reading each first), then
/// closes it; 0: closes at once.
async fn server(answers: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                for _ in 0..answers {
                    if matches!(s.read(&mut buf).await, Ok(0) | Err(_)) {
                        return;
                    }
                    if s.write_all(OK).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn plan(addr: SocketAddr, close: bool) -> Arc<Plan> {
    Arc::new(Plan {
        addr,
        host: HeaderValue::from_static("127.0.0.1"),
        agent: HeaderValue::from_static("mall-steady-test"),
        bearer: None,
        routes: vec![("/a".into(), false), ("/b".into(), true)],
        close,
        pause: Duration::from_millis(5),
        timeout: Duration::from_secs(2),
    })
}

async fn run_for(plan: Arc<Plan>, ms: u64) -> Tally {
    let stop = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn(connection(1, plan, stop.clone()));
    tokio::time::sleep(Duration::from_millis(ms)).await;
    stop.store(true, Ordering::Relaxed);
    task.await.unwrap()
}

#[tokio::test]
async fn keepalive_answers_are_counted_on_one_connection() {
    let t = run_for(plan(server(usize::MAX).await, false), 300).await;
    assert!(t.answered > 5, "{}", t.answered);
    assert_eq!(
        (t.sent, t.errors.total(), t.connections_opened),
        (t.answered, 0, 1)
    );
    assert_eq!(t.served_by.get("t-blue@1"), Some(&t.answered));
}

#[tokio::test]
async fn close_mode_opens_a_connection_per_request() {
    let t = run_for(plan(server(1).await, true), 300).await;
    assert!(t.answered > 5);
    assert_eq!(t.errors.total(), 0);
    assert_eq!(t.connections_opened, t.answered);
}

#[tokio::test]
async fn a_close_without_an_answer_is_a_failed_request() {
    let t = run_for(plan(server(0).await, true), 200).await;
    assert_eq!(t.answered, 0);
    assert!(t.errors.read > 0);
    assert_eq!(t.sent, t.errors.total());
}

#[tokio::test]
async fn an_unannounced_keepalive_close_is_a_failure() {
    // One answer per connection with no `Connection: close`: every reuse fails.
    let t = run_for(plan(server(1).await, false), 300).await;
    assert!(
        t.answered > 1 && t.errors.read > 0,
        "{} {:?}",
        t.answered,
        t.errors
    );
    assert_eq!(t.sent, t.answered + t.errors.total());
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let t = run_for(plan(addr, true), 100).await;
    assert!(t.errors.connect > 0);
    assert_eq!(t.sent, t.errors.connect);
}

//! One connection of the steady load: its requests in turn, one at a time, each either on a
//! new connection (`Connection: close`, the mode where nothing is ever idle) or on a kept-alive
//! one, every answer and every socket error counted in the connection's tally.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderValue, Request};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::tally::{Failure, Tally};

/// What every connection sends, shared.
pub struct Plan {
    pub addr: SocketAddr,
    pub host: HeaderValue,
    pub agent: HeaderValue,
    pub bearer: Option<HeaderValue>,
    /// Paths in turn, and whether each carries the token.
    pub routes: Vec<(String, bool)>,
    /// A new connection per request (`Connection: close`), else keep-alive.
    pub close: bool,
    pub pause: Duration,
    pub timeout: Duration,
}

type Sender = SendRequest<Empty<Bytes>>;
type Failed = (Failure, String);

/// Runs one connection until `stop` is raised (the request in flight finishes first).
pub async fn connection(no: usize, plan: Arc<Plan>, stop: Arc<AtomicBool>) -> Tally {
    let mut tally = Tally::default();
    let mut sender: Option<Sender> = None;
    // Spread the connections over the routes, as the Lua script did.
    let mut cursor = no * 2;
    while !stop.load(Ordering::Relaxed) {
        cursor = cursor % plan.routes.len() + 1;
        let (path, auth) = &plan.routes[cursor - 1];
        let started = Instant::now();
        let outcome = tokio::time::timeout(
            plan.timeout,
            one(
                &mut sender,
                &plan,
                path,
                *auth,
                &mut tally.connections_opened,
            ),
        )
        .await;
        match outcome {
            Ok(Ok((status, served_by, keep))) => {
                tally.answer(status, served_by.as_deref(), started.elapsed());
                if plan.close || !keep {
                    sender = None;
                }
            }
            Ok(Err((failure, why))) => {
                sender = None;
                tally.fail(failure, format!("{path}: {why}"));
            }
            Err(_) => {
                sender = None;
                tally.fail(
                    Failure::Timeout,
                    format!("{path}: no answer within {:?}", plan.timeout),
                );
            }
        }
        tokio::time::sleep(plan.pause).await;
    }
    tally
}

/// One request: (status, X-Served-By, whether the connection may be reused).
async fn one(
    sender: &mut Option<Sender>,
    plan: &Plan,
    path: &str,
    auth: bool,
    opened: &mut u64,
) -> Result<(u16, Option<String>, bool), Failed> {
    if sender.is_none() {
        let stream = TcpStream::connect(plan.addr)
            .await
            .map_err(|e| (Failure::Connect, format!("connect {}: {e}", plan.addr)))?;
        let _ = stream.set_nodelay(true);
        let (s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| (Failure::Connect, format!("handshake: {e}")))?;
        tokio::spawn(async move {
            // Ends when either side closes the connection.
            let _ = conn.await;
        });
        *opened += 1;
        *sender = Some(s);
    }
    let Some(s) = sender.as_mut() else {
        return Err((Failure::Connect, "no connection".into()));
    };
    // A kept-alive connection the server closed without announcing it (no
    // `Connection: close` on the last answer) is a failure like a reset.
    s.ready().await.map_err(|e| {
        (
            Failure::Read,
            format!("connection closed under the client: {e}"),
        )
    })?;
    let mut request = Request::get(path)
        .header(header::HOST, plan.host.clone())
        .header(header::USER_AGENT, plan.agent.clone());
    if plan.close {
        request = request.header(header::CONNECTION, "close");
    }
    if let (true, Some(bearer)) = (auth, &plan.bearer) {
        request = request.header(header::AUTHORIZATION, bearer.clone());
    }
    let request = request
        .body(Empty::new())
        .map_err(|e| (Failure::Write, format!("building the request: {e}")))?;
    let response = s.send_request(request).await.map_err(|e| classify(&e))?;
    let status = response.status().as_u16();
    let served_by = response
        .headers()
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let keep = !response
        .headers()
        .get(header::CONNECTION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
    response
        .into_body()
        .collect()
        .await
        .map_err(|e| (Failure::Read, format!("reading the body: {e}")))?;
    Ok((status, served_by, keep))
}

/// A transport error as wrk counted it: a broken pipe is a write error, anything else
/// (reset, closed before the whole answer) a read error.
fn classify(err: &hyper::Error) -> Failed {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return (Failure::Write, format!("writing: {err}"));
            }
        }
        source = e.source();
    }
    (Failure::Read, err.to_string())
}

//! One keep-alive HTTP/1.1 connection to nginx, reopened when the server closes it (nginx
//! ends a keep-alive connection after `keepalive_requests`). Every load worker owns one, so
//! the number of connections is exactly what the run asks for.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The context of a failed connect (is_connect_error tells it from a failed exchange).
const CONNECT: &str = "connect";

/// True when the error is a connection that could not be opened (wrk's "connect" errors),
/// not a request or answer that failed on an open one.
pub fn is_connect_error(e: &anyhow::Error) -> bool {
    e.to_string()
        .strip_prefix(CONNECT)
        .is_some_and(|rest| rest.starts_with(' '))
}

/// Largest response body read (bigger ones are an error: the mix never asks for one).
const MAX_BODY: usize = 4 << 20;

pub struct Conn {
    addr: SocketAddr,
    host: HeaderValue,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// Connections opened so far (the first one included).
    pub opened: u64,
}

/// One request as the mix builds it.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub auth: Option<HeaderValue>,
    pub body: Option<Bytes>,
    pub idempotency_key: Option<String>,
}

impl Call {
    pub fn get(path: String, auth: Option<HeaderValue>) -> Self {
        Call {
            method: Method::GET,
            path,
            auth,
            body: None,
            idempotency_key: None,
        }
    }

    pub fn json(method: Method, path: String, auth: Option<HeaderValue>, body: String) -> Self {
        Call {
            method,
            path,
            auth,
            body: Some(Bytes::from(body)),
            idempotency_key: None,
        }
    }
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Result<Self> {
        let host = HeaderValue::from_str(&addr.to_string()).context("host header")?;
        Ok(Conn {
            addr,
            host,
            sender: None,
            opened: 0,
        })
    }

    async fn ready_sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>> {
        let usable = match self.sender.as_mut() {
            Some(s) => s.ready().await.is_ok(),
            None => false,
        };
        if !usable {
            let stream = TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("{CONNECT} {}", self.addr))?;
            stream.set_nodelay(true).context("TCP_NODELAY")?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .context("HTTP/1.1 handshake")?;
            tokio::spawn(async move {
                // Ends when the server closes the connection or the sender is dropped.
                let _ = conn.await;
            });
            self.opened += 1;
            self.sender = Some(sender);
        }
        self.sender.as_mut().context("no connection")
    }

    /// Sends one request and reads the whole answer. A transport error drops the
    /// connection (the next call opens a new one) and is returned.
    pub async fn send(&mut self, call: &Call) -> Result<(StatusCode, Bytes)> {
        let mut builder = Request::builder()
            .method(call.method.clone())
            .uri(call.path.as_str())
            .header(http::header::HOST, self.host.clone());
        if let Some(auth) = &call.auth {
            builder = builder.header(http::header::AUTHORIZATION, auth.clone());
        }
        if let Some(key) = &call.idempotency_key {
            builder = builder.header("idempotency-key", key.as_str());
        }
        let body = match &call.body {
            Some(b) => {
                builder = builder.header(http::header::CONTENT_TYPE, "application/json");
                Full::new(b.clone())
            }
            None => Full::new(Bytes::new()),
        };
        let request = builder.body(body).context("building the request")?;
        let result = async {
            let sender = self.ready_sender().await?;
            let response = sender.send_request(request).await.context("sending")?;
            let status = response.status();
            let body = http_body_util::Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| anyhow::anyhow!("reading the body: {e}"))?
                .to_bytes();
            Ok((status, body))
        }
        .await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }
}

//! The fixed request shapes (`--shape get|checkout`): what `scripts/bench auth|catalog|
//! checkout` measured with wrk and a Lua script, now here. A closed loop over
//! `--connections` keep-alive connections (wrk's model), each sending its next request
//! when the last one is answered; latency from sending to the whole answer.
//!
//! - `get`: GET, the paths of `--path-file` (one per line; default: the URL's path) with
//!   the `Authorization` values of `--auth-file` (one per line; default: none), cycled, each
//!   connection from its own offset.
//! - `checkout`: POST /api/orders, every request a new order (its own Idempotency-Key) of
//!   one `--product-id`, paid with `--card-token`, every `--decline-every`-th with
//!   tok_declined (402 expected), the shoppers of `--auth-file` in turn.
//!
//! The answers are counted like wrk counted them: statuses >= 400 are "status" errors,
//! sockets that fail are "connect", "io" or "timeout" errors.

mod out;
mod run;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use http::{HeaderValue, Method};

pub use run::main;

use crate::conn::Call;

/// Which requests a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// The weighted shopper mix (the default; see --mix).
    Mix,
    /// GET requests from --path-file with --auth-file's Authorization values.
    Get,
    /// POST /api/orders: a new order per request, one in --decline-every declined.
    Checkout,
}

/// The flags of the fixed shapes (flattened into the command line).
#[derive(clap::Args, Debug, Clone)]
pub struct FixedArgs {
    /// mix (the shopper mix, with setup), or a fixed shape as wrk ran them: get, checkout
    /// (closed loop only, no setup; see --path-file, --auth-file, --product-id).
    #[arg(long, value_enum, default_value = "mix")]
    pub shape: Shape,
    /// get: request paths, one per line, cycled (default: the path of --url).
    #[arg(long, value_name = "FILE")]
    pub path_file: Option<PathBuf>,
    /// get, checkout: Authorization header values, one per line, cycled (checkout: needed).
    #[arg(long, value_name = "FILE")]
    pub auth_file: Option<PathBuf>,
    /// checkout: the product every order names (one of quantity 1).
    #[arg(long)]
    pub product_id: Option<u64>,
    /// checkout: every N-th order pays with tok_declined (402 expected); 0: none.
    #[arg(long, default_value_t = 10)]
    pub decline_every: u64,
}

/// The path and query of an http:// URL ("/" when it has none).
pub fn url_path(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => rest[i..].to_string(),
        Some(i) => format!("/{}", &rest[i..]),
        None => "/".to_string(),
    }
}

/// The non-empty lines of a file.
pub fn lines_of(path: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let lines: Vec<String> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if lines.is_empty() {
        bail!("{} has no lines", path.display());
    }
    Ok(lines)
}

/// What a fixed run sends: everything prepared before the load, so the per-request cost of
/// the generator is a lookup (wrk's pre-formatted requests).
pub struct Requests {
    pub shape: Shape,
    pub paths: Vec<String>,
    pub auths: Vec<HeaderValue>,
    pub product_id: u64,
    pub card_token: String,
    pub decline_every: u64,
}

impl Requests {
    pub fn new(args: &crate::args::Args) -> Result<Self> {
        let f = &args.fixed;
        let paths = match &f.path_file {
            Some(p) => lines_of(p)?,
            None => vec![url_path(&args.url)],
        };
        let auths = match &f.auth_file {
            Some(p) => lines_of(p)?
                .iter()
                .map(|l| HeaderValue::from_str(l).context("an Authorization value"))
                .collect::<Result<Vec<_>>>()?,
            None => vec![],
        };
        let product_id = match (f.shape, f.product_id) {
            (Shape::Checkout, None) => bail!("--shape checkout needs --product-id"),
            (_, id) => id.unwrap_or(0),
        };
        if f.shape == Shape::Checkout && auths.is_empty() {
            bail!("--shape checkout needs --auth-file (the shoppers' Authorization values)");
        }
        Ok(Requests {
            shape: f.shape,
            paths,
            auths,
            product_id,
            card_token: args.card_token.clone(),
            decline_every: f.decline_every,
        })
    }

    /// Request `n` of the run (get: the n-th of the cycle; checkout: the n-th order).
    pub fn call(&self, n: u64) -> Call {
        let auth = if self.auths.is_empty() {
            None
        } else {
            self.auths.get(n as usize % self.auths.len()).cloned()
        };
        match self.shape {
            Shape::Checkout => {
                let declined = self.decline_every > 0 && (n + 1).is_multiple_of(self.decline_every);
                let card = if declined {
                    "tok_declined"
                } else {
                    &self.card_token
                };
                let body = format!(
                    "{{\"items\":[{{\"product_id\":{},\"quantity\":1}}],\"payment\":{{\"card_token\":\"{card}\"}}}}",
                    self.product_id
                );
                let mut call = Call::json(Method::POST, "/api/orders".into(), auth, body);
                call.idempotency_key = Some(uuid::Uuid::new_v4().to_string());
                call
            }
            _ => {
                let path = self.paths[n as usize % self.paths.len()].clone();
                Call::get(path, auth)
            }
        }
    }
}

#[cfg(test)]
mod tests;

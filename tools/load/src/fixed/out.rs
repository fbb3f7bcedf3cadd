//! A fixed run's numbers, in the shape wrk's `done()` wrote them (microseconds; status
//! errors are answers >= 400), plus the statuses and the processes' usage.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::procs::Usage;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Errors {
    /// The connection could not be opened.
    pub connect: u64,
    /// The request could not be written or the answer read (reset, closed, bad answer).
    pub io: u64,
    /// No answer within the request timeout.
    pub timeout: u64,
    /// Answers with a status >= 400.
    pub status: u64,
}

impl Errors {
    /// Errors of the socket (no HTTP answer).
    pub fn socket(&self) -> u64 {
        self.connect + self.io + self.timeout
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub min: u64,
    pub mean: f64,
    pub stdev: f64,
    pub max: u64,
    pub p50: u64,
    pub p75: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Self {
        let q = |x: f64| h.value_at_quantile(x);
        Latency {
            min: if h.is_empty() { 0 } else { h.min() },
            mean: h.mean(),
            stdev: h.stdev(),
            max: h.max(),
            p50: q(0.50),
            p75: q(0.75),
            p90: q(0.90),
            p99: q(0.99),
            p999: q(0.999),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FixedResult {
    pub tool: &'static str,
    pub version: &'static str,
    pub shape: super::Shape,
    pub url: String,
    pub connections: usize,
    pub threads: usize,
    /// Requests answered (with any status) inside the measured window.
    pub requests: u64,
    /// The measured window, µs.
    pub duration_us: u64,
    /// Answer body bytes read.
    pub body_bytes: u64,
    pub errors: Errors,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// From sending a request to its whole answer, µs.
    pub latency_us: Latency,
    pub connections_opened: u64,
    pub last_error: Option<String>,
    /// CPU and memory of the --proc groups and of this generator over the window.
    pub usage: Usage,
}

impl FixedResult {
    pub fn rps(&self) -> f64 {
        if self.duration_us == 0 {
            0.0
        } else {
            self.requests as f64 / (self.duration_us as f64 / 1e6)
        }
    }

    /// One line for the terminal.
    pub fn line(&self) -> String {
        format!(
            "{:.0} req/s, p50 {:.3} ms, p99 {:.3} ms, max {:.1} ms, >=400: {}, socket errors: {}",
            self.rps(),
            self.latency_us.p50 as f64 / 1000.0,
            self.latency_us.p99 as f64 / 1000.0,
            self.latency_us.max as f64 / 1000.0,
            self.errors.status,
            self.errors.socket()
        )
    }
}

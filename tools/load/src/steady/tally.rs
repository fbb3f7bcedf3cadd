//! What a steady run counts, and its JSON summary: the accounting scripts/lib/bluegreen-load.lua
//! did under wrk. `sent` counts requests written (or tried), `answered` complete answers,
//! `non_2xx` answers outside 200-299; every request that got no complete answer is one of
//! the socket errors (connect, read, write, timeout), so `sent == answered + errors` once the
//! run has stopped.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency recorded exactly (µs); slower answers are clamped to it.
const MAX_US: u64 = 120_000_000;

/// Why a request got no complete answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The TCP connection could not be opened.
    Connect,
    /// The connection was reset or closed before the whole answer arrived (or, on a
    /// keep-alive connection, closed by the server without saying so).
    Read,
    /// The request could not be written.
    Write,
    /// No complete answer within the timeout.
    Timeout,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Errors {
    pub connect: u64,
    pub read: u64,
    pub write: u64,
    pub timeout: u64,
}

impl Errors {
    pub fn total(&self) -> u64 {
        self.connect + self.read + self.write + self.timeout
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LatencyUs {
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

/// The summary `--steady-json` writes (one JSON object).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub mode: String,
    pub sent: u64,
    pub answered: u64,
    pub non_2xx: u64,
    pub by_status: BTreeMap<String, u64>,
    pub served_by: BTreeMap<String, u64>,
    pub errors: Errors,
    pub connections_opened: u64,
    pub duration_s: f64,
    pub latency_us: LatencyUs,
    /// The last socket error's text, for the report.
    pub last_error: Option<String>,
}

pub struct Tally {
    pub sent: u64,
    pub answered: u64,
    pub non_2xx: u64,
    pub by_status: BTreeMap<String, u64>,
    pub served_by: BTreeMap<String, u64>,
    pub errors: Errors,
    pub connections_opened: u64,
    pub latency: Histogram<u64>,
    pub last_error: Option<String>,
}

// Constant, valid bounds (1 µs .. 120 s, 3 significant digits); the tests build it.
#[allow(clippy::expect_used)]
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            sent: 0,
            answered: 0,
            non_2xx: 0,
            by_status: BTreeMap::new(),
            served_by: BTreeMap::new(),
            errors: Errors::default(),
            connections_opened: 0,
            latency: histogram(),
            last_error: None,
        }
    }
}

impl Tally {
    /// One complete answer.
    pub fn answer(&mut self, status: u16, served_by: Option<&str>, latency: Duration) {
        self.sent += 1;
        self.answered += 1;
        if !(200..=299).contains(&status) {
            self.non_2xx += 1;
        }
        *self.by_status.entry(status.to_string()).or_default() += 1;
        *self
            .served_by
            .entry(served_by.unwrap_or("-").to_owned())
            .or_default() += 1;
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(MAX_US)
            .clamp(1, MAX_US);
        // Cannot fail: the value is within the bounds.
        let _ = self.latency.record(us);
    }

    /// One request that got no complete answer.
    pub fn fail(&mut self, failure: Failure, why: String) {
        self.sent += 1;
        match failure {
            Failure::Connect => self.errors.connect += 1,
            Failure::Read => self.errors.read += 1,
            Failure::Write => self.errors.write += 1,
            Failure::Timeout => self.errors.timeout += 1,
        }
        self.last_error = Some(why);
    }

    /// Adds another connection's counts into this one.
    pub fn merge(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.answered += other.answered;
        self.non_2xx += other.non_2xx;
        for (k, v) in &other.by_status {
            *self.by_status.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.served_by {
            *self.served_by.entry(k.clone()).or_default() += v;
        }
        self.errors.connect += other.errors.connect;
        self.errors.read += other.errors.read;
        self.errors.write += other.errors.write;
        self.errors.timeout += other.errors.timeout;
        self.connections_opened += other.connections_opened;
        let _ = self.latency.add(&other.latency);
        if other.last_error.is_some() {
            self.last_error.clone_from(&other.last_error);
        }
    }

    pub fn summary(&self, mode: &str, duration: Duration) -> Summary {
        Summary {
            mode: mode.to_owned(),
            sent: self.sent,
            answered: self.answered,
            non_2xx: self.non_2xx,
            by_status: self.by_status.clone(),
            served_by: self.served_by.clone(),
            errors: self.errors.clone(),
            connections_opened: self.connections_opened,
            duration_s: duration.as_secs_f64(),
            latency_us: LatencyUs {
                p50: self.latency.value_at_quantile(0.5),
                p99: self.latency.value_at_quantile(0.99),
                max: self.latency.max(),
            },
            last_error: self.last_error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_is_answered_or_one_error() {
        let mut a = Tally::default();
        a.answer(200, Some("product-blue@v1"), Duration::from_millis(3));
        a.answer(503, None, Duration::from_millis(1));
        a.fail(Failure::Read, "reset".into());
        let mut b = Tally::default();
        b.answer(200, Some("product-blue@v1"), Duration::from_millis(5));
        b.fail(Failure::Timeout, "5 s".into());
        b.fail(Failure::Connect, "refused".into());
        a.merge(&b);
        let s = a.summary("close", Duration::from_secs(1));
        assert_eq!((s.sent, s.answered, s.non_2xx), (6, 3, 1));
        assert_eq!(s.sent, s.answered + s.errors.total());
        assert_eq!(s.by_status.get("200"), Some(&2));
        assert_eq!(s.served_by.get("product-blue@v1"), Some(&2));
        assert_eq!(s.served_by.get("-"), Some(&1));
        assert_eq!(
            s.errors,
            Errors {
                connect: 1,
                read: 1,
                write: 0,
                timeout: 1
            }
        );
        assert!(s.latency_us.max >= 4_900 && s.latency_us.p50 >= 2_900);
    }
}

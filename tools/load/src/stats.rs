//! Latency histograms and answer counts of a run, per route.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::mix::Route;

/// Highest latency recorded exactly (µs); slower answers are clamped to it and still counted.
const MAX_US: u64 = 120_000_000;

// Three significant digits from 1 µs to 120 s: constant bounds, which the constructor
// refuses only when they are invalid (low < 1, high < 2·low, sigfig > 5); the test below
// builds it.
#[allow(clippy::expect_used)]
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

#[derive(Clone)]
pub struct RouteStats {
    pub latency: Histogram<u64>,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no HTTP answer (connect, reset, timeout).
    pub transport_errors: u64,
}

impl Default for RouteStats {
    fn default() -> Self {
        RouteStats {
            latency: histogram(),
            statuses: BTreeMap::new(),
            transport_errors: 0,
        }
    }
}

#[derive(Clone, Default)]
pub struct Stats {
    pub routes: [RouteStats; 6],
    pub checkouts_from_cart: u64,
    pub last_transport_error: Option<String>,
}

impl Stats {
    pub fn record(&mut self, route: Route, latency: Duration, status: Option<u16>) {
        let r = &mut self.routes[route.index()];
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(MAX_US)
            .clamp(1, MAX_US);
        // Cannot fail: the value is within the bounds.
        let _ = r.latency.record(us);
        match status {
            Some(s) => *r.statuses.entry(s).or_default() += 1,
            None => r.transport_errors += 1,
        }
    }

    pub fn summary(&self, seconds: f64) -> Summary {
        let mut overall = RouteStats::default();
        let mut routes = BTreeMap::new();
        for route in Route::ALL {
            let r = &self.routes[route.index()];
            let _ = overall.latency.add(&r.latency);
            for (status, n) in &r.statuses {
                *overall.statuses.entry(*status).or_default() += n;
            }
            overall.transport_errors += r.transport_errors;
            if !r.latency.is_empty() {
                routes.insert(route.name().to_string(), Line::of(r, seconds, Some(route)));
            }
        }
        Summary {
            overall: Line::of(&overall, seconds, None),
            routes,
            checkouts_from_cart: self.checkouts_from_cart,
            last_transport_error: self.last_transport_error.clone(),
        }
    }
}

/// One row of the results: a route or all of them.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// Answers other than the route's success status, plus transport errors.
    pub errors: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub transport_errors: u64,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Line {
    fn of(r: &RouteStats, seconds: f64, route: Option<Route>) -> Line {
        let h = &r.latency;
        let errors = r
            .statuses
            .iter()
            .filter(|(s, _)| match route {
                Some(route) => **s != route.expected().as_u16(),
                None => **s >= 400,
            })
            .map(|(_, n)| n)
            .sum::<u64>()
            + r.transport_errors;
        Line {
            requests: h.len(),
            rps: if seconds > 0.0 {
                h.len() as f64 / seconds
            } else {
                0.0
            },
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
            errors,
            statuses: r.statuses.clone(),
            transport_errors: r.transport_errors,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub overall: Line,
    pub routes: BTreeMap<String, Line>,
    pub checkouts_from_cart: u64,
    pub last_transport_error: Option<String>,
}

impl Summary {
    /// Errors of the run: unexpected statuses per route plus transport errors.
    pub fn errors(&self) -> u64 {
        self.routes.values().map(|l| l.errors).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_errors() {
        let mut a = Stats::default();
        for i in 1..=99u64 {
            a.record(Route::Detail, Duration::from_millis(i), Some(200));
        }
        a.record(Route::Detail, Duration::from_millis(500), Some(200));
        a.record(Route::Checkout, Duration::from_millis(5), Some(201));
        a.record(Route::Checkout, Duration::from_millis(5), Some(409));
        a.record(Route::ViewCart, Duration::from_millis(5), None);
        let s = a.summary(10.0);
        let d = &s.routes["detail"];
        assert_eq!(d.requests, 100);
        assert!((d.p50_ms - 50.0).abs() < 0.1, "{}", d.p50_ms);
        assert!((d.p99_ms - 99.0).abs() < 0.1, "{}", d.p99_ms);
        assert!((d.max_ms - 500.0).abs() < 0.5, "{}", d.max_ms);
        assert_eq!(d.errors, 0);
        assert_eq!(s.routes["checkout"].errors, 1, "201 is success, 409 is not");
        assert_eq!(s.routes["view_cart"].errors, 1, "no answer is an error");
        assert_eq!(s.errors(), 2);
        assert_eq!(s.overall.requests, 103);
        assert!((s.overall.rps - 10.3).abs() < 1e-9);
    }
}

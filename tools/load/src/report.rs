//! The terminal tables and the sweep's plot.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;

use crate::mix::Route;
use crate::run::{Mode, RunResult};
use crate::setup::SignIn;

fn thousands(n: f64) -> String {
    let s = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn title(r: &RunResult, shoppers: usize) -> String {
    match r.spec.mode {
        Mode::Open => format!(
            "open loop: {} req/s offered for {} s ({} s warm-up), up to {} connections, {} shoppers",
            thousands(r.spec.rate.unwrap_or(0.0)),
            r.spec.duration_s,
            r.spec.warmup_s,
            r.spec.connections,
            shoppers
        ),
        Mode::Closed => format!(
            "closed loop: {} connections for {} s ({} s warm-up), {} shoppers",
            r.spec.connections, r.spec.duration_s, r.spec.warmup_s, shoppers
        ),
    }
}

/// The per-route table, errors by status, and the processes' CPU and memory.
pub fn table(r: &RunResult, shoppers: usize) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\n{}", title(r, shoppers));
    let _ = writeln!(
        o,
        "{:<12} {:<38} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7}",
        "route", "request", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"
    );
    let row = |o: &mut String, name: &str, what: &str, l: &crate::stats::Line| {
        let _ = writeln!(
            o,
            "{:<12} {:<38} {:>9} {:>8} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>7}",
            name,
            what,
            thousands(l.requests as f64),
            thousands(l.rps),
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.max_ms,
            l.errors
        );
    };
    for route in Route::ALL {
        if let Some(l) = r.summary.routes.get(route.name()) {
            row(&mut o, route.name(), route.request(), l);
        }
    }
    row(&mut o, "all", "", &r.summary.overall);
    let mut errs = Vec::new();
    for route in Route::ALL {
        if let Some(l) = r.summary.routes.get(route.name()) {
            for (status, n) in &l.statuses {
                if *status != route.expected().as_u16() {
                    errs.push(format!("{} {status}: {n}", route.name()));
                }
            }
            if l.transport_errors > 0 {
                errs.push(format!(
                    "{} no answer: {}",
                    route.name(),
                    l.transport_errors
                ));
            }
        }
    }
    if r.dropped > 0 {
        errs.push(format!(
            "not sent, the arrival queue was full: {}",
            r.dropped
        ));
    }
    if r.unfinished > 0 {
        errs.push(format!("unanswered at the end: {}", r.unfinished));
    }
    let _ = writeln!(
        o,
        "errors by status: {}",
        if errs.is_empty() {
            "none".into()
        } else {
            errs.join("; ")
        }
    );
    if let Some(e) = &r.summary.last_transport_error {
        let _ = writeln!(o, "last transport error: {e}");
    }
    let _ = writeln!(
        o,
        "checkouts of a cart: {} of {} (the rest name their items)",
        r.summary.checkouts_from_cart,
        r.summary.routes.get("checkout").map_or(0, |l| l.requests)
    );
    let _ = writeln!(
        o,
        "\n{:<16} {:>7} {:>12} {:>11} {:>11}",
        "process", "CPU %", "CPU µs/req", "RSS MB avg", "RSS MB max"
    );
    for (name, p) in &r.usage.processes {
        let _ = writeln!(
            o,
            "{:<16} {:>7.1} {:>12.1} {:>11.1} {:>11.1}",
            name, p.cpu_pct, p.cpu_us_per_request, p.rss_mb_avg, p.rss_mb_max
        );
    }
    let _ = writeln!(
        o,
        "machine: {:.0} % busy of {:.1} cores; other load (not the processes above) {:.1} % of the busy time",
        r.usage.machine_busy_pct, r.usage.cores, r.usage.other_pct_of_busy
    );
    o
}

pub fn signin(s: &SignIn) -> String {
    format!(
        "sign-in (measured on its own): {} shoppers, {} at a time: {} logins/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (registration {} /s)",
        s.users,
        s.concurrency,
        thousands(s.login.rps),
        s.login.p50_ms,
        s.login.p99_ms,
        s.login.max_ms,
        thousands(s.register.rps)
    )
}

/// The sweep's latency against the offered rate (log scale), the limit, and the highest
/// rate that held.
pub fn plot(
    path: &Path,
    steps: &[RunResult],
    limit_ms: f64,
    held: Option<f64>,
    caption: &str,
) -> Result<()> {
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    let rates: Vec<f64> = steps.iter().map(|s| s.spec.rate.unwrap_or(0.0)).collect();
    let x_max = rates.iter().copied().fold(1.0, f64::max) * 1.05;
    let x_min = rates.iter().copied().fold(x_max, f64::min) * 0.9;
    let y_min = steps
        .iter()
        .map(|s| s.summary.overall.p50_ms)
        .fold(limit_ms, f64::min)
        .max(0.02)
        / 2.0;
    let y_max = steps
        .iter()
        .map(|s| s.summary.overall.p99_ms)
        .fold(limit_ms * 2.0, f64::max)
        * 1.5;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x_min..x_max, (y_min..y_max).log_scale())
        .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    chart
        .configure_mesh()
        .x_desc("offered load, requests/s (open loop)")
        .y_desc("latency, ms (log scale)")
        .draw()
        .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    type Percentile = fn(&RunResult) -> f64;
    let series: [(&str, RGBColor, Percentile); 3] = [
        ("p50", BLUE, |s| s.summary.overall.p50_ms),
        ("p90", GREEN, |s| s.summary.overall.p90_ms),
        ("p99", RED, |s| s.summary.overall.p99_ms),
    ];
    for (name, color, f) in series {
        let points: Vec<(f64, f64)> = steps
            .iter()
            .map(|s| (s.spec.rate.unwrap_or(0.0), f(s).max(y_min)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    }
    chart
        .draw_series(LineSeries::new(
            vec![(x_min, limit_ms), (x_max, limit_ms)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| anyhow::anyhow!("plot: {e}"))?
        .label(format!("p99 limit {limit_ms} ms"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    if let Some(h) = held {
        chart
            .draw_series(LineSeries::new(
                vec![(h, y_min), (h, y_max)],
                MAGENTA.stroke_width(1),
            ))
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?
            .label(format!("highest rate held: {} req/s", thousands(h)))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], MAGENTA));
    }
    // Steps with errors, marked on the p99 line.
    chart
        .draw_series(steps.iter().filter(|s| s.errors > 0).map(|s| {
            Cross::new(
                (
                    s.spec.rate.unwrap_or(0.0),
                    s.summary.overall.p99_ms.max(y_min),
                ),
                6,
                BLACK.stroke_width(2),
            )
        }))
        .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    root.present()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;

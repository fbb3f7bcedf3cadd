//! `mall bench catalog`: product detail and a list page through nginx, from the blue
//! product slot (Redis cache on) vs a green slot started with CACHE_ENABLED=false
//! (docs/performance.md, "Catalog cache"); and the edge's cost for a signed-in shopper:
//! the same detail reads through the public listener with a token and without
//! (docs/performance.md, "Edge").

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::load::Case;
use super::observe::{self, Counters};
use super::print::{self, r2};
use super::{http, ratios, summary, Bench};
use crate::say;
use crate::stack::launch::launch_part;
use crate::stack::parts::StackPart;

/// The green product slot, started the way scripts/dev starts the blue one (the stack's
/// launch_part: same database, Redis prefix and environment) but with the cache off.
fn start_green(b: &mut Bench, port: u16) -> Result<()> {
    let cfg = b.env.stack_config(&b.root)?;
    let part = StackPart::find("product").context("the stack table has no product part")?;
    let pid = launch_part(
        &cfg,
        part,
        Some("green"),
        port,
        &b.release_bin("product-service"),
        &["CACHE_ENABLED=false".to_owned()],
    )?;
    say::log(&format!(
        "started product-green (pid {pid}) on 127.0.0.1:{port} with CACHE_ENABLED=false"
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    while http::status(&format!("http://127.0.0.1:{port}/ready"), &[]) != 200 {
        if Instant::now() > deadline {
            b.failed = true;
            bail!(
                "product-green did not become ready; see {}/log/product-green.log",
                b.var.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

fn served_by(url: &str) -> String {
    http::request("GET", url, &[], None)
        .ok()
        .and_then(|a| a.header("x-served-by"))
        .unwrap_or_default()
}

pub fn run(b: &mut Bench) -> Result<()> {
    b.stack_up(&["user", "product"])?;
    let (blue, green) = (b.port_base + 2, b.port_base + 102);
    start_green(b, green)?;
    let conf = super::nginx::catalog_conf(
        b.bench_ports,
        &format!("127.0.0.1:{blue}"),
        &format!("127.0.0.1:{green}"),
    );
    b.nginx_extra("bench-catalog", &conf)?;
    b.wait_port(b.bench_ports.0)?;
    b.wait_port(b.bench_ports.1)?;
    let cached = format!("http://127.0.0.1:{}", b.bench_ports.0);
    let uncached = format!("http://127.0.0.1:{}", b.bench_ports.1);
    let list_path = "/api/products?category=Kitchen&sort=price_asc";
    let items = http::request(
        "GET",
        &format!("{}/api/products?size=100", b.url),
        &[],
        None,
    )?
    .json()?;
    let ids: Vec<String> = items["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| format!("/api/products/{}", p["id"]))
        .collect();
    let (Some(first), Some(last)) = (ids.first().cloned(), ids.last()) else {
        bail!("the demo catalog is empty");
    };
    let paths = b.tmp.join("detail-paths.txt");
    std::fs::write(&paths, ids.join("\n") + "\n")?;
    say::log(&format!(
        "detail requests cycle over the {} demo products ({first} ... {last})",
        ids.len()
    ));
    b.expect_status(
        200,
        &format!("cached detail {first}"),
        &format!("{cached}{first}"),
        &[],
    )?;
    if !served_by(&format!("{cached}{first}")).starts_with("product-blue") {
        bail!("the cached bench server is not served by product-blue");
    }
    b.expect_status(
        200,
        &format!("uncached detail {first}"),
        &format!("{uncached}{first}"),
        &[],
    )?;
    if !served_by(&format!("{uncached}{first}")).starts_with("product-green") {
        bail!("the uncached bench server is not served by product-green");
    }
    b.expect_status(200, "cached list", &format!("{cached}{list_path}"), &[])?;
    b.expect_status(200, "uncached list", &format!("{uncached}{list_path}"), &[])?;
    let list_items = http::request("GET", &format!("{cached}{list_path}"), &[], None)?.json()?
        ["items"]
        .as_array()
        .map_or(0, Vec::len);
    say::log(&format!("the list page holds {list_items} products"));

    let mut counters = Counters::default();
    for (slot, port) in [("blue", blue), ("green", green)] {
        let m = format!("http://127.0.0.1:{port}/metrics");
        counters.metric(
            &format!("{slot}_cache_hits"),
            &m,
            "catalog_cache_hits_total",
        );
        counters.metric(
            &format!("{slot}_cache_misses"),
            &m,
            "catalog_cache_misses_total",
        );
    }
    // Server-wide (the host's MySQL/MariaDB is shared), but the bench dominates them.
    counters.mysql_status = vec![
        "Questions",
        "Com_stmt_prepare",
        "Com_stmt_execute",
        "Connections",
    ];
    // The edge for a signed-in shopper: the same detail reads through the public listener
    // (the real auth_request wiring), with a token and without.
    let shopper = b.register_and_login()?;
    let signed_in = b.tmp.join("catalog-signed-in.txt");
    std::fs::write(&signed_in, format!("Bearer {}\n", shopper.token))?;
    let public = format!("{}{first}", b.url);
    let bearer = format!("Bearer {}", shopper.token);
    b.expect_status(
        200,
        "signed-in detail",
        &public,
        &[("Authorization", &bearer)],
    )?;
    let lc = b.args.latency_connections;
    for round in 1..=b.args.rounds {
        let detail = |name: &str, base: &str| {
            Case::get(name, round, &format!("{base}{first}"), Some(&paths), None)
        };
        let list = |name: &str, base: &str| {
            Case::get(name, round, &format!("{base}{list_path}"), None, None)
        };
        let edge =
            |name: &str, auths: Option<&Path>| Case::get(name, round, &public, Some(&paths), auths);
        let mut cases = vec![
            detail("detail-cached", &cached),
            detail("detail-uncached", &uncached),
            list("list-cached", &cached),
            list("list-uncached", &uncached),
            edge("edge-anonymous", None),
            edge("edge-signed-in", Some(&signed_in)),
        ];
        if lc > 0 {
            cases.push(detail("detail-cached", &cached).unloaded(lc));
            cases.push(detail("detail-uncached", &uncached).unloaded(lc));
            cases.push(list("list-cached", &cached).unloaded(lc));
            cases.push(list("list-uncached", &uncached).unloaded(lc));
        }
        for c in &cases {
            b.run_case(c, &counters)?;
        }
    }
    let cases = summary::cases(&b.runs);
    let result = json!({
        "benchmark": "catalog",
        "machine": observe::machine(&b.root, &b.load_start, &b.load_version()),
        "params": b.params(),
        "detail": {"ids_cycled": ids.len()},
        "list": {"path": list_path, "items": list_items},
        "ratios": ratios::catalog(&cases, lc),
        "edge": ratios::edge(&cases),
        "cases": cases,
        "product_memory": {"blue": super::auth::memory(b.pid("product-blue")?),
                           "green": super::auth::memory(b.pid("product-green").context("product-green")?)},
        "nginx_status_tally": observe::status_tally(&b.var, None),
        "log_sizes": observe::log_sizes(&b.var),
        "bench_nginx_conf": conf,
        "runs": b.runs,
    });
    println!(
        "\ncatalog benchmark: {} rounds x {}s per case, warm-up {}s; cached = blue slot, uncached = green slot with CACHE_ENABLED=false",
        b.args.rounds, b.args.duration, b.args.warmup
    );
    print!("{}", print::tables(&result["cases"]));
    print!("{}", verdicts(&result));
    print!("{}", print::observations(&result));
    b.write_result("catalog", &result)?;
    Ok(())
}

fn verdicts(r: &Value) -> String {
    let n = |v: &Value| r2(v.as_f64().unwrap_or(0.0));
    let mut o = String::from("\n");
    for (name, key) in [
        ("detail, saturated", "detail_saturated"),
        ("list, saturated  ", "list_saturated"),
        ("detail, unloaded ", "detail_unloaded"),
        ("list, unloaded   ", "list_unloaded"),
    ] {
        let p = &r["ratios"][key];
        if p.is_null() {
            continue;
        }
        let rounds: Vec<String> = p["throughput_ratio_rounds"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| n(x).to_string())
            .collect();
        o += &format!(
            "  {name}: cached / uncached req/s {} (rounds: {}), p99 {} vs {} ms\n",
            n(&p["throughput_cached_over_uncached"]),
            rounds.join(", "),
            n(&p["p99_ms_cached"]),
            n(&p["p99_ms_uncached"])
        );
    }
    let e = &r["edge"];
    if !e.is_null() {
        o += &format!(
            "  edge, detail signed in / anonymous req/s: {} (target >= 0.95: {}), p99 {} vs {} ms\n",
            n(&e["signed_in_over_anonymous"]),
            if e["met"] == true { "met" } else { "missed" },
            n(&e["p99_ms_signed_in"]),
            n(&e["p99_ms_anonymous"])
        );
    }
    let cases: Vec<(&String, &Value)> = r["cases"].as_object().into_iter().flatten().collect();
    let hits: Vec<String> = cases
        .iter()
        .map(|(k, v)| {
            let c = &v["counters"];
            format!(
                "{k} blue {}/{}, green {}/{}",
                c["blue_cache_hits"],
                c["blue_cache_misses"],
                c["green_cache_hits"],
                c["green_cache_misses"]
            )
        })
        .collect();
    o += &format!("  product cache hits/misses: {}\n", hits.join("; "));
    let sql: Vec<String> = cases
        .iter()
        .map(|(k, v)| {
            let (c, req) = (
                &v["counters"],
                v["requests"].as_f64().unwrap_or(0.0).max(1.0),
            );
            let per = |m: &str| r2(c[m].as_f64().unwrap_or(0.0) / req);
            format!(
                "{k} {} questions, {} prepares, {} executes, {} new connections",
                per("mysql_Questions"),
                per("mysql_Com_stmt_prepare"),
                per("mysql_Com_stmt_execute"),
                c["mysql_Connections"]
            )
        })
        .collect();
    o += &format!(
        "  MySQL statements per request (server-wide counters): {}\n",
        sql.join("; ")
    );
    o
}

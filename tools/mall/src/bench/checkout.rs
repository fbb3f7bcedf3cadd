//! `mall bench checkout`: checkouts/s and p99 through nginx, every request a new order
//! with its own Idempotency-Key (nine in ten paid with tok_ok, one in ten declined with
//! tok_declined), spread over eight signed-in shoppers, for one product with stock for the
//! whole run. Each checkout is the whole saga: auth, order insert, reservation, payment,
//! the gateway, the settlement. The 402s of the declined tenth are expected (counted in
//! the >=400 column); any other non-2xx is an error.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::load::Case;
use super::observe::{self, Counters};
use super::{http, print, summary, Bench};

pub fn run(b: &mut Bench) -> Result<()> {
    b.stack_up(&["user", "product", "cart", "order", "payment", "gateway-sim"])?;
    let admin = b.admin_token(&b.var.join("secrets/admin-password"))?;
    let bearer = format!("Bearer {admin}");
    let body = r#"{"name":"Bench checkout","description":"","price":1000,"stock":100000000,"category":"Bench"}"#;
    let created = http::request(
        "POST",
        &format!("{}/api/products", b.url),
        &[("Authorization", &bearer)],
        Some(body),
    )?;
    if !(200..300).contains(&created.status) {
        bail!(
            "could not create the bench product: {} {}",
            created.status,
            created.body
        );
    }
    let product = created.json()?["id"]
        .as_u64()
        .context("the bench product has no id")?;
    let mut auths = String::new();
    for _ in 0..8 {
        auths += &format!("Bearer {}\n", b.register_and_login()?.token);
    }
    let auth_file = b.tmp.join("auths.txt");
    std::fs::write(&auth_file, auths)?;
    // Server-wide (the host's MariaDB is shared), but the bench dominates them: the
    // statements and commits a checkout costs (docs/checkout.md "The steps").
    let counters = Counters {
        mysql_status: vec![
            "Questions",
            "Com_call_procedure",
            "Com_insert",
            "Com_update",
            "Com_select",
            "Innodb_data_fsyncs",
        ],
        ..Counters::default()
    };
    for round in 1..=b.args.rounds {
        let mut c = Case::get(
            "checkout",
            round,
            &format!("{}/api/orders", b.url),
            None,
            Some(&auth_file),
        );
        c.shape = "checkout";
        c.product_id = Some(product);
        b.run_case(&c, &counters)?;
    }
    let cases = summary::cases(&b.runs);
    let stats = http::request(
        "GET",
        &format!("{}/api/admin/stats", b.url),
        &[("Authorization", &bearer)],
        None,
    )?
    .json()?;
    let (paid, failed) = (
        &stats["orders_by_status"]["paid"],
        &stats["orders_by_status"]["failed"],
    );
    let result = json!({
        "benchmark": "checkout",
        "machine": observe::machine(&b.root, &b.load_start, &b.load_version()),
        "params": b.params(),
        "cases": cases,
        "orders_at_end": {"paid": paid, "failed": failed},
        // Only the public route: the internal calls carry order ids in their paths.
        "nginx_status_tally": observe::status_tally(&b.var, Some("/api/orders")),
        "log_sizes": observe::log_sizes(&b.var),
        "runs": b.runs,
    });
    println!(
        "\ncheckout benchmark: {} rounds x {}s, warm-up {}s; 9 in 10 tok_ok, 1 in 10 tok_declined (402 expected)",
        b.args.rounds, b.args.duration, b.args.warmup
    );
    print!("{}", print::tables(&result["cases"]));
    println!("  orders at the end (warm-up included): {paid} paid, {failed} failed");
    println!("{}", mysql_per_checkout(&result["cases"]["checkout"]));
    print!("{}", print::observations(&result));
    b.write_result("checkout", &result)?;
    Ok(())
}

/// MariaDB's server-wide counters over the measured runs, per checkout answered.
fn mysql_per_checkout(case: &Value) -> String {
    let requests = case["requests"].as_f64().unwrap_or(0.0).max(1.0);
    let per = |k: &str| {
        let v = case["counters"][format!("mysql_{k}")]
            .as_f64()
            .unwrap_or(0.0);
        format!("{:.2}", v / requests)
    };
    format!(
        "  MariaDB per checkout (server-wide counters): {} statements ({} CALLs, {} INSERTs, {} UPDATEs, {} SELECTs), {} InnoDB fsyncs",
        per("Questions"),
        per("Com_call_procedure"),
        per("Com_insert"),
        per("Com_update"),
        per("Com_select"),
        per("Innodb_data_fsyncs")
    )
}

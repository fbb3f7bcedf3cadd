//! compose-e2e's faults on the containers: a service container recreated at a new address
//! is reached without an nginx reload; the database container stopped (503 with the
//! standard body and Retry-After meanwhile) and started again (recovery by itself).

use std::time::Instant;

use super::compose::{docker, Project};
use super::host::{self, Ctx};
use crate::{say, Error};

/// The pids of nginx's worker processes in its container (a reload replaces them; the
/// cache loader, which exits on its own, is not one of them), comma-separated.
fn nginx_workers(ctx: &Ctx, p: &Project) -> String {
    let master = p.inspect(ctx, "nginx", "{{.State.Pid}}");
    let mut c = ctx.cmd("ps");
    c.args(["-o", "pid=", "--ppid", &master]);
    let children = ctx.read(c).unwrap_or_default();
    let mut workers: Vec<u32> = children
        .split_whitespace()
        .filter_map(|pid| pid.parse().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.starts_with(b"nginx: worker process"))
        })
        .collect();
    workers.sort_unstable();
    let list: Vec<String> = workers.iter().map(u32::to_string).collect();
    list.join(",")
}

fn ok(url: &str, extra: &[&str]) -> bool {
    let mut args = extra.to_vec();
    args.push(url);
    host::curl(&args, 5).is_some_and(|(status, _, _)| status == 200)
}

/// Placeholder containers on `net` until one holds `old` (freed by the stopped container),
/// so the next container there gets another address; their ids, to remove. `--ip` needs a
/// network with a configured subnet, which compose's is not: then Docker gives each new
/// container the lowest free address, and addresses freed below `old` (the idle slots,
/// stopped after `up`) are taken first, one placeholder each (at most 32).
fn hold_address(ctx: &Ctx, net: &str, image: &str, old: &str) -> Vec<String> {
    let run = |ip: Option<&str>| {
        let mut args = vec!["run", "-d", "--rm", "--network", net];
        if let Some(ip) = ip {
            args.extend(["--ip", ip]);
        }
        args.extend(["--entrypoint", "sleep", image, "120"]);
        docker(ctx, &args)
    };
    let pinned = run(Some(old));
    if !pinned.is_empty() {
        return vec![pinned];
    }
    let mut held = Vec::new();
    for _ in 0..32 {
        let id = run(None);
        if id.is_empty() {
            break;
        }
        let ip = docker(
            ctx,
            &[
                "inspect",
                "-f",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                &id,
            ],
        );
        held.push(id);
        if ip == old {
            break;
        }
    }
    held
}

/// product-blue recreated with another address (a placeholder takes its old one
/// meanwhile); nginx reaches the new container within seconds, with the same workers.
pub fn new_address(ctx: &Ctx, p: &Project) -> Result<(), Error> {
    let old = p.addr(ctx, "product-blue");
    let workers = nginx_workers(ctx, p);
    if workers.is_empty() {
        return Err(Error::Failed(
            "faults: no nginx worker found in the nginx container".into(),
        ));
    }
    let net = p.inspect(
        ctx,
        "product-blue",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}",
    );
    if !p.quiet(ctx, &["stop", "-t", "10", "product-blue"]) {
        return Err(Error::Failed("faults: could not stop product-blue".into()));
    }
    let placeholders = hold_address(ctx, &net, &format!("mall/product-service:{}", p.tag), &old);
    let recreated = p.quiet(
        ctx,
        &[
            "up",
            "-d",
            "--no-deps",
            "--no-build",
            "--force-recreate",
            "product-blue",
        ],
    );
    for id in &placeholders {
        docker(ctx, &["rm", "-f", id]);
    }
    if !recreated {
        return Err(Error::Failed(
            "faults: could not recreate product-blue".into(),
        ));
    }
    let new = p.addr(ctx, "product-blue");
    if new.is_empty() || new == old {
        return Err(Error::Failed(format!(
            "product-blue kept its address {old}"
        )));
    }
    let products = format!("{}/api/products?size=1", p.url());
    if !host::wait_for(60, "the recreated product-blue through nginx", || {
        ok(&products, &[])
    })? {
        return Err(Error::Failed(
            "faults: nginx did not reach the recreated product-blue".into(),
        ));
    }
    if nginx_workers(ctx, p) != workers {
        return Err(Error::Failed("nginx's workers changed (a reload?)".into()));
    }
    say::log(&format!(
        "faults: product-blue recreated at {new} (was {old}, held by {} placeholder(s)); nginx reached it without a reload",
        placeholders.len()
    ));
    Ok(())
}

/// Whether an answer is the standard 503: code service_unavailable, a trace id, Retry-After.
pub fn is_standard_503(status: u16, headers: &str, body: &str) -> bool {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let trace_ok = v["error"]["trace_id"]
        .as_str()
        .is_some_and(|t| t.len() == 32 && t.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
    status == 503
        && v["error"]["code"] == "service_unavailable"
        && trace_ok
        && crate::shell::header_value(headers, "retry-after").is_some()
}

/// The database container stopped: a DB-backed request answers 503 with the standard body
/// and Retry-After; started again, the same request answers 200 again by itself.
pub fn database(ctx: &Ctx, p: &Project) -> Result<(), Error> {
    let password = p.admin_password(ctx)?;
    let email = ctx
        .get("MALL_ADMIN_EMAIL")
        .unwrap_or_else(|| "admin@mall.local".into());
    let token = host::sign_in(&p.url(), &email, &password)
        .ok_or_else(|| Error::Failed("faults: could not sign in".into()))?;
    let auth = format!("Authorization: Bearer {token}");
    let orders = format!("{}/api/orders", p.url());
    if !p.quiet(ctx, &["stop", "-t", "20", "mysql"]) {
        return Err(Error::Failed(
            "faults: could not stop the database container".into(),
        ));
    }
    let t0 = Instant::now();
    let (status, headers, answer) = host::curl(&["-H", &auth, &orders], 10).unwrap_or_default();
    if !is_standard_503(status, &headers, &answer) {
        p.quiet(ctx, &["start", "mysql"]);
        let head: String = answer.chars().take(300).collect();
        return Err(Error::Failed(format!(
            "faults: with the database stopped, GET /api/orders answered {status} after {}s: {head}",
            t0.elapsed().as_secs()
        )));
    }
    say::log(&format!(
        "faults: database stopped: GET /api/orders answered 503 service_unavailable with Retry-After in {}s",
        t0.elapsed().as_secs()
    ));
    if !p.quiet(ctx, &["start", "mysql"]) {
        return Err(Error::Failed(
            "faults: could not start the database container again".into(),
        ));
    }
    let t0 = Instant::now();
    if !host::wait_for(120, "GET /api/orders to answer 200 again", || {
        ok(&orders, &["-H", &auth])
    })? {
        return Err(Error::Failed(
            "faults: the order service did not recover".into(),
        ));
    }
    say::log(&format!(
        "faults: database started again: the order service answered 200 again after {}s, by itself",
        t0.elapsed().as_secs()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_standard_503_counts() {
        let body = r#"{"error":{"code":"service_unavailable","trace_id":"0123456789abcdef0123456789abcdef"}}"#;
        let headers = "HTTP/1.1 503\nRetry-After: 1\n";
        assert!(is_standard_503(503, headers, body));
        assert!(!is_standard_503(500, headers, body));
        assert!(!is_standard_503(503, "HTTP/1.1 503\n", body));
        assert!(!is_standard_503(
            503,
            headers,
            r#"{"error":{"code":"internal"}}"#
        ));
    }
}

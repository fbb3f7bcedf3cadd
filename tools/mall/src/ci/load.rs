//! The load-smoke step: mall-load (tools/load, what scripts/bench mix runs) against the e2e
//! stack for a few seconds, closed then open loop, with shoppers it signs in itself. Fails
//! unless every route of the mix answered, with no error of any kind, in both runs, and the
//! process table has CPU for nginx and every service.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};
use serde_json::Value;

use super::ctx::{read, run, Ctx};
use super::stack::Stack;
use crate::say;

/// mall-load's `--proc LABEL=PIDS` arguments for the stack recorded in `<var>/run`:
/// nginx's workers together, every other part by its name without the blue slot suffix.
pub fn proc_args(var: &Path) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(var.join("run"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == "pid"));
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let inst = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pid = std::fs::read_to_string(&file)
            .unwrap_or_default()
            .trim()
            .to_owned();
        let value = if inst == "nginx" {
            let mut ps = Command::new("ps");
            ps.args(["-o", "pid=", "--ppid", &pid]);
            let kids = read(ps).unwrap_or_default();
            kids.split_whitespace().collect::<Vec<_>>().join(",")
        } else {
            pid
        };
        let label = inst.strip_suffix("-blue").unwrap_or(&inst);
        out.push("--proc".to_owned());
        out.push(format!("{label}={value}"));
    }
    out
}

const ROUTES: [&str; 6] = [
    "add_to_cart",
    "browse",
    "checkout",
    "detail",
    "search",
    "view_cart",
];
const PROCESSES: [&str; 5] = ["nginx", "auth-proxy", "product", "cart", "order"];

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// The report is what it should be (two runs, every route, no errors, CPU for every
/// process, every shopper signed in).
pub fn report_ok(report: &Value) -> bool {
    let runs = report["runs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    runs.len() == 2
        && runs.iter().all(|r| {
            let routes = r["summary"]["routes"].as_object();
            let mut keys: Vec<&str> = routes
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            keys.sort_unstable();
            num(&r["errors"]) == Some(0.0)
                && keys == ROUTES
                && routes.is_some_and(|m| {
                    m.values().all(|x| {
                        num(&x["requests"]).is_some_and(|n| n > 0.0)
                            && num(&x["errors"]) == Some(0.0)
                    })
                })
                && PROCESSES.iter().all(|p| {
                    num(&r["usage"]["processes"][p]["cpu_seconds"]).is_some_and(|c| c > 0.0)
                })
        })
        && num(&report["signin"]["login"]["requests"]) == Some(8.0)
}

pub fn check(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    let out = stack.dir.join("load-smoke.json");
    let mut c = ctx.cmd(ctx.target_bin("mall-load"));
    c.args([
        "--url",
        &stack.url,
        "--mode",
        "both",
        "--duration",
        "3",
        "--warmup",
        "1",
    ])
    .args([
        "--rate",
        "60",
        "--connections",
        "4",
        "--users",
        "8",
        "--signin-concurrency",
        "2",
    ])
    .args([
        "--user-prefix",
        &super::on_stack::smoke_prefix(),
        "--admin-email",
        &stack.admin_email,
    ])
    .arg("--admin-password-file")
    .arg(stack.admin_password_file())
    .args([
        "--stock-top-up",
        "1000",
        "--proc-comm",
        "mysql=mariadbd,mysqld",
    ])
    .args(["--proc-comm", "redis=redis-server"])
    .args(proc_args(&stack.var))
    .arg("--json")
    .arg(&out)
    .arg("--fail-on-errors");
    run(c)?;
    let text = std::fs::read_to_string(&out)
        .with_context(|| format!("while reading {}", out.display()))?;
    let report: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", out.display()))?;
    let runs = report["runs"].as_array().cloned().unwrap_or_default();
    if !report_ok(&report) {
        let brief: Vec<Value> = runs
            .iter()
            .map(|r| serde_json::json!({"errors": r["errors"], "routes": r["summary"]["routes"]}))
            .collect();
        bail!(
            "the load smoke run is not what it should be: {}",
            Value::Array(brief)
        );
    }
    let lines: Vec<String> = runs
        .iter()
        .map(|r| {
            let o = &r["summary"]["overall"];
            format!(
                "{} {} requests, p99 {} ms, {} errors",
                r["spec"]["mode"].as_str().unwrap_or("?"),
                o["requests"],
                o["p99_ms"],
                r["errors"]
            )
        })
        .collect();
    say::log(&format!("mall-load: {}", lines.join("; ")));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run_json(errors: u32, cpu: f64) -> Value {
        let routes: serde_json::Map<String, Value> = ROUTES
            .iter()
            .map(|r| ((*r).to_owned(), json!({"requests": 5, "errors": errors})))
            .collect();
        let procs: serde_json::Map<String, Value> = PROCESSES
            .iter()
            .map(|p| ((*p).to_owned(), json!({"cpu_seconds": cpu})))
            .collect();
        json!({"errors": errors, "summary": {"routes": routes}, "usage": {"processes": procs}})
    }

    #[test]
    fn only_a_clean_report_with_every_route_and_process_passes() {
        let good = json!({"runs": [run_json(0, 0.5), run_json(0, 0.5)], "signin": {"login": {"requests": 8}}});
        assert!(report_ok(&good));
        let mut one_run = good.clone();
        one_run["runs"].as_array_mut().unwrap().pop();
        assert!(!report_ok(&one_run));
        let errors = json!({"runs": [run_json(0, 0.5), run_json(1, 0.5)], "signin": {"login": {"requests": 8}}});
        assert!(!report_ok(&errors));
        let idle = json!({"runs": [run_json(0, 0.0), run_json(0, 0.5)], "signin": {"login": {"requests": 8}}});
        assert!(!report_ok(&idle));
        let mut missing = good.clone();
        missing["runs"][0]["summary"]["routes"]
            .as_object_mut()
            .unwrap()
            .remove("search");
        assert!(!report_ok(&missing));
        let mut signin = good;
        signin["signin"]["login"]["requests"] = json!(7);
        assert!(!report_ok(&signin));
    }
}

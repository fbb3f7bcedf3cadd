//! The steps that run on the e2e step's stack after its suite, and auth-down last (it
//! stops auth-proxy). The Python programs stay Python; they are run from here.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};

use super::ctx::{run, tee, Ctx};
use super::host::random_hex;
use super::stack::Stack;
use crate::host::temp_dir;
use crate::say;

/// The browser test of the storefront (web/tests/storefront_test.py) in Debian's headless
/// chromium driven by Python playwright; screenshots go to a kept temp folder.
pub fn storefront(ctx: &mut Ctx, _stack: &Stack) -> anyhow::Result<()> {
    let out = temp_dir("mall-storefront")?;
    say::log(&format!("storefront screenshots: {}", out.display()));
    let chromium = super::ctx::read({
        let mut c = Command::new("sh");
        c.args(["-c", "command -v chromium"]);
        c
    })
    .unwrap_or_default();
    let mut c = ctx.cmd(ctx.venv_bin("python"));
    c.arg("web/tests/storefront_test.py")
        .env("STOREFRONT_OUT", &out)
        .env("CHROMIUM", chromium.trim());
    run(c)
}

/// One ignored e2e test by its exact name, which must run and pass: a renamed test fails
/// the step instead of running zero tests.
fn ignored_test(ctx: &Ctx, stack: &Stack, name: &str) -> anyhow::Result<()> {
    let module = name.split("::").next().unwrap_or(name);
    let copy = stack.dir.join(format!("{module}-test.out"));
    let c = ctx.e2e_ignored(name);
    let (ok, out) = tee(c, Some(&copy))?;
    if !ok {
        bail!("{name} failed");
    }
    if !out
        .lines()
        .any(|l| l.starts_with("test result: ok. 1 passed"))
    {
        bail!("{name} did not run (renamed?): its output has no 'test result: ok. 1 passed'");
    }
    Ok(())
}

/// kill -9 of the order service in the middle of checkouts, then a restart (after the
/// trace audit, which reads every line of the run; before auth-down).
pub fn crash(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    ignored_test(
        ctx,
        stack,
        "crash::crash_recovery_settles_every_order_without_losing_money_or_stock",
    )
}

/// The cart's database account locked and its connections killed: 503 quickly, then
/// recovery by itself (it takes a part of the stack down, so it runs alone).
pub fn outage(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    ignored_test(
        ctx,
        stack,
        "adversarial_outage::cart_database_crash_answers_503_quickly_and_recovers_by_itself",
    )
}

/// Last on the stack but auth-down: schemathesis against docs/openapi.yaml as a customer
/// and as an admin, fixed seed, bounded examples (MALL_FUZZ_SEED, MALL_FUZZ_EXAMPLES).
pub fn contract(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    let mut c = ctx.cmd(ctx.venv_bin("python"));
    c.arg("e2e/contract/fuzz.py")
        .args(["--url", &stack.url, "--admin-email", &stack.admin_email])
        .arg("--admin-password-file")
        .arg(stack.admin_password_file())
        .args([
            "--seed",
            &ctx.get("MALL_FUZZ_SEED")
                .unwrap_or_else(|| "20261206".into()),
        ])
        .args([
            "--examples",
            &ctx.get("MALL_FUZZ_EXAMPLES").unwrap_or_else(|| "25".into()),
        ])
        .arg("--schemathesis")
        .arg(ctx.venv_bin("schemathesis"))
        .arg("--report-dir")
        .arg(stack.dir.join("contract"));
    run(c)
}

/// The trace-ids step (trace.rs).
pub fn trace_ids(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    super::trace::check(ctx, stack)
}

/// The load smoke step (load.rs).
pub fn load_smoke(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    super::load::check(ctx, stack)
}

fn alive(pid: &str) -> bool {
    PathBuf::from(format!("/proc/{pid}")).exists()
}

/// With auth-proxy stopped, /api/ answers 503 service_unavailable with the standard JSON
/// body and a trace id (never 401, never a bare 500).
pub fn auth_down(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    let file = stack.var.join("run/auth-proxy-blue.pid");
    let pid = std::fs::read_to_string(&file)
        .with_context(|| format!("while reading {}", file.display()))?;
    let pid = pid.trim();
    run({
        let mut c = Command::new("kill");
        c.args(["-TERM", pid]);
        c
    })?;
    for _ in 0..100 {
        if !alive(pid) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if alive(pid) {
        bail!("auth-proxy (pid {pid}) did not stop");
    }
    let mut curl = ctx.cmd("curl");
    curl.args([
        "-s",
        "-w",
        "\n%{http_code}",
        "-H",
        "Authorization: Bearer x.y.z",
    ])
    .arg(format!("{}/api/users/me", stack.url));
    let out = curl.output().context("while running curl")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    if status != "503" || !body.contains("\"code\":\"service_unavailable\"") || !has_trace_id(body)
    {
        bail!("with auth-proxy down, /api/users/me answered {status}: {body}");
    }
    say::log("auth-proxy down: /api/ answers 503 service_unavailable with a trace id (checked)");
    Ok(())
}

/// `"trace_id":"<32 lowercase hex>"` in the body.
pub fn has_trace_id(body: &str) -> bool {
    body.match_indices("\"trace_id\":\"").any(|(i, m)| {
        let rest = &body[i + m.len()..];
        rest.len() > 32
            && rest[..32]
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
            && rest[32..].starts_with('"')
    })
}

/// A random `smoke-<hex>` user prefix for the load smoke.
pub fn smoke_prefix() -> String {
    format!("smoke-{}", random_hex(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_in_bodies_are_32_lowercase_hex() {
        let id = "0123456789abcdef0123456789abcdef";
        assert!(has_trace_id(&format!(
            "{{\"code\":\"x\",\"trace_id\":\"{id}\"}}"
        )));
        assert!(!has_trace_id(&format!(
            "{{\"trace_id\":\"{}\"}}",
            id.to_uppercase()
        )));
        assert!(!has_trace_id("{\"trace_id\":\"abc\"}"));
    }
}

//! `mall stage compose-e2e`: the black-box suite against the mall in containers on this
//! Docker host. `scripts/dev up --runtime compose` (the README's command) as a private
//! compose project on a free port; the whole e2e suite through its nginx; scripts/trace on a
//! request from `docker compose logs`; the crash test (e2e crash::) with its kill -9 of the
//! order container's process mid-checkout, brought back by its restart policy; then faults
//! (compose_faults.rs); always `down --volumes` afterwards.
//!
//! The suite reads logs as files (MALL_LOG_DIR, followed by compose.rs). The key-rotation
//! test runs keygen in a one-off container on the user service's secret volume, and the
//! checkout tests ask the gateway simulator at its address on the project's network.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use anyhow::Context;

use super::compose::{docker, Project};
use super::compose_faults;
use super::host::{self, Ctx};
use crate::{say, Error};

pub fn run(base: &Ctx) -> Result<(), Error> {
    let dir = host::temp_dir("mall-compose-e2e")?;
    let mut ctx = base.clone();
    let mut project = Project::private(&mut ctx, &dir, "mall-e2e")?;
    let rate = ctx
        .get("MALL_E2E_LOGIN_RATE")
        .unwrap_or_else(|| "100r/s".into());
    ctx.set("MALL_LOGIN_RATE", rate);
    ctx.set("MALL_LOGIN_BURST", "200");
    ctx.set("REGISTER_MAX_PER_ADDRESS", "100000");
    say::log(&format!(
        "compose e2e stack: project {}, {}, state {}",
        project.name,
        project.url(),
        dir.display()
    ));
    let result = stage(&mut ctx, &mut project);
    project.cleanup(&ctx, result.is_err());
    if result.is_err() {
        say::log(&format!(
            "kept the compose test's state for inspection: {}",
            dir.display()
        ));
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn stage(ctx: &mut Ctx, project: &mut Project) -> Result<(), Error> {
    project.start(ctx)?;
    project.follow_logs(ctx)?;
    e2e_env(ctx, project)?;
    // forwarded:: is the local stack's only: Docker's port proxy shows every connection from
    // the host with one address, so no test connection can come from a trusted proxy.
    let mut suite = ctx.cmd("cargo");
    suite.args([
        "test",
        "-p",
        "e2e",
        "--locked",
        "--",
        "--skip",
        "forwarded::",
    ]);
    if !ctx.run(suite)? {
        return Err(Error::Failed(
            "the e2e suite failed on the containers".into(),
        ));
    }
    trace_one(ctx, project)?;
    crash(ctx, project)?;
    compose_faults::new_address(ctx, project)?;
    compose_faults::database(ctx, project)
}

/// What the e2e suite needs, pointed at the containers.
fn e2e_env(ctx: &mut Ctx, p: &Project) -> Result<(), Error> {
    let password = p.admin_password(ctx)?;
    let project_label = format!("label=com.docker.compose.project={}", p.name);
    let volume = docker(
        ctx,
        &[
            "volume",
            "ls",
            "-q",
            "--filter",
            &project_label,
            "--filter",
            "label=com.docker.compose.volume=secrets-user",
        ],
    );
    if volume.is_empty() {
        return Err(Error::Failed(format!(
            "no secrets-user volume in project {}",
            p.name
        )));
    }
    let mountpoint = docker(
        ctx,
        &["volume", "inspect", "-f", "{{.Mountpoint}}", &volume],
    );
    let keys = p.var.join("keys");
    std::fs::create_dir_all(&keys).context("while creating var/keys")?;
    let link = keys.join("user");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(format!("{mountpoint}/jwt"), &link)
        .context("while linking var/keys/user")?;
    let keygen = p.var.join("user-service-keygen");
    let script = format!(
        "#!/bin/sh\n# keygen for the compose test stack: in a one-off container of the user image, on the user\n\
         # service's secret volume, as the services' user (the path the test passes is this host's).\n\
         exec docker run --rm --network none -u 10001:10001 -v {volume}:/run/mall \\\n    mall/user-service:{} keygen --keys-dir /run/mall/jwt\n",
        p.tag
    );
    write_script(&keygen, &script)?;
    let gateway = p.addr(ctx, "gateway-sim");
    if gateway.is_empty() {
        return Err(Error::Failed("the gateway simulator has no address".into()));
    }
    let email = ctx
        .get("MALL_ADMIN_EMAIL")
        .unwrap_or_else(|| "admin@mall.local".into());
    ctx.set("MALL_URL", p.url());
    ctx.set("MALL_ADMIN_EMAIL", email);
    ctx.set("MALL_ADMIN_PASSWORD", password);
    ctx.set("MALL_LOG_DIR", p.var.join("log").display().to_string());
    ctx.set("MALL_USER_SERVICE_BIN", keygen.display().to_string());
    ctx.set("MALL_GATEWAY_URL", format!("http://{gateway}:8080"));
    Ok(())
}

pub fn write_script(path: &std::path::Path, text: &str) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).with_context(|| format!("while writing {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .context("while making a hook executable")?;
    Ok(())
}

/// Whether scripts/trace's wide output shows an auth-proxy line (`.. <time> <ms> auth-proxy …`).
pub fn shows_auth_proxy(out: &str) -> bool {
    out.lines().any(|l| {
        let rest = l.get(2..).unwrap_or_default();
        let words: Vec<&str> = rest.split_whitespace().collect();
        rest.starts_with(' ')
            && words.len() > 3
            && words[0]
                .chars()
                .all(|c| c.is_ascii_digit() || c == ':' || c == '.')
            && words[1].chars().all(|c| c.is_ascii_digit() || c == '.')
            && words[2] == "auth-proxy"
    })
}

/// A request through the stack, then scripts/trace on its id from `docker compose logs`
/// must show the 401 answer and an auth-proxy line.
fn trace_one(ctx: &Ctx, p: &Project) -> Result<(), Error> {
    let id = host::random_hex(16);
    let cart = format!("{}/api/cart", p.url());
    host::curl(&["-H", &format!("X-Trace-Id: {id}"), &cart], 10)
        .ok_or_else(|| Error::Failed("GET /api/cart got no answer".into()))?;
    let trace = |wide: bool| {
        let mut c = ctx.script("scripts/trace", &[&id, "--compose"]);
        if wide {
            c.arg("--wide");
        }
        ctx.read(c)
    };
    host::wait_for(10, "the trace's lines in the compose logs", || {
        trace(false).is_some()
    })?;
    let out =
        trace(true).ok_or_else(|| Error::Failed(format!("scripts/trace {id} --compose failed")))?;
    if !out.contains("answer: 401 after") {
        return Err(Error::Failed(format!(
            "scripts/trace shows no 401 answer:\n{out}"
        )));
    }
    if !shows_auth_proxy(&out) {
        return Err(Error::Failed(format!(
            "scripts/trace shows no auth-proxy line:\n{out}"
        )));
    }
    say::log(&format!(
        "scripts/trace --compose: {}",
        out.lines().next().unwrap_or_default()
    ));
    Ok(())
}

/// e2e's crash test on the containers: its kill -9 hits the order container's main process,
/// the restart policy brings the container back (nobody restarts it), every order settles.
fn crash(ctx: &Ctx, p: &Project) -> Result<(), Error> {
    let filter = format!("label=com.docker.compose.project={}", p.name);
    let pid_hook = p.var.join("crash-pid");
    write_script(&pid_hook, &format!(
        "#!/bin/sh\n# The host pid of a compose service's main process (e2e crash test hook).\n\
         id=\"$(docker ps -q --filter {filter} --filter \"label=com.docker.compose.service=$1\")\"\n\
         exec docker inspect -f '{{{{.State.Pid}}}}' \"$id\"\n"
    ))?;
    let restart_hook = p.var.join("crash-restart");
    write_script(&restart_hook, &format!(
        "#!/bin/sh\n# The order container back by its restart policy, healthy (e2e crash test hook): waits only.\n\
         i=0\nwhile [ $i -lt 240 ]; do\n\
         \x20   id=\"$(docker ps -q --filter {filter} --filter \"label=com.docker.compose.service=$1-blue\")\"\n\
         \x20   [ -n \"$id\" ] && [ \"$(docker inspect -f '{{{{.State.Health.Status}}}}' \"$id\")\" = healthy ] && exit 0\n\
         \x20   sleep 0.5\n    i=$((i + 1))\ndone\necho \"$1-blue did not come back healthy within 120 s\" >&2\nexit 1\n"
    ))?;
    let restarts = || {
        p.inspect(ctx, "order-blue", "{{.RestartCount}}")
            .parse::<u64>()
            .unwrap_or(0)
    };
    let before = restarts();
    let root_password = p.read(
        ctx,
        &["exec", "-T", "mysql", "cat", "/run/mall/root-password"],
    );
    let mut test = ctx.cmd("cargo");
    test.args(crate::ci::ctx::E2E_IGNORED)
        .arg("crash::crash_recovery_settles_every_order_without_losing_money_or_stock")
        .env("MALL_CRASH_PID_COMMAND", &pid_hook)
        .env("MALL_CRASH_RESTART_COMMAND", &restart_hook)
        .env("MALL_DB_PREFIX", "")
        .env("MALL_MYSQL_HOST", p.addr(ctx, "mysql"))
        .env("MALL_MYSQL_PORT", "3306")
        .env("MALL_MYSQL_ROOT_USER", "root")
        .env("MALL_MYSQL_ROOT_PASSWORD", root_password)
        .stdout(Stdio::piped());
    let mut child = test.spawn().context("while starting the crash test")?;
    let mut passed = false;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            eprintln!("{line}");
            passed |= line.starts_with("test result: ok. 1 passed");
        }
    }
    let ok = child.wait().is_ok_and(|s| s.success());
    crate::signal::check()?;
    if !ok || !passed {
        return Err(Error::Failed(
            "the crash test failed or did not run on the containers".into(),
        ));
    }
    let after = restarts();
    if after <= before {
        return Err(Error::Failed(format!(
            "order-blue was not restarted by its policy (restarts {before} -> {after})"
        )));
    }
    say::log(&format!(
        "crash on the containers: order-blue killed mid-checkout, restarted by its policy ({before} -> {after} restarts), every order settled"
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_must_show_an_auth_proxy_line() {
        let out = "trace 0af7\n 1 12:00:01.123   0.4 auth-proxy  allow GET /api/cart\n";
        assert!(shows_auth_proxy(out));
        assert!(!shows_auth_proxy(
            " 1 12:00:01.123   0.4 nginx  GET /api/cart 401\n"
        ));
    }
}

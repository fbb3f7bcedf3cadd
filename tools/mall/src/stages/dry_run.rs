//! `mall stage bg-dry-run`: the blue/green compose plan checked with --dry-run, no Docker
//! needed: a deploy, a deploy by full image reference, a rollback from a recorded state and
//! three refusals, each printing the commands it would run; nothing may be written.

use std::path::Path;

use anyhow::Context;

use super::host::{temp_dir, Ctx};
use crate::{say, Error};

/// The lines of `out` that say what the order check follows: smoke test, marker, confirm, stop.
const ORDER: [&str; 4] = [
    "smoke-test product-green",
    "green\\\" sh product",
    "confirm through nginx",
    "stop -t 30 product-blue",
];

/// Problems with the order of a deploy's steps: each of `marks` on exactly one line, in order.
pub fn order_problem(out: &str, marks: &[&str]) -> Option<String> {
    let lines: Vec<(usize, usize)> = out
        .lines()
        .enumerate()
        .filter_map(|(n, l)| {
            marks
                .iter()
                .position(|m| l.contains(m))
                .map(|which| (n, which))
        })
        .collect();
    if lines.len() != marks.len() {
        return Some("expected one smoke test, one marker, one confirmation and one stop".into());
    }
    let in_order = lines.iter().enumerate().all(|(i, (_, which))| *which == i);
    (!in_order).then(|| "smoke, switch, confirm, stop out of order".into())
}

struct Check {
    problems: Vec<String>,
}

impl Check {
    fn expect_in(&mut self, out: &str, want: &str, what: &str) {
        if !out.contains(want) {
            self.problems.push(format!("expected {what}: {want}"));
        }
    }
}

fn dry(ctx: &Ctx, args: &[&str]) -> (bool, String) {
    let mut c = ctx.script("scripts/blue-green", &["--runtime", "compose", "--dry-run"]);
    c.args(args);
    match c.output() {
        Ok(o) => (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => (false, format!("could not run scripts/blue-green: {e}")),
    }
}

pub fn run(base: &Ctx) -> Result<(), Error> {
    let dir = temp_dir("mall-bg-dry")?;
    let result = checks(base, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn checks(base: &Ctx, dir: &Path) -> Result<(), Error> {
    let root = base.root.display().to_string();
    let env_file = dir.join("env");
    std::fs::copy(base.root.join("compose/.env.example"), &env_file)
        .context("while copying compose/.env.example")?;
    let mut ctx = base.clone();
    ctx.set("MALL_BG_STATE_DIR", dir.join("state").display().to_string());
    ctx.set("MALL_COMPOSE_ENV_FILE", env_file.display().to_string());
    ctx.set("MALL_BG_COMPOSE", "docker compose");
    let compose = format!(
        "docker compose -f {root}/compose/docker-compose.yml --env-file {}",
        env_file.display()
    );
    let mut c = Check { problems: vec![] };

    let (ok, out) = dry(&ctx, &["deploy", "product", "3f2c1e0"]);
    if !ok {
        return Err(Error::Failed(format!("dry-run deploy failed: {out}")));
    }
    c.expect_in(
        &out,
        "+ docker pull -q mall/product-service:3f2c1e0",
        "the image pulled first",
    );
    c.expect_in(
        &out,
        "PRODUCT_GREEN_IMAGE=mall/product-service:3f2c1e0 PRODUCT_GREEN_VERSION=3f2c1e0",
        "the idle slot's pair in the env file",
    );
    c.expect_in(
        &out,
        &format!("{compose} up -d --no-deps --no-build --force-recreate product-green"),
        "the idle slot started alone",
    );
    c.expect_in(
        &out,
        "3 consecutive /ready passes of product-green",
        "the readiness wait",
    );
    c.expect_in(&out, "X-Served-By product-green@3f2c1e0", "the smoke test");
    c.expect_in(&out, &format!("{compose} exec -T nginx grep -q \\^upstream\\ product_green\\ \\{{ /etc/nginx/upstreams/product.conf"), "the slot's upstream checked");
    c.expect_in(&out, r#"mv\ -f\ \"/etc/nginx/upstreams/.\$1.green.tmp\"\ \"/etc/nginx/upstreams/\$1.green\" sh product"#, "the green marker written");
    c.expect_in(
        &out,
        &format!("{compose} stop -t 30 product-blue"),
        "the old slot stopped",
    );
    if out.contains("nginx -s reload") || out.contains("nginx -t") {
        c.problems.push("a switch reloads or re-tests nginx".into());
    }
    c.problems.extend(order_problem(&out, &ORDER));

    let (ok, out) = dry(
        &ctx,
        &[
            "deploy",
            "auth-proxy",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mall/auth-proxy:9a8b7c6",
        ],
    );
    if !ok {
        c.problems
            .push(format!("dry-run deploy by full reference failed: {out}"));
    }
    c.expect_in(
        &out,
        "AUTH_PROXY_GREEN_VERSION=9a8b7c6",
        "the tag of a full reference as the version",
    );
    c.expect_in(
        &out,
        r#"\"/etc/nginx/upstreams/\$1.green\" sh auth-proxy"#,
        "auth-proxy switched like the services",
    );

    // A recorded state: green live, blue kept. Rollback starts blue with its image.
    let state = dir.join("state/state");
    std::fs::create_dir_all(&state).context("while creating the state directory")?;
    let record = [
        "part=product",
        "live=green",
        "since=2026-01-01T00:00:00Z",
        "by=ci",
        "action=deploy",
        "blue_version=1a2b3c4",
        "blue_artifact=registry.example/mall/product-service:1a2b3c4",
        "green_version=3f2c1e0",
        "green_artifact=registry.example/mall/product-service:3f2c1e0",
    ];
    std::fs::write(state.join("product.state"), record.join("\n") + "\n")
        .context("while writing the recorded state")?;
    let (ok, out) = dry(&ctx, &["rollback", "product"]);
    if !ok {
        return Err(Error::Failed(format!("dry-run rollback failed: {out}")));
    }
    c.expect_in(&out, "PRODUCT_BLUE_IMAGE=registry.example/mall/product-service:1a2b3c4 PRODUCT_BLUE_VERSION=1a2b3c4", "the previous image");
    c.expect_in(
        &out,
        r#"rm\ -f\ \"/etc/nginx/upstreams/\$1.green\" sh product"#,
        "the switch back to blue (marker removed)",
    );
    c.expect_in(
        &out,
        &format!("{compose} stop -t 30 product-green"),
        "green stopped after the rollback",
    );

    // Refused: latest, an unknown part, --env with compose. Nothing written by a dry run.
    for (args, what) in [
        (
            &["deploy", "product", "latest"][..],
            "dry run accepted latest",
        ),
        (&["deploy", "nginx", "1"], "dry run accepted part nginx"),
        (
            &["deploy", "product", "1", "--env", "A=b"],
            "compose accepted --env",
        ),
    ] {
        if dry(&ctx, args).0 {
            c.problems.push(what.into());
        }
    }
    if dir.join("state/audit.log").exists() {
        c.problems.push("a dry run wrote the audit log".into());
    }
    let before = std::fs::read(base.root.join("compose/.env.example")).unwrap_or_default();
    if std::fs::read(&env_file).unwrap_or_default() != before {
        c.problems.push("a dry run changed the env file".into());
    }
    if c.problems.is_empty() {
        say::log(
            "compose dry run: deploy, full image reference, rollback and refusals as expected",
        );
        return Ok(());
    }
    for p in &c.problems {
        say::warn(&format!("dry run: {p}"));
    }
    Err(Error::Failed(format!(
        "the compose dry run: {} problems (above)",
        c.problems.len()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deploy_steps_must_come_once_and_in_order() {
        let good = "x\nsmoke-test product-green\nmv green\\\" sh product\nconfirm through nginx\n+ stop -t 30 product-blue\n";
        assert_eq!(order_problem(good, &ORDER), None);
        let swapped = "confirm through nginx\nsmoke-test product-green\nmv green\\\" sh product\nstop -t 30 product-blue\n";
        assert!(order_problem(swapped, &ORDER).is_some_and(|p| p.contains("out of order")));
        let twice = format!("{good}smoke-test product-green\n");
        assert!(order_problem(&twice, &ORDER).is_some_and(|p| p.contains("one smoke test")));
    }
}

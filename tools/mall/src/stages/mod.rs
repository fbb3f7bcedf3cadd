//! `mall stage <name>`: the test stages of scripts/test (`mall ci`) that drive whole stacks:
//! the blue/green compose dry run, the zero-downtime test on local processes and on
//! containers, and the end-to-end suite on containers. Each stage prints progress lines,
//! ends with a verdict line, and cleans up what it started (also after a failure or an
//! interrupt; a failed stage keeps its state directory for inspection and says where).

mod bg_compose;
pub mod bluegreen;
mod compose;
mod compose_e2e;
mod compose_faults;
mod dry_run;
pub mod host;
mod load;
pub mod verdict;

use clap::ValueEnum;

use crate::Error;

pub const STAGE_HELP: &str = "\
Stages:
  bg-dry-run   scripts/blue-green's compose plan (--dry-run; no Docker needed): deploy,
               full image reference, rollback from a recorded state, refusals; nothing
               written.
  bluegreen    zero downtime on a private local stack (scripts/dev up --no-build on free
               ports, its own state directory, database and Redis prefixes; always torn
               down): under steady load (mall-load --steady: 6 connections opening one per
               request, 2 keep-alive ones) scripts/blue-green deploys product v2, rolls it
               back, refuses a never-ready version, deploys auth-proxy, refuses a concurrent
               deploy (the lock), deploys cart, ships user. Passes with 0 failed requests
               out of at least MALL_BG_TEST_MIN_REQUESTS [5000] (every reset, close and
               timeout counted as failed, on both kinds of connection), the right
               X-Served-By before and after each step and the audit log's record.
  compose-e2e  the mall in containers (scripts/dev up --runtime compose, a private
               compose project on a free port; images built here, nothing pulled): the
               whole e2e suite through its nginx, scripts/trace from docker compose logs,
               the crash test (kill -9 of order-blue mid-checkout, restarted by its
               policy), a container recreated at a new address reached without a reload,
               the database container stopped (503 service_unavailable with Retry-After)
               and started (recovery by itself); always removed with its volumes. Needs
               a Docker engine.
  bg-compose   the bluegreen test on real containers (scripts/blue-green --runtime
               compose, images v2/v3/never-ready tagged or built here; same steps, load
               and verdict), then an edge deploy (scripts/blue-green edge v2, a marked
               storefront page) under load with 0 failed requests.

Environment (scripts/test exports it before these stages): CARGO_TARGET_DIR (the build the
stacks run: its MALL_PROFILE [debug] binaries, mall-load beside this binary),
MALL_PROFILE, MALL_MYSQL_HOST/PORT/ROOT_USER/ROOT_PASSWORD and MALL_REDIS_URL (the servers
scripts/dev's stack uses; its databases and keys are dropped afterwards),
MALL_TEST_MYSQL_URL, MALL_ADMIN_EMAIL [admin@mall.local], MALL_BG_TEST_MIN_REQUESTS
[5000]; compose stages: MALL_IMAGE_TAG [dev], MALL_E2E_LOGIN_RATE [100r/s] and a Docker
engine with a compose tool. MALL_ROOT: the repository [the current directory].

Exit status: 0 passed, 1 failed (the warnings above the verdict say what), 64 usage,
130 interrupted (cleaned up first).";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StageName {
    /// The blue/green compose plan, printed with --dry-run (no Docker needed).
    BgDryRun,
    /// Zero downtime under load on a private local stack.
    Bluegreen,
    /// The e2e suite, trace, crash and faults on the mall in containers.
    ComposeE2e,
    /// Zero downtime under load on containers, then an edge deploy.
    BgCompose,
}

pub fn run(name: StageName) -> Result<(), Error> {
    crate::signal::watch();
    let mut ctx = host::Ctx::new(crate::commands::root());
    ctx.set("MALL_ROOT", ctx.root.display().to_string());
    // scripts/blue-green runs this very binary (no second build).
    if let Ok(exe) = std::env::current_exe() {
        ctx.set("MALL_BIN", exe.display().to_string());
    }
    let (what, result) = match name {
        StageName::BgDryRun => ("bg-dry-run", dry_run::run(&ctx)),
        StageName::Bluegreen => ("bluegreen", bluegreen::local::run(&ctx)),
        StageName::ComposeE2e => ("compose-e2e", compose_e2e::run(&ctx)),
        StageName::BgCompose => ("bg-compose", bg_compose::run(&ctx)),
    };
    match &result {
        Ok(()) => crate::say::log(&format!("stage {what}: passed")),
        Err(e) => crate::say::error(&format!("stage {what}: FAILED: {e:#}")),
    }
    result
}

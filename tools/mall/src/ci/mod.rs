//! `mall ci`: what CI runs (`.ci/run` → scripts/test → here), as one table of steps
//! (`table`), picked by the options (`plan`), run in order with a summary at the end
//! (`report`). Exit status: 0 passed, 1 a step failed, 64 usage, 130 interrupted.

pub mod args;
mod checks;
pub mod ctx;
pub mod host;
mod kubernetes;
mod load;
pub mod migrations;
mod on_stack;
pub mod plan;
pub mod report;
mod setup;
mod stack;
pub mod stage;
pub mod table;
mod trace;

use std::time::Instant;

use self::ctx::{run, Ctx};
use self::plan::{Action, Facts};
use self::report::Report;
use self::table::{Phase, Run, Step};
use crate::{say, signal};

/// Runs one step between its progress lines and records it; true when it passed.
pub fn run_step(report: &mut Report, name: &str, f: impl FnOnce() -> anyhow::Result<()>) -> bool {
    report.begin(name);
    let began = Instant::now();
    let mut result = f();
    if result.is_ok() && signal::interrupted() {
        result = Err(anyhow::anyhow!("interrupted"));
    }
    report.end(name, began, result.as_ref().err());
    result.is_ok()
}

fn run_row(ctx: &mut Ctx, report: &mut Report, step: &Step) -> bool {
    match step.run {
        Run::Cargo(args) => run_step(report, step.name, || run(ctx.cargo(args))),
        Run::Rust(f) => run_step(report, step.name, || f(ctx)),
        Run::Stage => run_step(report, step.name, || {
            run(stage::stage_command(ctx, step.name))
        }),
        Run::E2e | Run::OnStack(_) => true,
    }
}

/// `mall ci <args>`: the exit code.
pub fn main(argv: &[String]) -> u8 {
    let args = match args::parse(argv) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}\n");
            eprint!("{}", args::USAGE);
            return crate::EXIT_USAGE;
        }
    };
    if args.help {
        print!("{}", args::USAGE);
        return crate::EXIT_OK;
    }
    if args.list {
        print!("{}", table::listing());
        return crate::EXIT_OK;
    }
    signal::watch();
    let mut ctx = Ctx::new(crate::commands::root(), args.keep_stack);
    say::log(&format!(
        "CARGO_TARGET_DIR={}",
        ctx.get("CARGO_TARGET_DIR")
            .unwrap_or_else(|| "<repo>/target".into())
    ));
    let facts = Facts {
        skip_compose: ctx.get("MALL_SKIP_COMPOSE").is_some(),
        compose_file: ctx.root.join("compose/docker-compose.yml").is_file(),
    };
    let planned = plan::plan(&args, facts);
    let on_stack: Vec<&Step> = planned
        .iter()
        .filter(|(s, a)| matches!(s.run, Run::OnStack(_)) && *a == Action::Run)
        .map(|(s, _)| *s)
        .collect();
    let mut report = Report::new();
    let mut stop: Option<&str> = None;
    for (step, action) in &planned {
        if signal::interrupted() {
            break;
        }
        if let Some(why) = stop {
            if !matches!(step.run, Run::OnStack(_)) {
                report.skip(step.name, why);
            }
            continue;
        }
        match (action, step.run) {
            (Action::Skip(why), _) => report.skip(step.name, why),
            (Action::Run, Run::E2e) => stack::e2e_step(&mut ctx, &mut report, &on_stack),
            (Action::Run, _) => {
                if !run_row(&mut ctx, &mut report, step) {
                    match step.phase {
                        Phase::Setup => break,
                        Phase::Build => stop = Some("the build failed"),
                        _ => {}
                    }
                }
            }
        }
    }
    eprint!("{}", report.summary());
    if signal::interrupted() {
        say::warn("interrupted");
        crate::EXIT_INTERRUPTED
    } else if report.failed() {
        crate::EXIT_FAILED
    } else {
        crate::EXIT_OK
    }
}

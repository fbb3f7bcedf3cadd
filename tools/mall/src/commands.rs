//! The commands: each observes what runs, asks `plan` what to do and has `exec` do it, under
//! the per-host lock (none in a dry run).

use std::path::PathBuf;

use crate::bookkeeping::{lock::Lock, state};
use crate::cli::{Cli, Command, DeployRuntime, Opts};
use crate::exec::Flow;
use crate::parts::{check_version, Part};
use crate::plan::{self, Decision, Observed, Options, Record};
use crate::runtime::{compose::Compose, kubernetes::Kubernetes, local::Local, Runtime};
use crate::shell::Runner;
use crate::{say, signal, Error};

pub fn dispatch(cli: Cli) -> Result<(), Error> {
    let Cli { opts, command } = cli;
    match command {
        Command::Status { part } => crate::status::run(&opts, part.as_deref()),
        Command::DeployPlan(args) => crate::deploy_plan::run(&args, &root()),
        Command::Deploy { part, version } => {
            signal::watch();
            deploy(&opts, &part, &version)
        }
        Command::Rollback { part } => {
            signal::watch();
            rollback(&opts, &part)
        }
        Command::Ship { version, parts } => {
            signal::watch();
            ship(&opts, &version, &parts)
        }
        Command::Bench(args) => crate::bench::run(args),
        Command::Stage { name } => crate::stages::run(name),
        Command::Ci { args } => match crate::ci::main(&args) {
            0 => Ok(()),
            code => Err(Error::Failed(format!("mall ci exited {code}"))),
        },
        // main.rs runs `mall trace` before parsing; this is the same call for a parsed line.
        Command::Trace { args } => {
            let env = mall_trace::Env::from_process();
            let argv = std::iter::once("mall trace".to_owned()).chain(args);
            match mall_trace::main(argv, &env) {
                0 => Ok(()),
                code => Err(Error::Failed(format!("mall trace exited {code}"))),
            }
        }
        Command::Stack { args } => match crate::stack::main(&args) {
            0 => Ok(()),
            code => std::process::exit(code.into()),
        },
        Command::Edge { version } => {
            signal::watch();
            crate::runtime::compose::edge::run(&opts, &version)
        }
    }
}

/// The repository: MALL_ROOT (scripts/blue-green sets it), else the current directory.
pub fn root() -> PathBuf {
    std::env::var_os("MALL_ROOT")
        .filter(|r| !r.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn runtime(opts: &Opts) -> Result<Box<dyn Runtime>, Error> {
    let env = |k: &str| std::env::var(k).ok();
    let runner = Runner {
        dry_run: opts.dry_run,
    };
    Ok(match opts.runtime {
        DeployRuntime::Local => Box::new(Local::from_env(&root(), &env, runner)?),
        DeployRuntime::Compose => Box::new(Compose::from_env(&root(), &env, runner)?),
        DeployRuntime::Kubernetes => Box::new(Kubernetes::from_env(&root(), &env, runner)?),
    })
}

fn options(opts: &Opts) -> Options {
    Options {
        ready_passes: opts.ready_passes,
        ready_timeout_s: opts.ready_timeout_s(),
        confirm_passes: opts.confirm_passes,
        confirm_timeout_s: opts.confirm_timeout,
        pre_deploy: Opts::hook(&opts.pre_deploy),
        smoke: Opts::hook(&opts.smoke),
    }
}

/// The lock (none in a dry run, which says what it is), then a check that the stack runs.
pub fn begin(rt: &dyn Runtime, opts: &Opts, what: &str) -> Result<Option<Lock>, Error> {
    let lock = if opts.dry_run {
        println!(
            "dry run ({} runtime): {what}; nothing is changed",
            rt.name()
        );
        None
    } else {
        Some(Lock::take(rt.state_dir(), what, opts.lock_wait)?)
    };
    rt.check_stack()?;
    Ok(lock)
}

/// What runs, with the record made to agree with it (and saved) and what the live slot
/// executes kept for a rollback to it.
fn observe(flow: &Flow<'_>) -> Result<(Record, Observed), Error> {
    let (rt, part, dry) = (flow.rt, &flow.part, flow.opts.dry_run);
    let record = state::load(rt.state_dir(), part.name)?;
    let live = rt.live_slot(part, &record)?;
    let seen = rt.served_by_nginx(part);
    let reconciled = plan::reconcile(part.name, &record, live, seen.as_deref(), dry);
    reconciled.warnings.iter().for_each(|w| say::warn(w));
    let mut record = reconciled.record;
    if reconciled.live_version != "unknown" {
        if let Some(artifact) = rt.snapshot_live(part, live, &reconciled.live_version)? {
            record.set_slot(live, "artifact", artifact);
        }
    }
    if !dry {
        state::save(rt.state_dir(), part.name, &record)?;
    }
    let idle = live.other();
    let idle_running = (!dry && rt.slot_running(part, idle))
        .then(|| rt.served_by_slot(part, idle).unwrap_or_default());
    let observed = Observed {
        live,
        live_version: reconciled.live_version,
        idle_running,
    };
    Ok((record, observed))
}

/// A failure before there is a plan: one audit line at stage observe.
fn failed_early(flow: &Flow<'_>, err: Error) -> Error {
    flow.audit(
        ["", "", "", ""],
        "failed",
        Some(("observe", &format!("{err:#}"))),
    );
    err
}

pub fn deploy(opts: &Opts, part: &str, arg: &str) -> Result<(), Error> {
    let part = Part::parse(part)?;
    if !opts.env.is_empty() && opts.runtime != DeployRuntime::Local {
        return Err(Error::Usage("--env is for the local runtime; a compose slot's environment is compose/docker-compose.yml's, a Kubernetes slot's the chart's values".into()));
    }
    let rt = runtime(opts)?;
    let resolved = rt
        .resolve(&part, arg)
        .map_err(|e| Error::Usage(format!("{e:#}")))?;
    check_version(&resolved.version)?;
    let _lock = begin(
        rt.as_ref(),
        opts,
        &format!("deploy {} {}", part.name, resolved.version),
    )?;
    let flow = Flow::new(rt.as_ref(), opts, part, "deploy");
    let (record, seen) = observe(&flow).map_err(|e| failed_early(&flow, e))?;
    match plan::deploy(
        part.name,
        &seen,
        &resolved.version,
        &opts.env,
        &options(opts),
    ) {
        Decision::AlreadyLive => {
            say::log(&format!(
                "{} {} is already live in {}; nothing to do",
                part.name, resolved.version, seen.live
            ));
            let (from, to) = (seen.live.to_string(), seen.live.other().to_string());
            flow.audit(
                [&from, &seen.live_version, &to, &resolved.version],
                "noop",
                None,
            );
            Ok(())
        }
        Decision::Switch(plan) => flow.run(&plan, record, Some(&resolved)),
    }
}

pub fn rollback(opts: &Opts, part: &str) -> Result<(), Error> {
    let part = Part::parse(part)?;
    if !opts.env.is_empty() {
        return Err(Error::Usage(
            "rollback restores the recorded environment; --env is for deploy".into(),
        ));
    }
    let rt = runtime(opts)?;
    let _lock = begin(rt.as_ref(), opts, &format!("rollback {}", part.name))?;
    let flow = Flow::new(rt.as_ref(), opts, part, "rollback");
    let (record, seen) = observe(&flow).map_err(|e| failed_early(&flow, e))?;
    let file = state::file(rt.state_dir(), part.name);
    let plan = plan::rollback(part.name, &seen, &record, &options(opts)).map_err(|msg| {
        failed_early(&flow, Error::Failed(format!("{msg} in {}", file.display())))
    })?;
    let artifact = record.slot(plan.to, "artifact");
    rt.check_artifact(&part, &plan.to_version, artifact)
        .map_err(|e| failed_early(&flow, e.into()))?;
    say::log(&format!(
        "rolling {} back: {}@{} -> {}@{}",
        part.name, plan.from, plan.from_version, plan.to, plan.to_version
    ));
    flow.run(&plan, record, None)
}

/// `ship <version> <part>...`: one deploy per part, in order (each with its own lock and
/// audit lines), stopping at the first failure; then the status.
pub fn ship(opts: &Opts, version: &str, parts: &[String]) -> Result<(), Error> {
    for part in parts.iter().filter(|p| *p != "edge") {
        Part::parse(part)?;
    }
    check_version(version)?;
    let mut done: Vec<&str> = Vec::new();
    let mut failure = None;
    for part in parts {
        say::log(&format!(
            "ship {version}: {part} ({} of {})",
            done.len() + 1,
            parts.len()
        ));
        let result = if part == "edge" {
            crate::runtime::compose::edge::run(opts, version)
        } else {
            deploy(opts, part, version)
        };
        match result {
            Ok(()) => done.push(part),
            Err(err) => {
                failure = Some((part, err));
                break;
            }
        }
    }
    if let Err(err) = crate::status::run(opts, None) {
        say::warn(&format!("status: {err:#}"));
    }
    let Some((part, err)) = failure else {
        say::log(&format!("ship {version}: deployed {}", parts.join(" ")));
        return Ok(());
    };
    let before = if done.is_empty() {
        "none".to_owned()
    } else {
        done.join(" ")
    };
    say::error(&format!("{err:#}"));
    match err {
        Error::Interrupted => Err(Error::Interrupted),
        _ => Err(Error::Failed(format!(
            "ship {version} stopped at {part} (deployed before it: {before})"
        ))),
    }
}

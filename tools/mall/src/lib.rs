//! The mall's operator CLI: the stack (`stack up|down|status|logs|restart`, module `stack`,
//! with the host's prerequisites in `host`), which `scripts/dev` execs; blue/green deploys
//! (`deploy`, `ship`, `edge`, `rollback`, `status`; docs/deploy.md), which
//! `scripts/blue-green` execs; the benchmarks (`bench`; docs/performance.md), which
//! `scripts/bench` execs; the CI steps (`ci`, one table, and its `stage`s), which
//! `scripts/test` execs; `trace` and `deploy-plan`.
//!
//! The decisions are a pure plan (`plan`), run by `exec` through a `Runtime` (`runtime`:
//! local processes or docker compose) that only executes steps; the lock, the per-part
//! record and the audit log are `bookkeeping`.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod bench;
pub mod bookkeeping;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod deploy_plan;
pub mod exec;
pub mod host;
pub mod parts;
pub mod plan;
pub mod runtime;
pub mod say;
pub mod shell;
pub mod signal;
pub mod stack;
pub mod stages;
mod status;

/// Exit codes (documented in `--help`).
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 64;
pub const EXIT_INTERRUPTED: u8 = 130;

/// Why a command did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad arguments: nothing was done (exit 64).
    #[error("{0}")]
    Usage(String),
    /// Refused or failed; the message says why and what to do (exit 1).
    #[error("{0}")]
    Failed(String),
    /// SIGINT or SIGTERM; what was started was put back (exit 130).
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Runs a parsed command line; the exit code.
pub fn run(cli: cli::Cli) -> u8 {
    if let cli::Command::Ci { args } = &cli.command {
        return ci::main(args);
    }
    match commands::dispatch(cli) {
        Ok(()) => EXIT_OK,
        Err(Error::Usage(message)) => {
            eprintln!("blue-green: {message} (see scripts/blue-green --help)");
            EXIT_USAGE
        }
        Err(Error::Interrupted) => {
            say::error("interrupted");
            EXIT_INTERRUPTED
        }
        Err(err) => {
            say::error(&format!("{err:#}"));
            EXIT_FAILED
        }
    }
}

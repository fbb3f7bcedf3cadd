//! The stack (`mall stack up|down|status|logs|restart`, which scripts/dev execs): the whole
//! mall on this host, as processes on loopback (`local`) or as compose/docker-compose.yml's
//! containers (`compose`), both behind [`Stack`]. The parts, ports and databases come from
//! mall.toml (table.rs, generated); the host's prerequisites from `crate::host`.
//!
//! Pure parts (settings, plans, environments, nginx's files, status lines) are unit-tested
//! without a host; the runtimes only execute them.

pub mod cli;
pub mod compose;
mod compose_access;
pub mod config;
pub mod launch;
pub mod local;
pub mod nginx;
pub mod parts;
pub mod secrets;
pub mod table;
pub mod up;

use std::path::Path;

use crate::cli::RuntimeKind;
use crate::{say, Error};

/// What scripts/dev does, for one runtime.
pub trait Stack {
    /// Start everything (building first unless `build` is false; compose always builds
    /// its images) and wait until it is ready; print the URL and the admin login.
    fn up(&mut self, build: bool) -> Result<(), Error>;
    /// Stop what `up` (and blue/green since) started; compose: `volumes` removes the data.
    fn down(&mut self, volumes: bool) -> Result<(), Error>;
    /// Each part and whether it runs and is ready.
    fn status(&mut self) -> Result<(), Error>;
    /// Follow the logs of every part, or one.
    fn logs(&mut self, part: Option<&str>) -> Result<(), Error>;
    /// Start a service's blue slot again.
    fn restart(&mut self, service: &str) -> Result<(), Error>;
}

/// A regular file with an execute bit.
pub fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `mall stack <args>`: parses, runs, returns the exit code.
pub fn main(args: &[std::ffi::OsString]) -> u8 {
    let cli = cli::parse_or_exit(args);
    match run(cli) {
        Ok(()) => crate::EXIT_OK,
        Err(Error::Usage(message)) => {
            eprintln!("dev: {message} (see scripts/dev --help)");
            crate::EXIT_USAGE
        }
        Err(Error::Interrupted) => {
            say::error("interrupted");
            crate::EXIT_INTERRUPTED
        }
        Err(err) => {
            say::error(&format!("{err:#}"));
            crate::EXIT_FAILED
        }
    }
}

fn run(cli: cli::StackCli) -> Result<(), Error> {
    let cfg = config::StackConfig::from_process()?;
    let mut stack: Box<dyn Stack> = match cli.runtime {
        RuntimeKind::Local => Box::new(local::LocalStack { cfg }),
        RuntimeKind::Compose => Box::new(compose::ComposeStack::new(cfg)),
    };
    match cli.command {
        cli::StackCommand::Up { no_build } => stack.up(!no_build),
        cli::StackCommand::Down { volumes } => stack.down(volumes),
        cli::StackCommand::Status => stack.status(),
        cli::StackCommand::Logs { part } => stack.logs(part.as_deref()),
        cli::StackCommand::Restart { service } => stack.restart(&service),
    }
}

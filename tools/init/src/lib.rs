//! The compose stack's one-shot init (service `init` in compose/docker-compose.yml, run in
//! its own image `mall/mall-init`): `secrets` writes every secret of the mall into one
//! volume per consumer (docs/deploy.md "Secrets").
//!
//! What to write and what to say are pure (`secrets::plan`); `secrets::files` does the
//! writing, ownership and modes.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub mod secrets;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 64;

const AFTER_HELP: &str = "\
Exit status: 0 done, 1 failed (the message says what), 64 usage, or a value of
compose/.env that is still .env.example's placeholder (change-me...).";

/// The compose stack's one-shot init.
#[derive(Debug, Parser)]
#[command(name = "mall-init", after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every secret the mall needs, in one directory (a volume) per consumer.
    ///
    /// <dir>/mysql/: root-password and <svc>-db-password for each service (the database's
    /// init creates the users with them); <dir>/<svc>/: db-password (user, product, cart,
    /// order, payment); <dir>/user/: also admin-password and jwt/ (the signing keys);
    /// <dir>/grafana/: admin-password (Grafana runs as uid 472).
    ///
    /// A value given in the environment (compose/.env: MYSQL_ROOT_PASSWORD,
    /// <SVC>_DB_PASSWORD, BOOTSTRAP_ADMIN_PASSWORD, GRAFANA_ADMIN_PASSWORD) is written as
    /// given; a missing one is generated once (32 hex characters) and kept. Secrets are
    /// never printed, except the admin login when it is generated. With
    /// MALL_ENV=production a generated secret or the card gateway simulator (GATEWAY_URL
    /// unset) is announced as a warning on every start. Files end up owned by their
    /// consumer (uid 10001 for the mall's services), mode 0600; mysql/'s are 0444.
    Secrets {
        /// Where the volumes are mounted.
        #[arg(long, value_name = "DIR", default_value = "/secrets")]
        dir: PathBuf,
        /// Leave owners as they are (a run as a user that cannot chown, e.g. a test).
        #[arg(long, hide = true)]
        keep_owners: bool,
    },
}

impl Cli {
    /// Parses the command line: help exits 0, a usage error exits 64 with one line.
    pub fn parse_or_exit() -> Self {
        use clap::error::ErrorKind;
        match Self::try_parse() {
            Ok(cli) => cli,
            Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
                let _ = e.print();
                std::process::exit(EXIT_OK.into())
            }
            Err(e) => {
                let _ = e.print();
                std::process::exit(EXIT_USAGE.into())
            }
        }
    }
}

/// Runs a parsed command line; the exit code.
pub fn run(cli: &Cli) -> u8 {
    match &cli.command {
        Command::Secrets { dir, keep_owners } => {
            let env = |k: &str| std::env::var(k).ok();
            secrets::run(dir, &env, !keep_owners)
        }
    }
}

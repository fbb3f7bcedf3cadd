//! `mall stack <command>` (scripts/dev): its command line, with scripts/dev's commands,
//! options and variables.

use clap::{Parser, Subcommand};

use crate::cli::RuntimeKind;

const ABOUT: &str = "\
Runs the mall on this host. The local runtime (default) runs processes (blue slots) with
the distribution's nginx, MySQL/MariaDB and Redis (installed and started when missing);
everything binds 127.0.0.1. The compose runtime runs compose/docker-compose.yml on this
Docker host, with every image built here: the mall's from the working tree (the host's
cargo build, compose/Dockerfile's runtime stage), nginx, MariaDB and Redis stand-ins from
Debian's packages (compose/standins/); nothing is pulled.";

const AFTER_HELP: &str = "\
With --runtime compose: up builds the images and waits until every container is healthy;
down stops and removes the containers (--volumes: and the data and secret volumes); status
is compose ps; logs follows compose logs. Its variables: MALL_HTTP_PORT [8080] (nginx's
published port), MALL_COMPOSE_ENV_FILE [compose/.env] (the images chosen and the port
are written there; settings of its own are kept), COMPOSE_PROJECT_NAME [compose],
MALL_IMAGE_TAG [dev], MALL_READY_TIMEOUT [180], MALL_DEBIAN_MIRROR [deb.debian.org].

Environment (defaults in brackets):
  MALL_VAR            state directory, relative to the repo root [var]
  MALL_HTTP_PORT      nginx's port [8080]
  MALL_INTERNAL_PORT  nginx's internal listener for service-to-service calls [MALL_HTTP_PORT+1]
  MALL_PORT_BASE      first internal port; blue = base+offset, green = +100 [8100]
  MALL_PROFILE        cargo profile of the binaries: debug | release [debug]
  MALL_SERVICES       services to start if built [user product cart order payment gateway-sim]
  MALL_DB_PREFIX      prefix of database and database-user names [empty]
  REDIS_PREFIX        prefix of every Redis key [mall:]
  MALL_LOGIN_RATE     nginx's per-address login rate [10r/s]
  MALL_LOGIN_BURST    burst allowed above that rate [20]
  MALL_TRUSTED_PROXY_CIDR  connections from here may name the client in X-Forwarded-For
                      (a load balancer's subnet) [unix: = none]
  MALL_MYSQL_HOST, MALL_MYSQL_PORT [127.0.0.1, 3306]
  MALL_MYSQL_ROOT_USER, MALL_MYSQL_ROOT_PASSWORD   administrative account [root, none;
                      else mall_admin with the password in ~/.config/mall/mysql-admin]
  MALL_REDIS_URL      [redis://127.0.0.1:6379/0]
  MALL_ADMIN_EMAIL    the bootstrapped admin account [admin@mall.local]
  MALL_NGINX_USER     user (and group) of nginx's workers [the invoking user]
  MALL_WORKER_THREADS tokio worker threads of each part (TOKIO_WORKER_THREADS) [1]
  MALL_READY_TIMEOUT  seconds to wait for every part to be ready [90]
  MALL_STOP_TIMEOUT   seconds `down` waits after SIGTERM before SIGKILL [20]
  CARGO_TARGET_DIR    where the binaries are [$HOME/.cache/mall-target]
Other variables the services read (RUST_LOG, LOGIN_MAX_FAILURES, ...) are inherited.

Exit status: 0 done, 1 failed (the message says why and what to do; a failed up stops what
it started), 64 usage, 130 interrupted (a half-started up is stopped first).";

/// Runs the mall on this host (scripts/dev).
#[derive(Debug, Parser)]
#[command(name = "mall stack", bin_name = "scripts/dev", about = ABOUT, after_help = AFTER_HELP)]
pub struct StackCli {
    /// Where the stack runs.
    #[arg(long, global = true, value_enum, default_value = "local")]
    pub runtime: RuntimeKind,
    #[command(subcommand)]
    pub command: StackCommand,
}

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Build the workspace, create the databases, start every part, wait until each is
    /// ready, print the URL and the admin login.
    Up {
        /// Use the binaries already built.
        #[arg(long)]
        no_build: bool,
    },
    /// Stop exactly the processes recorded in $MALL_VAR/run (what `up` started, and the
    /// slots scripts/blue-green started since).
    Down {
        /// compose: remove the data and secret volumes too.
        #[arg(long)]
        volumes: bool,
    },
    /// Each part: pid, port, ready or not.
    Status,
    /// Follow the logs (all, or one part: nginx, auth-proxy, user, ...).
    Logs { part: Option<String> },
    /// Start a service's blue slot again (stopping it first if it runs).
    Restart { service: String },
}

/// Parses `mall stack`'s arguments: help prints and exits 0; a usage error prints one
/// line (no command: the help) on stderr and exits 64.
pub fn parse_or_exit(args: &[std::ffi::OsString]) -> StackCli {
    use clap::error::ErrorKind;
    let argv = std::iter::once(std::ffi::OsString::from("mall stack")).chain(args.iter().cloned());
    match StackCli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            std::process::exit(0)
        }
        Err(e)
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                || e.kind() == ErrorKind::MissingSubcommand =>
        {
            eprintln!("{}", e.render());
            std::process::exit(crate::EXIT_USAGE.into())
        }
        Err(e) => {
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            eprintln!("dev: {first} (see scripts/dev --help)");
            std::process::exit(crate::EXIT_USAGE.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<StackCli, clap::Error> {
        StackCli::try_parse_from(std::iter::once("mall stack").chain(args.iter().copied()))
    }

    #[test]
    fn the_runtime_goes_anywhere_and_options_are_scripts_devs() {
        let cli = parse(&["up", "--runtime", "compose", "--no-build"]).unwrap();
        assert_eq!(cli.runtime, RuntimeKind::Compose);
        assert!(matches!(cli.command, StackCommand::Up { no_build: true }));
        let cli = parse(&["--runtime=compose", "down", "--volumes"]).unwrap();
        assert!(matches!(cli.command, StackCommand::Down { volumes: true }));
        assert!(matches!(
            parse(&["logs"]).unwrap().command,
            StackCommand::Logs { part: None }
        ));
        assert!(parse(&["restart"]).is_err());
        assert!(parse(&["up", "--runtime", "k8s"]).is_err());
        assert!(parse(&[]).is_err());
    }
}

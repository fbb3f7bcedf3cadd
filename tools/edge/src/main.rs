//! `mall-edge`: the edge image's entry point (compose/edge/Dockerfile).
//!
//!   start     seed the upstream volume, install this image's release, run nginx on it
//!   install   validate this image's release and make it the live one (`scripts/blue-green
//!             edge` runs it in a one-off container of the new image, then reloads nginx)
//!   <other>   run that command instead (e.g. `nginx -t`)
//!
//! A release is /etc/nginx/live/releases/<MALL_EDGE_VERSION>/: nginx.conf rendered from the
//! template with the MALL_* variables of the container's environment, the snippets, the
//! storefront (web/) and a link to the upstream volume. It is checked with `nginx -t` before
//! /etc/nginx/live/current is pointed at it (a symlink replaced by a rename: atomic). nginx
//! runs with -c /etc/nginx/live/current/nginx.conf, so a reload reads the new release whole,
//! and the storefront is served from current/web.
//!
//! Exit status: 0 installed, 1 refused by `nginx -t` (the live release is unchanged) or an
//! I/O failure, 64 a MALL_EDGE_VERSION that is not a plain label.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

mod install;

const HELP: &str = "\
Usage: mall-edge [start | install | <command> [args...]]

  start     seed the upstream volume, install this image's release, run nginx on it
            (the default)
  install   validate this image's release (nginx -t) and make it the live one
  <command> run it instead (e.g. nginx -t)

Environment: MALL_EDGE_VERSION [dev] (the release's name), the MALL_NGINX_* variables the
template uses (compose/docker-compose.yml, service nginx).
Exit status: 0 done, 1 refused by nginx -t (the live release is unchanged) or failed,
64 MALL_EDGE_VERSION is not a plain version label.";

pub fn say(message: &str) {
    eprintln!("mall-edge: {message}");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let result = match args.first().map(String::as_str) {
        None | Some("start") => install::start(&env),
        Some("install") => install::install(&env),
        Some("-h" | "--help" | "help") => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Some(program) => {
            let err = Command::new(program).args(&args[1..]).exec();
            say(&format!("cannot run {program}: {err}"));
            return ExitCode::from(127);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(install::Failure { message, code }) => {
            say(&message);
            ExitCode::from(code)
        }
    }
}

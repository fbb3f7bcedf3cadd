//! `mall`: the operator CLI (tools/mall). `scripts/blue-green` execs it.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = mall::cli::parse_or_exit();
    ExitCode::from(mall::run(cli))
}

//! `mall`: the operator CLI (tools/mall). `scripts/blue-green` execs it.

use std::process::ExitCode;

fn main() -> ExitCode {
    // `mall stack …` (scripts/dev) has its own command line and help.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "stack") {
        return ExitCode::from(mall::stack::main(&args[2..]));
    }
    let cli = mall::cli::parse_or_exit();
    ExitCode::from(mall::run(cli))
}

//! `mall`: the operator CLI (tools/mall). `scripts/blue-green` and `scripts/bench` exec it.

use std::process::ExitCode;

fn main() -> ExitCode {
    // `mall bench` has scripts/bench's own command line (no blue/green options).
    if let Some(code) = mall::bench::main_if_bench() {
        return ExitCode::from(code);
    }
    let cli = mall::cli::parse_or_exit();
    ExitCode::from(mall::run(cli))
}

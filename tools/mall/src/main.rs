//! `mall`: the operator CLI (tools/mall). `scripts/dev`, `scripts/blue-green`,
//! `scripts/bench`, `scripts/test`, `scripts/trace` and `scripts/deploy-plan` exec it.

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `mall bench` has scripts/bench's own command line (no blue/green options).
    if let Some(code) = mall::bench::main_if_bench() {
        return ExitCode::from(code);
    }
    let argv: Vec<OsString> = std::env::args_os().collect();
    let rest = || argv.iter().skip(2).cloned();
    match argv.get(1).and_then(|a| a.to_str()) {
        // `mall ci` has scripts/test's own options and exit codes (64 usage, 130 interrupted).
        Some("ci") => {
            let args: Vec<String> = rest().map(|a| a.to_string_lossy().into_owned()).collect();
            ExitCode::from(mall::ci::main(&args))
        }
        // `mall trace` is mall-trace (tools/trace), with its own options and exit codes.
        Some("trace") => {
            let env = mall_trace::Env::from_process();
            let code = mall_trace::main(std::iter::once("mall trace".into()).chain(rest()), &env);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        // `mall stack …` (scripts/dev) has its own command line and help.
        Some("stack") => ExitCode::from(mall::stack::main(&argv[2..])),
        _ => ExitCode::from(mall::run(mall::cli::parse_or_exit())),
    }
}

//! `mall`: the operator CLI (tools/mall). `scripts/blue-green`, `scripts/bench`, `scripts/test`
//! (and, once merged, `scripts/dev`) exec it.

use std::process::ExitCode;

fn main() -> ExitCode {
    // `mall bench` has scripts/bench's own command line (no blue/green options).
    if let Some(code) = mall::bench::main_if_bench() {
        return ExitCode::from(code);
    }
    // `mall ci` has scripts/test's own options and exit codes (64 usage, 130 interrupted).
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("ci") {
        return ExitCode::from(mall::ci::main(&argv[2..]));
    }
    // `mall trace` is mall-trace (tools/trace), with its own options and exit codes.
    if argv.get(1).map(String::as_str) == Some("trace") {
        let env = mall_trace::Env::from_process();
        let args = std::env::args_os().skip(2);
        let code = mall_trace::main(std::iter::once("mall trace".into()).chain(args), &env);
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let cli = mall::cli::parse_or_exit();
    ExitCode::from(mall::run(cli))
}

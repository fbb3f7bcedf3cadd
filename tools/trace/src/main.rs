//! `mall-trace <trace-id> [--dir DIR | --local | --compose] …`: see the crate docs and
//! `mall-trace --help` (scripts/trace runs it with the same arguments).

fn main() {
    let env = mall_trace::Env::from_process();
    std::process::exit(mall_trace::main(std::env::args_os(), &env));
}

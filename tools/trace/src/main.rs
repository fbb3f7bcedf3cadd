//! `mall-trace <trace-id> [files…]`: see the crate docs and `scripts/trace --help`.

use clap::Parser;

fn main() {
    let args = mall_trace::Args::parse();
    std::process::exit(mall_trace::run(args));
}

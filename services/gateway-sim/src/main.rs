//! `gateway-sim`: parses config, then runs the simulator (see the crate docs).

use gateway_sim::config::Cli;
use mall_runtime::config::{exit_bad_config, parse_or_exit};

#[tokio::main]
async fn main() {
    let cli: Cli = parse_or_exit();
    let config = cli.into_config().unwrap_or_else(|e| exit_bad_config(&e));
    let (info, listen) = (config.info.clone(), config.listen);
    mall_runtime::launch(&info, listen, |l, s| gateway_sim::run(config, l, s)).await;
}

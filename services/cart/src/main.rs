//! `cart-service`: parses config, then runs the service (see the crate docs).

use cart_service::config::Cli;
use mall_runtime::config::{exit_bad_config, parse_or_exit};

#[tokio::main]
async fn main() {
    let cli: Cli = parse_or_exit();
    let config = cli.into_config().unwrap_or_else(|e| exit_bad_config(&e));
    let (info, listen) = (config.base.info.clone(), config.base.listen);
    mall_runtime::launch(&info, listen, |l, s| cart_service::run(config, l, s)).await;
}

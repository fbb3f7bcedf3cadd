//! `payment-service`: parses config, then runs the service (see the crate docs).

use mall_runtime::config::{exit_bad_config, parse_or_exit};
use payment_service::config::Cli;

#[tokio::main]
async fn main() {
    let cli: Cli = parse_or_exit();
    let config = cli.into_config().unwrap_or_else(|e| exit_bad_config(&e));
    let (info, listen) = (config.base.info.clone(), config.base.listen);
    mall_runtime::launch(&info, listen, |l, s| payment_service::run(config, l, s)).await;
}

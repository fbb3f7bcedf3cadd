//! `product-service`: parses config, initialises telemetry, runs the catalog.

use mall_common::config::{exit_bad_config, parse_or_exit};
use product_service::config::Cli;

#[tokio::main]
async fn main() {
    let cli: Cli = parse_or_exit();
    let config = cli.into_config().unwrap_or_else(|e| exit_bad_config(&e));
    if let Err(e) = mall_common::telemetry::init(&config.info.identity()) {
        eprintln!("{e:#}");
        std::process::exit(1);
    }
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => exit_bad_config(&format!("cannot listen on {}: {e}", config.listen)),
    };
    if let Err(e) =
        product_service::run(config, listener, mall_common::server::shutdown_signal()).await
    {
        tracing::error!(error = format!("{e:#}"), "product service stopped");
        std::process::exit(1);
    }
}

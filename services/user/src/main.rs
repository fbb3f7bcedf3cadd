//! `user-service`: parses config, initialises telemetry, runs the service (or a one-off
//! command such as `keygen`).

use mall_common::config::{exit_bad_config, parse_or_exit};
use user_service::config::{Cli, Command};

#[tokio::main]
async fn main() {
    let cli: Cli = parse_or_exit();
    if let Some(Command::Keygen) = cli.command {
        match user_service::keys::generate_into(&cli.keys_dir) {
            Ok(kid) => println!("created signing key {kid} in {}", cli.keys_dir.display()),
            Err(e) => {
                eprintln!("keygen failed: {e:#}");
                std::process::exit(1);
            }
        }
        return;
    }
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
        user_service::run(config, listener, mall_common::server::shutdown_signal()).await
    {
        tracing::error!(error = format!("{e:#}"), "user service stopped");
        std::process::exit(1);
    }
}

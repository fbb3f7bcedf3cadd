//! The auth-proxy binary: config from flags and environment, JSON logs, then [`run`]
//! until SIGTERM or SIGINT. Bad configuration exits 64 with one line on stderr.

use auth_proxy::{run, Args, ConfigError};
use mall_common::config::{exit_bad_config, parse_or_exit};
use mall_common::telemetry;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Args = parse_or_exit();
    let config = match args.into_config() {
        Ok(c) => c,
        Err(e) => exit_bad_config(&e),
    };
    if let Err(e) = telemetry::init(&config.info.identity()) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, addr = %config.listen, "cannot listen");
            telemetry::shutdown();
            std::process::exit(1);
        }
    };
    if let Err(e) = run(config, listener, shutdown_signal()).await {
        if let Some(bad) = e.downcast_ref::<ConfigError>() {
            exit_bad_config(&bad.0);
        }
        tracing::error!(error = %format!("{e:#}"), "auth-proxy failed");
        telemetry::shutdown();
        std::process::exit(1);
    }
    telemetry::shutdown();
}

/// Resolves on the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received"),
                _ = int.recv() => tracing::info!("SIGINT received"),
            }
        }
        _ => {
            // Without signal handlers the process can still be stopped; serve forever.
            tracing::warn!("could not install SIGTERM/SIGINT handlers");
            std::future::pending::<()>().await
        }
    }
}

//! `user-service`: parses config, then runs the service or a one-off command (`keygen`).

use mall_runtime::config::{exit_bad_config, parse_or_exit};
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
    let (info, listen) = (config.base.info.clone(), config.base.listen);
    mall_runtime::launch(&info, listen, |l, s| user_service::run(config, l, s)).await;
}

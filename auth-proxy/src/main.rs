//! The auth-proxy binary: config from flags and environment, then [`run`] on the runtime's
//! `launch` (JSON logs, bind, until SIGTERM or SIGINT). Bad configuration, a policy or key
//! file that does not load, or an address that cannot be bound exits 64 with one line on
//! stderr, as every service does.

use auth_proxy::{run, Args};
use mall_runtime::config::{exit_bad_config, parse_or_exit};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Args = parse_or_exit();
    let config = args.into_config().unwrap_or_else(|e| exit_bad_config(&e));
    let (info, listen) = (config.info.clone(), config.listen);
    mall_runtime::launch(&info, listen, |l, s| run(config, l, s)).await;
}

//! `mall-init`: the compose stack's one-shot init (compose/docker-compose.yml, service
//! `init`). Exit status: 0 done, 1 failed, 64 usage or a placeholder value.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = mall_init::Cli::parse_or_exit();
    ExitCode::from(mall_init::run(&cli))
}

//! Docker and its compose tool: which compose command this host has (v2 plugin or v1
//! binary), and a check that the engine answers, installing what a build needs.

use anyhow::bail;

use super::packages::ensure_packages;
use crate::shell::{self, argv, Argv};

/// The compose command available here: `docker compose` (v2) when the plugin answers, else
/// `docker-compose` (v1) when installed; None without either.
pub fn compose_cmd() -> Option<Argv> {
    if shell::have("docker") && shell::read(&argv(&["docker", "compose", "version"])).is_some() {
        Some(argv(&["docker", "compose"]))
    } else if shell::have("docker-compose") {
        Some(argv(&["docker-compose"]))
    } else {
        None
    }
}

/// The engine answers and a compose tool is installed (installed when missing), with what
/// the image builds need (mmdebstrap, strip).
pub fn ensure_docker() -> anyhow::Result<()> {
    if !shell::have("docker") {
        bail!("docker is not installed; on Debian: apt-get install -y docker.io docker-compose");
    }
    if shell::read(&argv(&["docker", "info"])).is_none() {
        bail!(
            "the Docker engine does not answer (is dockerd running? are you in the docker group?)"
        );
    }
    if compose_cmd().is_none() {
        ensure_packages(&["docker-compose:docker-compose"])?;
    }
    ensure_packages(&["mmdebstrap:mmdebstrap", "strip:binutils"])
}

/// The containers of a project that are not (yet) running and healthy (or, for the
/// one-shot init, exited 0), from `docker inspect` lines `name status health exitcode`.
pub fn unhealthy(inspect: &str) -> Vec<String> {
    inspect
        .lines()
        .filter_map(|line| {
            let w: Vec<&str> = line.split_whitespace().collect();
            let [name, status, health, code] = w[..] else {
                return None;
            };
            let ok = (status == "running" && (health == "healthy" || health == "none"))
                || (name.contains("init") && status == "exited" && code == "0");
            (!ok).then(|| format!("{name} {status}/{health}"))
        })
        .collect()
}

/// `docker inspect`'s format for [`unhealthy`].
pub const HEALTH_FORMAT: &str = "{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.ExitCode}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_healthy_containers_and_a_finished_init_pass() {
        let lines = "/p-nginx-1 running healthy 0\n/p-init-1 exited 0 0\n/p-user-blue-1 running starting 0\n/p-redis-1 running none 0\n/p-init-2 exited none 1\n";
        let lines = lines.replace("exited 0 0", "exited none 0");
        assert_eq!(
            unhealthy(&lines),
            ["/p-user-blue-1 running/starting", "/p-init-2 exited/none"]
        );
    }
}

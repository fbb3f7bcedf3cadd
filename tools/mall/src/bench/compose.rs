//! `mall bench mix --runtime compose`: the same shopper mix against a private compose
//! project started with `scripts/dev up --runtime compose` from the release build (images
//! built on this host); the CPU and RSS of every container's processes by their host pids.
//! The catalog and MariaDB counters of the local run are not taken (the containers'
//! metrics and database are not reachable from the host).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Result};

use super::host;
use super::Bench;
use crate::say;

/// The containers measured: the edge, the live slots, the gateway, the database, Redis.
const SERVICES: &str =
    "nginx auth-proxy-blue user-blue product-blue cart-blue order-blue payment-blue gateway-sim mysql redis";

impl Bench {
    /// The private project, shoppers' sign-in limits raised; its admin password's file.
    pub fn compose_up(&mut self) -> Result<PathBuf> {
        self.load_start = host::loadavg();
        let state = host::temp_dir("mall-bench-compose")?;
        self.tmp = state.join("bench");
        std::fs::create_dir_all(&self.tmp)?;
        self.var = state.join("var");
        self.state = Some(state.clone());
        let base = host::free_port_base(&self.root, &self.env)?;
        self.http_port = base + 50;
        self.url = format!("http://127.0.0.1:{}", self.http_port);
        let project = format!("mall-bench-{}", host::random_hex(3));
        let e = &mut self.env;
        e.set("MALL_VAR", self.var.display().to_string());
        e.set("MALL_HTTP_PORT", self.http_port.to_string());
        e.set("COMPOSE_PROJECT_NAME", &project);
        e.set(
            "MALL_COMPOSE_ENV_FILE",
            state.join("compose.env").display().to_string(),
        );
        e.set("MALL_PROFILE", "release");
        e.set("MALL_IMAGE_TAG", "bench");
        say::log(&format!(
            "bench compose stack: project {project}, {}, state {}",
            self.url,
            state.display()
        ));
        self.compose_up = true;
        let mut cmd = Command::new("bash");
        cmd.arg(self.root.join("scripts/dev"))
            .args(["up", "--runtime", "compose"])
            .current_dir(&self.root);
        self.env.apply(&mut cmd);
        if !crate::shell::status_of(cmd)? {
            self.failed = true;
            bail!("the compose bench stack did not start");
        }
        let password = self.tmp.join("admin-password");
        let text = host::bash(
            &self.root,
            &self.env,
            "load_config; compose_init; compose_admin_password",
            &[],
        )?;
        std::fs::write(&password, text)?;
        Ok(password)
    }

    /// mall-load's --proc arguments from the host pids of the containers' processes.
    pub fn compose_procs(&self) -> Result<Vec<String>> {
        let script = r#"load_config; compose_init
for svc in $1; do
    id="$("${COMPOSE[@]}" ps -q "$svc" 2>/dev/null)" || continue
    [[ -n "$id" ]] || continue
    pid="$(docker inspect -f '{{.State.Pid}}' "$id")"
    if [[ "$svc" == nginx ]]; then
        printf 'nginx=%s\n' "$(nginx_children "$pid" | paste -sd, -)"
    else
        printf '%s=%s\n' "${svc%-blue}" "$pid"
    fi
done"#;
        let out = host::bash(&self.root, &self.env, script, &[SERVICES])?;
        Ok(out
            .lines()
            .filter(|l| !l.ends_with('='))
            .flat_map(|l| ["--proc".to_owned(), l.to_owned()])
            .collect())
    }

    /// The project and its volumes removed, its bench images too; the state kept after a
    /// failure.
    pub fn compose_down(&mut self) {
        if !self.compose_up {
            return;
        }
        say::log("tearing the compose bench stack down");
        let script = r#"load_config; compose_init
"${COMPOSE[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || warn "compose down failed"
mapfile -t images < <(docker images -q --filter reference='mall/*:bench')
((${#images[@]} == 0)) || docker image rm -f "${images[@]}" >/dev/null 2>&1 || true"#;
        if let Err(e) = host::bash(&self.root, &self.env, script, &[]) {
            say::warn(&format!("{e:#}"));
        }
        self.compose_up = false;
        if let Some(state) = self.state.take() {
            self.keep_or_remove(state);
        }
    }
}

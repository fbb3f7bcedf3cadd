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
use crate::host::proc::children;
use crate::say;
use crate::shell::{self, argv};
use crate::stack::compose::ComposeStack;

/// The containers measured: the edge, the live slots, the gateway, the database, Redis.
const SERVICES: &str =
    "nginx auth-proxy-blue user-blue product-blue cart-blue order-blue payment-blue gateway-sim mysql redis";

impl Bench {
    /// The private project, shoppers' sign-in limits raised; its admin password's file.
    pub fn compose_up(&mut self) -> Result<PathBuf> {
        self.load_start = host::loadavg();
        let state = crate::host::temp_dir("mall-bench-compose")?;
        self.tmp = state.join("bench");
        std::fs::create_dir_all(&self.tmp)?;
        self.var = state.join("var");
        self.state = Some(state.clone());
        let base = host::free_port_base()?;
        self.http_port = base + 50;
        self.url = format!("http://127.0.0.1:{}", self.http_port);
        let project = format!("mall-bench-{}", crate::host::random_hex(3));
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
        let stack = self.compose_stack()?;
        std::fs::write(&password, stack.admin_password()?)?;
        // Load goes to the edge container's address on the stack's network, as traffic
        // from outside the host reaches the published port (the kernel forwards it);
        // 127.0.0.1:<published port> would go through Docker's userland proxy, which no
        // outside client passes through, and which took a third of the busy time.
        match stack.service_ip("nginx") {
            Some(ip) => {
                self.url = format!("http://{ip}:80");
                say::log(&format!(
                    "load goes to the edge at {} (its network address)",
                    self.url
                ));
            }
            None => say::log(&format!(
                "the edge's network address is unknown: load goes to {}",
                self.url
            )),
        }
        Ok(password)
    }

    /// The compose stack these variables name (project, env file, image tag).
    fn compose_stack(&self) -> Result<ComposeStack> {
        let cfg = self.env.stack_config(&self.root)?;
        Ok(ComposeStack::from_env(cfg, &|k: &str| self.env.get(k)))
    }

    /// mall-load's --proc arguments from the host pids of the containers' processes
    /// (nginx's workers together, under "nginx").
    pub fn compose_procs(&self) -> Result<Vec<String>> {
        let stack = self.compose_stack()?;
        let mut out = Vec::new();
        for svc in SERVICES.split_whitespace() {
            let Some(pid) = stack.service_pid(svc) else {
                continue;
            };
            let arg = if svc == "nginx" {
                let workers: Vec<String> = children(pid).iter().map(u32::to_string).collect();
                format!("nginx={}", workers.join(","))
            } else {
                format!("{}={pid}", svc.strip_suffix("-blue").unwrap_or(svc))
            };
            if !arg.ends_with('=') {
                out.extend(["--proc".to_owned(), arg]);
            }
        }
        Ok(out)
    }

    /// The project and its volumes removed, its bench images too; the state kept after a
    /// failure.
    pub fn compose_down(&mut self) {
        if !self.compose_up {
            return;
        }
        say::log("tearing the compose bench stack down");
        if let Err(e) = self.remove_compose_project() {
            say::warn(&format!("{e:#}"));
        }
        self.compose_up = false;
        if let Some(state) = self.state.take() {
            self.keep_or_remove(state);
        }
    }
}

impl Bench {
    /// `compose down --volumes` for the bench's project, then its `mall/*:bench` images.
    fn remove_compose_project(&self) -> Result<()> {
        let down = self
            .compose_stack()?
            .compose(&["down", "--volumes", "--remove-orphans"])?;
        if !shell::status(&down)? {
            say::warn("compose down failed");
        }
        let list = argv(&[
            "docker",
            "images",
            "-q",
            "--filter",
            "reference=mall/*:bench",
        ]);
        let images = shell::read(&list).unwrap_or_default();
        let ids: Vec<&str> = images.split_whitespace().collect();
        if !ids.is_empty() {
            let mut rm = argv(&["docker", "image", "rm", "-f"]);
            rm.extend(ids.iter().map(|s| (*s).to_owned()));
            let _ = shell::read(&rm);
        }
        Ok(())
    }
}

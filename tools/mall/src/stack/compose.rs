//! The compose runtime of the stack: compose/docker-compose.yml on this Docker host, with
//! every image built here (host::images) and chosen only through the compose file's
//! variables, written into MALL_COMPOSE_ENV_FILE [compose/.env] (settings of its own, and
//! the slot images blue/green deployed since, are kept).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::config::StackConfig;
use super::table::STACK_PARTS;
use super::Stack;
use crate::host::{self, compose as hc};
use crate::parts::Slot;
use crate::runtime::compose::{env_file_text, LIVE_SLOTS_SCRIPT};
use crate::runtime::http;
use crate::shell::{self, argv, Argv};
use crate::{say, Error};

pub struct ComposeStack {
    pub cfg: StackConfig,
    pub env_file: PathBuf,
    pub image_tag: String,
    pub ready_timeout_s: u64,
    pub cache: PathBuf,
    pub mirror: String,
    /// COMPOSE_PROJECT_NAME, passed as `-p` so a command built here needs no environment.
    pub project: Option<String>,
}

/// The compose variables `up` writes: images, port, login rates; an image blue/green or
/// an edge deploy wrote before (present in `current`) is kept.
pub fn env_pairs(
    cfg: &StackConfig,
    images: &host::images::Images,
    tag: &str,
    current: &str,
) -> Vec<(String, String)> {
    let has = |var: &str| current.lines().any(|l| l.starts_with(&format!("{var}=")));
    let mut pairs: Vec<(String, String)> = [
        ("MALL_HTTP_PORT", cfg.http_port.to_string()),
        ("NGINX_IMAGE", images.nginx.clone()),
        ("MYSQL_IMAGE", images.mysql.clone()),
        ("REDIS_IMAGE", images.redis.clone()),
        ("INIT_IMAGE", format!("mall/mall-init:{tag}")),
        ("GATEWAY_SIM_IMAGE", format!("mall/gateway-sim:{tag}")),
        ("MALL_LOGIN_RATE", cfg.login_rate.clone()),
        ("MALL_LOGIN_BURST", cfg.login_burst.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if !has("EDGE_IMAGE") {
        pairs.push(("EDGE_IMAGE".into(), format!("mall/edge:{tag}")));
        pairs.push(("EDGE_VERSION".into(), tag.to_owned()));
    }
    for part in STACK_PARTS.iter().filter(|p| p.slots) {
        for slot in ["BLUE", "GREEN"] {
            let var = format!(
                "{}_{slot}_IMAGE",
                part.name.replace('-', "_").to_uppercase()
            );
            if !has(&var) {
                pairs.push((var, format!("mall/{}:{tag}", part.binary)));
            }
        }
    }
    pairs
}

impl ComposeStack {
    pub fn new(cfg: StackConfig) -> Self {
        Self::from_env(cfg, &|k: &str| std::env::var(k).ok())
    }

    /// The compose settings (MALL_COMPOSE_ENV_FILE, MALL_IMAGE_TAG, ...) from `env`.
    pub fn from_env(cfg: StackConfig, env: crate::runtime::Env<'_>) -> Self {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        let cache = get("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| get("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(|| PathBuf::from("/root/.cache"))
            .join("mall");
        Self {
            env_file: get("MALL_COMPOSE_ENV_FILE")
                .map_or_else(|| cfg.root.join("compose/.env"), PathBuf::from),
            image_tag: get("MALL_IMAGE_TAG").unwrap_or_else(|| "dev".into()),
            ready_timeout_s: get("MALL_READY_TIMEOUT")
                .and_then(|v| v.parse().ok())
                .unwrap_or(180),
            mirror: get("MALL_DEBIAN_MIRROR")
                .unwrap_or_else(|| "http://deb.debian.org/debian".into()),
            cache,
            project: get("COMPOSE_PROJECT_NAME"),
            cfg,
        }
    }

    /// `<compose> -f compose/docker-compose.yml [--env-file <file>] <words...>`.
    pub fn compose(&self, words: &[&str]) -> Result<Argv, Error> {
        let mut cmd = hc::compose_cmd().ok_or_else(|| {
            Error::Failed("no compose tool (apt-get install -y docker-compose)".into())
        })?;
        cmd.extend(argv(&[
            "-f",
            &self
                .cfg
                .root
                .join("compose/docker-compose.yml")
                .display()
                .to_string(),
        ]));
        if self.env_file.is_file() {
            cmd.extend(argv(&["--env-file", &self.env_file.display().to_string()]));
        }
        if let Some(project) = &self.project {
            cmd.extend(argv(&["-p", project]));
        }
        cmd.extend(argv(words));
        Ok(cmd)
    }

    fn write_env(&self, images: &host::images::Images) -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let current = std::fs::read_to_string(&self.env_file).unwrap_or_default();
        let mode =
            std::fs::metadata(&self.env_file).map_or(0o600, |m| m.permissions().mode() & 0o777);
        let pairs = env_pairs(&self.cfg, images, &self.image_tag, &current);
        crate::bookkeeping::write_atomically(&self.env_file, &env_file_text(&current, &pairs), mode)
    }

    fn unhealthy(&self) -> Result<Vec<String>, Error> {
        let Some(ids) = shell::read(&self.compose(&["ps", "-q"])?) else {
            return Ok(Vec::new());
        };
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if ids.is_empty() {
            return Ok(vec!["(no containers)".into()]);
        }
        let mut cmd = argv(&["docker", "inspect", "-f", hc::HEALTH_FORMAT]);
        cmd.extend(ids.iter().map(|s| (*s).to_owned()));
        Ok(hc::unhealthy(&shell::read(&cmd).unwrap_or_default()))
    }

    /// Stops each part's slot nginx does not route to (its marker, read in the nginx
    /// container): the stack is left as a deploy leaves it, the live slot running, the
    /// other stopped and kept (scripts/blue-green recreates it for the next version). An
    /// idle slot cost its health check, a `runc` exec every 5 s (docs/runtime.md).
    fn stop_idle_slots(&self) -> Result<(), Error> {
        let parts: Vec<&str> = STACK_PARTS
            .iter()
            .filter(|p| p.slots)
            .map(|p| p.name)
            .collect();
        let mut words = vec!["exec", "-T", "nginx", "sh", "-c", LIVE_SLOTS_SCRIPT, "sh"];
        words.extend(&parts);
        let live = shell::read(&self.compose(&words)?)
            .ok_or_else(|| Error::Failed("could not read the slot markers in nginx".into()))?;
        let idle: Vec<String> = parts
            .iter()
            .zip(live.lines().map(Slot::parse))
            .map(|(part, slot)| slot.map(|s| format!("{part}-{}", s.other())))
            .collect::<Option<_>>()
            .filter(|idle: &Vec<String>| idle.len() == parts.len())
            .ok_or_else(|| Error::Failed(format!("nginx's answer for the live slots: {live:?}")))?;
        let mut words = vec!["stop", "-t", "30"];
        words.extend(idle.iter().map(String::as_str));
        let stop = self.compose(&words)?;
        say::log(&format!("stopping the idle slots ({})", idle.join(" ")));
        if !shell::status(&stop)? {
            return Err(Error::Failed("could not stop the idle slots".into()));
        }
        Ok(())
    }

    fn show_logs(&self, tail: &str) {
        if let Ok(cmd) = self.compose(&["logs", "--no-color", "--tail", tail]) {
            let _ = shell::status(&cmd);
        }
    }
}

impl Stack for ComposeStack {
    fn up(&mut self, _build: bool) -> Result<(), Error> {
        hc::ensure_docker()?;
        if !super::executable(&self.cfg.bin_dir.join("user-service")) {
            super::up::build_workspace(&self.cfg)?;
        }
        let build = self.image_build();
        // The parts' binaries and the one-shot init's (tools/init: mall-init secrets).
        let mut binaries: Vec<&str> = STACK_PARTS.iter().map(|p| p.binary).collect();
        binaries.push("mall-init");
        let images = build.all(&binaries)?;
        if let Some(dir) = self.env_file.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("while creating {}", dir.display()))?;
        }
        self.write_env(&images)?;
        let up = self.compose(&["up", "-d", "--no-build", "--remove-orphans"])?;
        say::log(&format!(
            "starting the compose stack ({})",
            shell::quote_line(&up)
        ));
        if !shell::status(&up)? {
            self.show_logs("30");
            return Err(Error::Failed(
                "compose up failed (above: the last log lines)".into(),
            ));
        }
        let mut last = Vec::new();
        if !host::wait_for(
            self.ready_timeout_s,
            "every container to be healthy",
            || {
                last = self.unhealthy()?;
                Ok(last.is_empty())
            },
        )? {
            say::warn(&format!("not healthy: {}", last.join(" ")));
            self.show_logs("20");
            return Err(Error::Failed(
                "the compose stack did not become healthy".into(),
            ));
        }
        let port = self.cfg.http_port;
        if !host::wait_for(30, "nginx", || {
            Ok(http::get(port, "/", Duration::from_secs(2)).is_some_and(|s| s.0 == 200))
        })? {
            return Err(Error::Failed(format!(
                "nginx does not answer on port {port}"
            )));
        }
        self.stop_idle_slots()?;
        let password = self.admin_password()?;
        println!("\nThe mall is up in containers: http://127.0.0.1:{port}/");
        println!(
            "  admin login: {} / {}",
            self.cfg.admin_email,
            password.trim_end()
        );
        println!("  logs:        scripts/dev logs --runtime compose [service]");
        println!(
            "  stop:        {}scripts/dev down --runtime compose [--volumes]",
            self.cfg.stop_hint()
        );
        Ok(())
    }

    fn down(&mut self, volumes: bool) -> Result<(), Error> {
        let mut words = vec!["down", "--remove-orphans"];
        if volumes {
            words.push("--volumes");
        }
        let cmd = self.compose(&words)?;
        say::log(&format!(
            "stopping the compose stack ({})",
            shell::quote_line(&cmd)
        ));
        if !shell::status(&cmd)? {
            return Err(Error::Failed("compose down failed".into()));
        }
        Ok(())
    }

    fn status(&mut self) -> Result<(), Error> {
        let cmd = self.compose(&["ps"])?;
        let ok = std::process::Command::new(&cmd[0])
            .args(&cmd[1..])
            .status()
            .context("while running compose ps")?;
        if ok.success() {
            Ok(())
        } else {
            Err(Error::Failed("compose ps failed".into()))
        }
    }

    fn logs(&mut self, part: Option<&str>) -> Result<(), Error> {
        use std::os::unix::process::CommandExt;
        let mut words = vec!["logs", "-f", "--tail", "50"];
        words.extend(part);
        let cmd = self.compose(&words)?;
        let err = std::process::Command::new(&cmd[0]).args(&cmd[1..]).exec();
        Err(Error::Failed(format!("could not run {}: {err}", cmd[0])))
    }

    fn restart(&mut self, _service: &str) -> Result<(), Error> {
        Err(Error::Usage(
            "restart is not available with --runtime compose (see scripts/dev --help)".into(),
        ))
    }
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;

//! The bench's private stack (local runtime): release binaries, free loopback ports, its own
//! state directory, database prefix and Redis prefix, started with `scripts/dev up
//! --no-build` as a subprocess exactly like scripts/test's end-to-end stack, and always
//! torn down (`scripts/dev down`, databases and users dropped, Redis keys deleted; the
//! state directory kept only after a failure).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::host::{self, Env};
use super::Bench;
use crate::say;

impl Bench {
    /// A fresh environment for a private stack: ports, state, prefixes (exported to
    /// scripts/dev through `self.env`).
    fn stack_env(&mut self) -> Result<()> {
        self.load_start = host::loadavg();
        let base = host::free_port_base()?;
        self.port_base = base;
        self.http_port = base + 50;
        self.bench_ports = (base + 52, base + 53);
        let state = crate::host::temp_dir("mall-bench")?;
        self.var = state.join("var");
        self.tmp = state.join("bench");
        std::fs::create_dir_all(&self.tmp)
            .with_context(|| format!("while creating {}", self.tmp.display()))?;
        self.state = Some(state);
        let id = crate::host::random_hex(4);
        let e = &mut self.env;
        e.set("MALL_PORT_BASE", base.to_string());
        e.set("MALL_HTTP_PORT", (base + 50).to_string());
        e.set("MALL_INTERNAL_PORT", (base + 51).to_string());
        e.set("MALL_VAR", self.var.display().to_string());
        e.set("MALL_DB_PREFIX", format!("bench_{id}_"));
        e.set("REDIS_PREFIX", format!("bench:{id}:"));
        e.set("MALL_PROFILE", "release");
        self.url = format!("http://127.0.0.1:{}", base + 50);
        say::log(&format!(
            "bench stack: {} ports {base}+, bench servers :{} :{}, state {}, databases bench_{id}_*, Redis keys bench:{id}:*",
            self.url,
            base + 52,
            base + 53,
            self.var.display()
        ));
        Ok(())
    }

    /// The private stack with these services (user is required). Another stack can take a
    /// port between the check and the bind: then everything is removed and tried again on
    /// new ports (three attempts).
    pub fn stack_up(&mut self, services: &[&str]) -> Result<()> {
        for attempt in 1..=3 {
            self.stack_env()?;
            self.up = true;
            let mut cmd = Command::new("bash");
            cmd.arg(self.root.join("scripts/dev"))
                .args(["up", "--no-build"])
                .current_dir(&self.root);
            self.env.apply(&mut cmd);
            cmd.env("MALL_SERVICES", services.join(" "));
            if crate::shell::status_of(cmd)? {
                return Ok(());
            }
            if attempt < 3 && self.port_was_taken() {
                say::warn(
                    "a port of the bench stack was taken meanwhile; starting again on other ports",
                );
                self.down_local();
                continue;
            }
            self.failed = true;
            bail!(
                "the bench stack did not start; logs in {}/log",
                self.var.display()
            );
        }
        bail!("the bench stack did not start")
    }

    fn port_was_taken(&self) -> bool {
        let log = self.var.join("log");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&log)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.push(log.join("nginx/error.log"));
        files
            .iter()
            .any(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("Address already in use")))
    }

    /// Stops every process recorded in the state directory (the extra slots the bench
    /// started too), drops the databases and users, deletes the Redis keys; removes the
    /// state directory unless something failed.
    pub fn down_local(&mut self) {
        let Some(state) = self.state.take() else {
            return;
        };
        if self.up || self.var.join("run").is_dir() {
            say::log("tearing the bench stack down");
            let mut cmd = Command::new("bash");
            cmd.arg(self.root.join("scripts/dev")).arg("down");
            self.env.apply(&mut cmd);
            if !crate::shell::status_of(cmd).unwrap_or(false) {
                say::warn("scripts/dev down failed");
            }
        }
        self.up = false;
        let (db, redis) = (
            self.env.own("MALL_DB_PREFIX").unwrap_or("").to_owned(),
            self.env.own("REDIS_PREFIX").unwrap_or("").to_owned(),
        );
        if !db.is_empty() && !redis.is_empty() {
            if let Err(e) = host::drop_stack_data(&self.env, &db, &redis) {
                say::warn(&format!("{e:#}"));
            }
        }
        self.keep_or_remove(state);
    }

    pub(super) fn keep_or_remove(&self, state: PathBuf) {
        if self.failed {
            say::log(&format!(
                "kept the bench state (logs, rendered nginx config, raw load results): {}",
                state.display()
            ));
        } else if let Err(e) = std::fs::remove_dir_all(&state) {
            say::warn(&format!("could not remove {}: {e}", state.display()));
        }
    }

    /// The pid scripts/dev recorded for an instance (auth-proxy-blue, product-blue, ...).
    pub fn pid(&self, instance: &str) -> Result<u32> {
        let file = self.var.join("run").join(format!("{instance}.pid"));
        std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .with_context(|| format!("no pid file for {instance} ({})", file.display()))
    }

    /// mall-load's process groups for the stack recorded in run/: nginx's workers together,
    /// every other instance by its name (`proc_args` with the blue suffix kept or dropped).
    pub fn proc_args(&self, drop_blue: bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.var.join("run"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        for f in files {
            let (Some(inst), Some("pid")) = (
                f.file_stem().and_then(|s| s.to_str()),
                f.extension().and_then(|s| s.to_str()),
            ) else {
                continue;
            };
            let Some(pid) = std::fs::read_to_string(&f)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
            else {
                continue;
            };
            let spec = if inst == "nginx" {
                let workers: Vec<String> = crate::host::proc::children(pid)
                    .iter()
                    .map(u32::to_string)
                    .collect();
                if workers.is_empty() {
                    continue;
                }
                format!("nginx={}", workers.join(","))
            } else {
                let label = if drop_blue {
                    inst.strip_suffix("-blue").unwrap_or(inst)
                } else {
                    inst
                };
                format!("{label}={pid}")
            };
            out.extend(["--proc".to_owned(), spec]);
        }
        out
    }

    /// Drops a bench-only config into <nginx prefix>/extra/<name>.conf of the private stack
    /// (the template includes extra/*.conf in its http block), checks it, reloads nginx.
    pub fn nginx_extra(&mut self, name: &str, text: &str) -> Result<()> {
        let dir = self.var.join("nginx");
        let extra = dir.join("extra");
        std::fs::create_dir_all(&extra)?;
        let file = extra.join(format!("{name}.conf"));
        std::fs::write(&file, text).with_context(|| format!("while writing {}", file.display()))?;
        let error_log = self.var.join("log/nginx/error.log");
        let run = |args: &[&str]| -> Result<bool> {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&error_log)?;
            let mut cmd = Command::new("nginx");
            cmd.env("TZ", "UTC")
                .arg("-p")
                .arg(format!("{}/", dir.display()))
                .arg("-c")
                .arg(dir.join("nginx.conf"))
                .args(args)
                .stderr(log);
            crate::shell::status_of(cmd)
        };
        if !run(&["-t", "-q"])? {
            self.failed = true;
            bail!(
                "nginx rejected the bench config {}; see {}",
                file.display(),
                error_log.display()
            );
        }
        if !run(&["-s", "reload"])? {
            bail!("nginx -s reload failed; see {}", error_log.display());
        }
        say::log(&format!(
            "nginx reloaded with the bench-only config extra/{name}.conf"
        ));
        Ok(())
    }
}

impl Bench {
    /// Waits until the bench-only server on `port` accepts connections (after a reload,
    /// nginx's new workers bind it a moment later).
    pub fn wait_port(&mut self, port: u16) -> Result<()> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !crate::runtime::http::port_in_use(port) {
            if std::time::Instant::now() > deadline {
                self.failed = true;
                bail!("the bench server on 127.0.0.1:{port} does not answer; see {}/log/nginx/error.log", self.var.display());
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Ok(())
    }
}

/// Defaults of the variables scripts/dev reads that the bench passes on.
pub fn base_env() -> Env {
    let mut env = Env::default();
    env.or_inherit("MALL_MYSQL_HOST", "127.0.0.1");
    env.or_inherit("MALL_MYSQL_PORT", "3306");
    env.or_inherit("MALL_MYSQL_ROOT_USER", "root");
    env.or_inherit("MALL_REDIS_URL", "redis://127.0.0.1:6379/0");
    env.or_inherit("MALL_ADMIN_EMAIL", "admin@mall.local");
    if let Ok(p) = std::env::var("MALL_MYSQL_ROOT_PASSWORD") {
        env.set("MALL_MYSQL_ROOT_PASSWORD", p);
    }
    env
}

//! The e2e step: a private local stack (`scripts/dev up` on free ports, its own state
//! directory, database prefix and Redis prefix), the e2e suite on it, the table's steps on
//! its stack, auth-proxy down; always stopped and its data dropped afterwards.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};

use super::ctx::{run, Ctx};
use super::host::{drop_stack_data, free_port_base, random_hex};
use super::report::Report;
use super::table::{Run, Step};
use crate::host::temp_dir;
use crate::say;

pub struct Stack {
    /// The temp directory (kept on failure): the stack's state is `var/` in it.
    pub dir: PathBuf,
    pub var: PathBuf,
    pub base: u16,
    pub url: String,
    pub db_prefix: String,
    pub redis_prefix: String,
    pub admin_email: String,
    up: bool,
    failed: bool,
}

impl Stack {
    /// Ports, directories and prefixes of a new stack, exported to every later command.
    fn create(ctx: &mut Ctx) -> anyhow::Result<Self> {
        let base = free_port_base()?;
        let dir = temp_dir("mall-e2e")?;
        let var = dir.join("var");
        let id = random_hex(4);
        let stack = Self {
            base,
            url: format!("http://127.0.0.1:{}", base + 50),
            db_prefix: format!("e2e_{id}_"),
            redis_prefix: format!("e2e:{id}:"),
            admin_email: ctx
                .get("MALL_ADMIN_EMAIL")
                .unwrap_or_else(|| "admin@mall.local".into()),
            dir,
            var,
            up: false,
            failed: false,
        };
        let login_rate = ctx
            .get("MALL_E2E_LOGIN_RATE")
            .unwrap_or_else(|| "100r/s".into());
        for (k, v) in [
            ("MALL_PORT_BASE", base.to_string()),
            ("MALL_HTTP_PORT", (base + 50).to_string()),
            ("MALL_INTERNAL_PORT", (base + 51).to_string()),
            ("MALL_VAR", stack.var.display().to_string()),
            ("MALL_DB_PREFIX", stack.db_prefix.clone()),
            ("REDIS_PREFIX", stack.redis_prefix.clone()),
            ("MALL_LOGIN_RATE", login_rate),
            ("MALL_LOGIN_BURST", "200".into()),
            // The e2e suite's edge::forwarded tests connect from 127.0.0.2 as a trusted
            // proxy would.
            ("MALL_TRUSTED_PROXY_CIDR", "127.0.0.2/32".into()),
            ("MALL_TRUSTED_PROXY_ADDR", "127.0.0.2".into()),
            // Every test signs up from 127.0.0.1: the per-address registration limit (tested
            // by the user service's own tests) is raised for this stack, as the login rate is.
            ("REGISTER_MAX_PER_ADDRESS", "100000".into()),
        ] {
            ctx.set(k, v);
        }
        say::log(&format!(
            "e2e stack: {} ports {base}+, state {}, databases {}*, Redis keys {}*",
            stack.url,
            stack.var.display(),
            stack.db_prefix,
            stack.redis_prefix
        ));
        Ok(stack)
    }

    pub fn admin_password_file(&self) -> PathBuf {
        self.var.join("secrets/admin-password")
    }

    /// Another private stack (the blue/green step's) took one of our ports between the
    /// check and the bind.
    fn port_taken(&self) -> bool {
        let mut logs: Vec<PathBuf> = std::fs::read_dir(self.var.join("log"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        logs.retain(|p| p.extension().is_some_and(|e| e == "log"));
        logs.push(self.var.join("log/nginx/error.log"));
        logs.iter()
            .any(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("Address already in use")))
    }

    /// The last lines of every log, for a failure.
    fn print_log_tails(&self) {
        let log = self.var.join("log");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&log)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "log"));
        files.sort();
        files.push(log.join("nginx/error.log"));
        let tail = |p: &Path, n: usize| {
            let Ok(text) = std::fs::read_to_string(p) else {
                return;
            };
            if text.is_empty() {
                return;
            }
            let rel = p.strip_prefix(&self.var).unwrap_or(p).display();
            eprintln!("\n----- last lines of {rel} -----");
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..]
                .iter()
                .for_each(|l| eprintln!("{l}"));
        };
        files.iter().for_each(|f| tail(f, 40));
        tail(&log.join("nginx/access.log"), 15);
    }

    /// Stops the stack and drops its data (unless --keep-stack); keeps its directory (logs,
    /// rendered nginx config) when something failed.
    fn cleanup(&self, ctx: &Ctx) {
        if ctx.keep_stack {
            say::log(&format!(
                "the e2e stack is still running: MALL_VAR={} MALL_PORT_BASE={} MALL_HTTP_PORT={} scripts/dev down (then drop databases {}*)",
                self.var.display(), self.base, self.base + 50, self.db_prefix
            ));
            return;
        }
        if self.up || self.var.join("run").is_dir() {
            let mut down = ctx.cmd("bash");
            down.args(["scripts/dev", "down"]);
            if let Err(err) = run(down) {
                say::warn(&format!("scripts/dev down failed: {err:#}"));
            }
        }
        drop_stack_data(ctx, &self.db_prefix, &self.redis_prefix);
        if self.failed {
            say::log(&format!(
                "kept the e2e state (logs, rendered nginx config) for inspection: {}",
                self.dir.display()
            ));
        } else if let Err(err) = std::fs::remove_dir_all(&self.dir) {
            say::warn(&format!("could not remove {}: {err}", self.dir.display()));
        }
    }
}

/// `scripts/dev up --no-build`, started again on other ports (up to three times) when a
/// port was taken meanwhile. The stack (also one that failed to start, to clean up).
fn start(ctx: &mut Ctx) -> (Option<Stack>, anyhow::Result<()>) {
    let mut attempt = 1;
    loop {
        let mut stack = match Stack::create(ctx) {
            Ok(s) => s,
            Err(err) => return (None, Err(err)),
        };
        stack.up = true;
        let mut up = ctx.cmd("bash");
        up.args(["scripts/dev", "up", "--no-build"]);
        match run(up) {
            Err(_) if attempt < 3 && stack.port_taken() => {
                say::warn(
                    "a port of the e2e stack was taken meanwhile; starting again on other ports",
                );
                let keep = std::mem::replace(&mut ctx.keep_stack, false);
                stack.cleanup(ctx);
                ctx.keep_stack = keep;
                attempt += 1;
            }
            result => return (Some(stack), result),
        }
    }
}

/// The e2e suite's settings, then the suite.
fn suite(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    let password = std::fs::read_to_string(stack.admin_password_file())
        .with_context(|| format!("while reading {}", stack.admin_password_file().display()))?;
    let user_service = ctx.target_bin("user-service").display().to_string();
    for (k, v) in [
        ("MALL_URL", stack.url.clone()),
        ("MALL_ADMIN_EMAIL", stack.admin_email.clone()),
        (
            "MALL_ADMIN_PASSWORD",
            password.trim_end_matches('\n').to_owned(),
        ),
        ("MALL_LOG_DIR", stack.var.join("log").display().to_string()),
        // The key-rotation test runs `user-service keygen` on the stack's keys directory.
        ("MALL_USER_SERVICE_BIN", user_service),
        // The checkout tests ask the card gateway simulator (outside the system) what was
        // charged.
        (
            "MALL_GATEWAY_URL",
            format!("http://127.0.0.1:{}", stack.base + 9),
        ),
    ] {
        ctx.set(k, v);
    }
    run(ctx.cargo(&["test", "-p", "e2e", "--locked"]))
}

/// The e2e step with the table's steps on its stack (each a step of its own in the
/// summary; the first failure ends this one) and auth-down last.
pub fn e2e_step(ctx: &mut Ctx, report: &mut Report, on_stack: &[&Step]) {
    report.begin("e2e");
    let began = Instant::now();
    let mut stack = None;
    let result = (|| -> anyhow::Result<()> {
        let (started, result) = start(ctx);
        stack = started;
        result?;
        let Some(s) = stack.as_ref() else {
            bail!("no stack")
        };
        suite(ctx, s)?;
        for step in on_stack {
            let Run::OnStack(f) = step.run else { continue };
            if !super::run_step(report, step.name, || f(ctx, s)) {
                bail!("step {} failed", step.name);
            }
        }
        super::on_stack::auth_down(ctx, s)
    })();
    if let Some(s) = stack.as_mut() {
        if result.is_err() {
            s.failed = true;
            s.print_log_tails();
        }
        s.cleanup(ctx);
    }
    report.end("e2e", began, result.as_ref().err());
}

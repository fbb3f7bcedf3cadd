//! A private compose project for the container stages (what compose.sh's
//! compose_private_env and compose_init, and compose-test.sh's container helpers did): free
//! port, own project name and env file, `scripts/dev up --runtime compose`, every
//! container's log followed into files laid out as the local runtime's, always
//! `down --volumes` afterwards.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::Context;

use super::host::{self, Ctx};
use crate::{say, Error};

pub struct Project {
    /// The compose command with the file and env file: `docker compose -f … --env-file …`.
    pub cmd: Vec<String>,
    pub name: String,
    pub tag: String,
    pub http_port: u16,
    pub var: PathBuf,
    pub env_file: PathBuf,
    pub up: bool,
    followers: Vec<Child>,
}

/// The compose tool here: the v2 plugin, else the v1 binary.
fn compose_tool() -> Result<Vec<String>, Error> {
    let v2 = Command::new("docker")
        .args(["compose", "version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if v2 {
        return Ok(vec!["docker".into(), "compose".into()]);
    }
    if crate::shell::have("docker-compose") {
        return Ok(vec!["docker-compose".into()]);
    }
    Err(Error::Failed(
        "no compose tool: install Docker's compose plugin or apt-get install -y docker-compose"
            .into(),
    ))
}

impl Project {
    /// A private project `<prefix>-<random>` on a free port, its state under `dir`; the
    /// variables scripts/dev, scripts/blue-green and scripts/trace read are set in `ctx`.
    pub fn private(ctx: &mut Ctx, dir: &Path, prefix: &str) -> Result<Project, Error> {
        let http_port = host::free_port_base()? + 50;
        let name = format!("{prefix}-{}", host::random_hex(3));
        let var = dir.join("var");
        let env_file = dir.join("compose.env");
        let tag = ctx.get("MALL_IMAGE_TAG").unwrap_or_else(|| "dev".into());
        let tool = compose_tool()?;
        ctx.set("MALL_VAR", var.display().to_string());
        ctx.set("MALL_HTTP_PORT", http_port.to_string());
        ctx.set("COMPOSE_PROJECT_NAME", name.clone());
        ctx.set("MALL_COMPOSE_ENV_FILE", env_file.display().to_string());
        ctx.set("COMPOSE_ENV_FILE", env_file.display().to_string());
        ctx.set("MALL_BG_COMPOSE", tool.join(" "));
        ctx.set("MALL_IMAGE_TAG", tag.clone());
        let mut cmd = tool;
        cmd.push("-f".into());
        cmd.push(
            ctx.root
                .join("compose/docker-compose.yml")
                .display()
                .to_string(),
        );
        cmd.push("--env-file".into());
        cmd.push(env_file.display().to_string());
        Ok(Project {
            cmd,
            name,
            tag,
            http_port,
            var,
            env_file,
            up: false,
            followers: vec![],
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// `scripts/dev up --runtime compose` (builds the images here, waits until healthy).
    pub fn start(&mut self, ctx: &Ctx) -> Result<(), Error> {
        self.up = true;
        if ctx.run(ctx.script("scripts/dev", &["up", "--runtime", "compose"]))? {
            Ok(())
        } else {
            Err(Error::Failed(
                "scripts/dev up --runtime compose failed".into(),
            ))
        }
    }

    /// The compose command with these arguments.
    pub fn command(&self, ctx: &Ctx, args: &[&str]) -> Command {
        let mut c = ctx.cmd(&self.cmd[0]);
        c.args(&self.cmd[1..]).args(args);
        c
    }

    /// Runs a compose command quietly; true on exit 0.
    pub fn quiet(&self, ctx: &Ctx, args: &[&str]) -> bool {
        self.command(ctx, args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Stdout of a compose command (trimmed), empty on failure.
    pub fn read(&self, ctx: &Ctx, args: &[&str]) -> String {
        ctx.read(self.command(ctx, args))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    /// The container id of a compose service.
    pub fn container(&self, ctx: &Ctx, service: &str) -> String {
        self.read(ctx, &["ps", "-q", service])
    }

    /// `docker inspect -f <format>` of a service's container.
    pub fn inspect(&self, ctx: &Ctx, service: &str, format: &str) -> String {
        let id = self.container(ctx, service);
        docker(ctx, &["inspect", "-f", format, &id])
    }

    /// The container's address on the project's network.
    pub fn addr(&self, ctx: &Ctx, service: &str) -> String {
        self.inspect(
            ctx,
            service,
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        )
    }

    pub fn admin_password(&self, ctx: &Ctx) -> Result<String, Error> {
        let p = self.read(
            ctx,
            &["exec", "-T", "user-blue", "cat", "/run/mall/admin-password"],
        );
        if p.is_empty() {
            return Err(Error::Failed(
                "could not read the admin password in user-blue".into(),
            ));
        }
        Ok(p)
    }

    /// Every container's log into `<var>/log` (<part>-<slot>.log; nginx's access log is its
    /// stdout, its error log its stderr).
    pub fn follow_logs(&mut self, ctx: &Ctx) -> Result<(), Error> {
        let dir = self.var.join("log");
        std::fs::create_dir_all(dir.join("nginx")).context("while creating the log directory")?;
        for service in self.read(ctx, &["ps", "--services"]).lines() {
            let id = self.container(ctx, service);
            if id.is_empty() {
                continue;
            }
            let (out, err) = match service {
                "nginx" => (dir.join("nginx/access.log"), dir.join("nginx/error.log")),
                "init" | "mysql" | "redis" => (
                    dir.join(format!("{service}.txt")),
                    dir.join(format!("{service}.txt")),
                ),
                _ => (
                    dir.join(format!("{service}.log")),
                    dir.join(format!("{service}.log")),
                ),
            };
            let out_file = std::fs::File::create(&out).context("while creating a log file")?;
            let err_file = if err == out {
                out_file.try_clone().context("while opening a log file")?
            } else {
                std::fs::File::create(&err).context("while creating a log file")?
            };
            let child = ctx
                .cmd("docker")
                .args(["logs", "-f", &id])
                .stdout(Stdio::from(out_file))
                .stderr(Stdio::from(err_file))
                .spawn()
                .context("while following a container's log")?;
            self.followers.push(child);
        }
        Ok(())
    }

    /// Stops following, shows what ran after a failure, removes the project and its volumes.
    pub fn cleanup(&mut self, ctx: &Ctx, failed: bool) {
        for mut child in self.followers.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !self.up {
            return;
        }
        if failed {
            let _ = crate::shell::status_of(self.command(ctx, &["ps"]));
            let _ =
                crate::shell::status_of(self.command(ctx, &["logs", "--no-color", "--tail", "25"]));
        }
        if !self.quiet(ctx, &["down", "--volumes", "--remove-orphans"]) {
            say::warn("compose down failed");
        }
        self.up = false;
    }
}

/// `docker <args>`'s stdout, trimmed (empty on failure).
pub fn docker(ctx: &Ctx, args: &[&str]) -> String {
    let mut c = ctx.cmd("docker");
    c.args(args);
    ctx.read(c).unwrap_or_default().trim().to_owned()
}

//! The local runtime's steps: loopback HTTP probes, MALL_VAR files, the stack's functions.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};

use super::{executable, pid_runs, same_content, Local};
use crate::parts::{Part, Slot};
use crate::plan::Record;
use crate::runtime::{http, Resolved, Runtime};
use crate::say;
use crate::shell::{self, quote_line, Runner};
use crate::stack::launch::{launch_part, stop_instances};
use crate::stack::parts::StackPart;
use crate::stack::secrets::ensure_part_db;

impl Runtime for Local {
    fn name(&self) -> &'static str {
        "local"
    }

    fn runner(&self) -> Runner {
        self.runner
    }

    fn root(&self) -> &Path {
        &self.root
    }

    fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    fn nginx_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    fn check_stack(&self) -> anyhow::Result<()> {
        let file = self.var.join("run/nginx.pid");
        let pid = std::fs::read_to_string(&file)
            .ok()
            .and_then(|p| p.trim().parse().ok());
        if !pid.is_some_and(|pid| pid_runs(pid, "nginx")) {
            bail!("the local stack's nginx is not running (no live pid in {}); start it with scripts/dev up (same MALL_VAR)", file.display());
        }
        Ok(())
    }

    fn resolve(&self, _part: &Part, arg: &str) -> anyhow::Result<Resolved> {
        Ok(Resolved {
            version: arg.to_owned(),
            image: None,
        })
    }

    fn live_slot(&self, part: &Part, _record: &Record) -> anyhow::Result<Slot> {
        let dir = self.upstreams();
        if !dir.join("select.inc").is_file() {
            bail!(
                "no {}/select.inc; is the local stack set up (scripts/dev up)?",
                dir.display()
            );
        }
        Ok(if dir.join(format!("{}.green", part.name)).exists() {
            Slot::Green
        } else {
            Slot::Blue
        })
    }

    fn served_by_nginx(&self, part: &Part) -> Option<String> {
        let (_, head) = http::get(
            self.internal_port,
            &format!("/_slot/{}", part.name),
            Duration::from_secs(3),
        )?;
        shell::header_value(&head, "x-served-by")
    }

    fn served_by_slot(&self, part: &Part, slot: Slot) -> Option<String> {
        let (_, head) = http::get(
            part.port(self.port_base, slot),
            "/health",
            Duration::from_secs(3),
        )?;
        shell::header_value(&head, "x-served-by")
    }

    fn slot_status(&self, part: &Part, slot: Slot, path: &str) -> u16 {
        http::get(
            part.port(self.port_base, slot),
            path,
            Duration::from_secs(2),
        )
        .map_or(0, |(s, _)| s)
    }

    fn slot_running(&self, part: &Part, slot: Slot) -> bool {
        self.slot_pid(part, slot)
            .is_some_and(|pid| pid_runs(pid, part.binary))
    }

    fn slot_logs(&self, part: &Part, slot: Slot) -> String {
        let file = self
            .var
            .join("log")
            .join(format!("{}.log", Self::instance(part, slot)));
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn prepare(&self, part: &Part, resolved: &Resolved) -> anyhow::Result<String> {
        let version = &resolved.version;
        let src = self.bin_dir.join(part.binary);
        let release = self.release_path(part, version);
        if executable(&release) {
            if executable(&src) && !same_content(&src, &release) {
                say::warn(&format!("{} {version} is already released and differs from the current build; deploying the release (give a new build a new label)", part.name));
            }
            say::log(&format!("deploying the release {}", release.display()));
            return Ok(release.display().to_string());
        }
        if !executable(&src) {
            bail!(
                "{} is missing; build it (cargo build --bin {})",
                src.display(),
                part.binary
            );
        }
        if !self.runner.dry_run {
            say::log(&format!(
                "snapshotting {} as {} {version}",
                src.display(),
                part.name
            ));
        }
        self.snapshot(&src, part, version)
    }

    fn snapshot_live(
        &self,
        part: &Part,
        slot: Slot,
        version: &str,
    ) -> anyhow::Result<Option<String>> {
        let Some(pid) = self
            .slot_pid(part, slot)
            .filter(|pid| pid_runs(*pid, part.binary))
        else {
            return Ok(None);
        };
        // The exact binary the process executes, even when the build has replaced the file.
        let exe = PathBuf::from(format!("/proc/{pid}/exe"));
        let release = self.release_path(part, version);
        if release.exists() && same_content(&exe, &release) {
            return Ok(Some(release.display().to_string()));
        }
        let mut name = version.to_owned();
        if release.exists() {
            // The label is taken by another binary (scripts/dev's default label is the
            // crate version, which does not change with every build): keep both.
            use sha2::Digest;
            let bytes =
                std::fs::read(&exe).with_context(|| format!("while reading {}", exe.display()))?;
            let hash: String = sha2::Sha256::digest(&bytes)
                .iter()
                .take(4)
                .map(|b| format!("{b:02x}"))
                .collect();
            name = format!("{version}+{hash}");
        }
        self.snapshot(&exe, part, &name).map(Some)
    }

    fn check_artifact(&self, part: &Part, version: &str, artifact: &str) -> anyhow::Result<()> {
        if !self.runner.dry_run && !executable(Path::new(artifact)) {
            bail!("the binary of {} {version} is gone ({artifact})", part.name);
        }
        Ok(())
    }

    fn start_slot(
        &self,
        part: &Part,
        slot: Slot,
        version: &str,
        artifact: &str,
        env: &[String],
    ) -> anyhow::Result<()> {
        let port = part.port(self.port_base, slot);
        let mut extra = vec![format!("SERVICE_VERSION={version}")];
        extra.extend(env.iter().cloned());
        if self.runner.dry_run {
            let db = if part.has_db { "db" } else { "-" };
            let mut args = shell::argv(&[
                part.name,
                &slot.to_string(),
                &port.to_string(),
                db,
                artifact,
            ]);
            args.extend(extra);
            self.runner
                .show(&format!("launch_part {}", quote_line(&args)));
            return Ok(());
        }
        if http::port_in_use(port) {
            bail!(
                "port {port} ({} {slot}) is in use by something this script did not start",
                part.name
            );
        }
        let stack_part = StackPart::find(part.name)
            .with_context(|| format!("{} is not a part of mall.toml", part.name))?;
        let slot_name = if slot == Slot::Green { "green" } else { "blue" };
        // A part `mall stack up` never started (it was not built then): its database first.
        ensure_part_db(&self.stack, stack_part)?;
        let pid = launch_part(
            &self.stack,
            stack_part,
            Some(slot_name),
            port,
            Path::new(artifact),
            &extra,
        )?;
        // The pid execs setsid, then the binary: wait until it is the binary.
        crate::host::proc::wait_exec(pid, part.binary, Duration::from_secs(5));
        say::log(&format!(
            "started {} (pid {pid}) {version} on 127.0.0.1:{port}",
            Self::instance(part, slot)
        ));
        Ok(())
    }

    fn stop_slot(&self, part: &Part, slot: Slot) -> anyhow::Result<()> {
        let inst = Self::instance(part, slot);
        if self.runner.dry_run {
            self.runner.show(&format!("stop_instances {inst}"));
            return Ok(());
        }
        stop_instances(&self.stack, &[inst])
    }

    fn check_upstream(&self, part: &Part, slot: Slot) -> anyhow::Result<()> {
        let file = self.upstreams().join(format!("{}.conf", part.name));
        let want = format!("upstream {}_{slot} {{", part.name.replace('-', "_"));
        if self.runner.dry_run {
            let cmd = shell::argv(&[
                "grep",
                "-q",
                &format!("^{want}"),
                &file.display().to_string(),
            ]);
            self.runner.show(&quote_line(&cmd));
            return Ok(());
        }
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("while reading {}", file.display()))?;
        if !text.lines().any(|l| l.starts_with(&want)) {
            bail!("{} has no `{want}`", file.display());
        }
        Ok(())
    }

    fn set_marker(&self, part: &Part, slot: Slot) -> anyhow::Result<()> {
        let marker = self.upstreams().join(format!("{}.green", part.name));
        if self.runner.dry_run {
            self.runner.show(&format!(
                "set_marker {} {} {slot}",
                quote_line(&[self.upstreams().display().to_string()]),
                part.name
            ));
            return Ok(());
        }
        match slot {
            Slot::Green => crate::bookkeeping::write_atomically(
                &marker,
                &format!("live slot of {}: green\n", part.name),
                0o644,
            ),
            Slot::Blue => match std::fs::remove_file(&marker) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                    Err(err).with_context(|| format!("while removing {}", marker.display()))
                }
                _ => Ok(()),
            },
        }
    }
}

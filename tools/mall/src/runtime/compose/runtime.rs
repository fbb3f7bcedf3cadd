//! The compose runtime's steps: the commands of mod.rs, run (or printed in a dry run).

use std::path::Path;

use anyhow::{bail, Context};

use super::{slot_service, Compose, NGINX_INTERNAL, SLOT_PORT};
use crate::parts::{Part, Slot};
use crate::plan::Record;
use crate::runtime::{Resolved, Runtime};
use crate::say;
use crate::shell::{self, argv, Runner};

impl Runtime for Compose {
    fn name(&self) -> &'static str {
        "compose"
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
        if !self.runner.dry_run && !self.container_running("nginx") {
            bail!(
                "the compose stack's nginx is not running; start the stack first (docs/deploy.md)"
            );
        }
        Ok(())
    }

    fn resolve(&self, part: &Part, arg: &str) -> anyhow::Result<Resolved> {
        super::resolve(&self.image_repo, part.binary, arg)
    }

    fn live_slot(&self, part: &Part, record: &Record) -> anyhow::Result<Slot> {
        if self.runner.dry_run {
            // Nothing is asked of Docker in a dry run: the record, or compose's default.
            return Ok(record.live().unwrap_or(Slot::Blue));
        }
        let script = super::LIVE_SLOTS_SCRIPT;
        let out = shell::read(&self.exec("nginx", &["sh", "-c", script, "sh", part.name]))
            .context("could not read the slot markers in the nginx container (is it the current compose file's?)")?;
        Slot::parse(out.trim()).context("the nginx container answered neither blue nor green")
    }

    fn served_by_nginx(&self, part: &Part) -> Option<String> {
        if self.runner.dry_run {
            return None;
        }
        self.curl_header(
            "nginx",
            &format!("http://127.0.0.1:{NGINX_INTERNAL}/_slot/{}", part.name),
        )
    }

    fn served_by_slot(&self, part: &Part, slot: Slot) -> Option<String> {
        if self.runner.dry_run {
            return None;
        }
        self.curl_header(
            &slot_service(part, slot),
            &format!("http://127.0.0.1:{SLOT_PORT}/health"),
        )
    }

    fn slot_status(&self, part: &Part, slot: Slot, path: &str) -> u16 {
        let url = format!("http://127.0.0.1:{SLOT_PORT}{path}");
        let cmd = self.exec(
            &slot_service(part, slot),
            &[
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "2",
                &url,
            ],
        );
        shell::read(&cmd)
            .and_then(|code| code.trim().parse().ok())
            .unwrap_or(0)
    }

    fn slot_running(&self, part: &Part, slot: Slot) -> bool {
        !self.runner.dry_run && self.container_running(&slot_service(part, slot))
    }

    fn slot_logs(&self, part: &Part, slot: Slot) -> String {
        shell::read(&self.cmd(&[
            "logs",
            "--no-color",
            "--tail",
            "20",
            &slot_service(part, slot),
        ]))
        .unwrap_or_default()
    }

    /// The image, pulled now (unless the host has it) so a missing one fails before
    /// anything changes.
    fn prepare(&self, _part: &Part, resolved: &Resolved) -> anyhow::Result<String> {
        let image = resolved.image.clone().context("no image")?;
        let pull = argv(&["docker", "pull", "-q", &image]);
        if self.runner.dry_run {
            self.runner.act(&pull)?;
        } else if shell::read(&argv(&["docker", "image", "inspect", &image])).is_some() {
            say::log(&format!("{image} is on this host already"));
        } else {
            say::log(&format!("pulling {image}"));
            self.runner.act(&pull).with_context(|| {
                format!("could not pull {image} (is the host logged in to the registry?)")
            })?;
        }
        Ok(image)
    }

    /// The image the slot runs (its env file entry): images are immutable.
    fn snapshot_live(
        &self,
        part: &Part,
        slot: Slot,
        _version: &str,
    ) -> anyhow::Result<Option<String>> {
        let var = format!("{}=", part.slot_var(slot, "IMAGE"));
        let text = std::fs::read_to_string(&self.env_file).unwrap_or_default();
        let image = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix(&var))
            .map(str::to_owned);
        Ok(Some(
            image.unwrap_or_else(|| format!("mall/{}:dev", part.binary)),
        ))
    }

    fn check_artifact(&self, _part: &Part, _version: &str, _artifact: &str) -> anyhow::Result<()> {
        Ok(())
    }

    fn start_slot(
        &self,
        part: &Part,
        slot: Slot,
        version: &str,
        image: &str,
        env: &[String],
    ) -> anyhow::Result<()> {
        if !env.is_empty() {
            bail!("--env is for the local runtime; a compose slot's environment is compose/docker-compose.yml's");
        }
        let pairs = [
            (part.slot_var(slot, "IMAGE"), image.to_owned()),
            (part.slot_var(slot, "VERSION"), version.to_owned()),
        ];
        if self.runner.dry_run {
            let (a, b) = (&pairs[0], &pairs[1]);
            println!(
                "+ (in {}) {}={} {}={}",
                self.env_file.display(),
                a.0,
                a.1,
                b.0,
                b.1
            );
        } else {
            self.env_file_set(&pairs)?;
        }
        self.runner.act(&self.start_cmd(part, slot, image, version))
    }

    fn stop_slot(&self, part: &Part, slot: Slot) -> anyhow::Result<()> {
        if !self.runner.dry_run {
            say::log(&format!("stopping {}", slot_service(part, slot)));
        }
        self.runner.act(&self.stop_cmd(part, slot))
    }

    fn check_upstream(&self, part: &Part, slot: Slot) -> anyhow::Result<()> {
        self.runner.act(&self.upstream_check_cmd(part, slot))
    }

    fn set_marker(&self, part: &Part, slot: Slot) -> anyhow::Result<()> {
        self.runner.act(&self.marker_cmd(part, slot))
    }
}

//! The kubernetes runtime's steps: the commands of mod.rs, run (or printed in a dry run).

use std::path::Path;

use anyhow::{bail, Context};

use super::{slot_name, Kubernetes};
use crate::parts::{Part, Slot};
use crate::plan::Record;
use crate::runtime::{Resolved, Runtime};
use crate::say;
use crate::shell::{self, Runner};

/// Replicas of a new slot in a dry run, when MALL_K8S_REPLICAS does not say.
const DRY_RUN_REPLICAS: u32 = 2;

impl Kubernetes {
    fn read(&self, cmd: &[String]) -> Option<String> {
        shell::read(cmd).map(|s| s.trim().to_owned())
    }

    /// The new slot's replicas: MALL_K8S_REPLICAS, else as many as the live slot has (at
    /// least one).
    fn replicas_for(&self, part: &Part, slot: Slot) -> u32 {
        if let Some(n) = self.replicas {
            return n;
        }
        if self.runner.dry_run {
            return DRY_RUN_REPLICAS;
        }
        self.read(&self.replicas_cmd(part, slot.other()))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1)
            .max(1)
    }
}

impl Runtime for Kubernetes {
    fn name(&self) -> &'static str {
        "kubernetes"
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
        self.url.clone()
    }

    fn check_stack(&self) -> anyhow::Result<()> {
        if !self.runner.dry_run
            && self
                .read(&self.cmd(&["get", "deployment/edge", "-o", "name"]))
                .is_none()
        {
            bail!("no Deployment edge answers through {} (is the chart installed, the context and namespace right? docs/kubernetes.md)", shell::quote_line(&self.kubectl));
        }
        Ok(())
    }

    fn resolve(&self, part: &Part, arg: &str) -> anyhow::Result<Resolved> {
        super::resolve(&self.image_repo, part.binary, arg)
    }

    fn live_slot(&self, part: &Part, record: &Record) -> anyhow::Result<Slot> {
        if self.runner.dry_run {
            return Ok(record.live().unwrap_or(Slot::Blue));
        }
        let out = self
            .read(&self.live_cmd(part))
            .with_context(|| format!("could not read the selector of Service {}", part.name))?;
        Slot::parse(&out).with_context(|| {
            format!(
                "Service {} selects neither blue nor green ({out:?})",
                part.name
            )
        })
    }

    fn served_by_nginx(&self, part: &Part) -> Option<String> {
        if self.runner.dry_run {
            return None;
        }
        let out = self.read(&self.curl_cmd("edge", "edge", &Self::edge_slot_url(part), true))?;
        shell::header_value(&out, "x-served-by")
    }

    fn served_by_slot(&self, part: &Part, slot: Slot) -> Option<String> {
        if self.runner.dry_run {
            return None;
        }
        let d = slot_name(part, slot);
        let out = self.read(&self.curl_cmd(&d, part.name, &Self::slot_url("/health"), true))?;
        shell::header_value(&out, "x-served-by")
    }

    /// The slot's answer on `path` from one of its pods; for `/ready`, only once every
    /// replica is updated and ready (0 until then).
    fn slot_status(&self, part: &Part, slot: Slot, path: &str) -> u16 {
        if path == "/ready" && self.read(&self.rollout_cmd(part, slot)).is_none() {
            return 0;
        }
        let d = slot_name(part, slot);
        self.read(&self.curl_cmd(&d, part.name, &Self::slot_url(path), false))
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }

    fn slot_running(&self, part: &Part, slot: Slot) -> bool {
        !self.runner.dry_run
            && self
                .read(&self.replicas_cmd(part, slot))
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| n > 0)
    }

    fn slot_logs(&self, part: &Part, slot: Slot) -> String {
        let d = format!("deployment/{}", slot_name(part, slot));
        shell::read(&self.cmd(&["logs", &d, "--tail=20", "--all-containers"])).unwrap_or_default()
    }

    /// Nothing to fetch here: the kubelet pulls the image when the slot scales up (a
    /// missing image fails the ready stage, with the live slot untouched).
    fn prepare(&self, _part: &Part, resolved: &Resolved) -> anyhow::Result<String> {
        resolved.image.clone().context("no image")
    }

    fn snapshot_live(
        &self,
        part: &Part,
        slot: Slot,
        _version: &str,
    ) -> anyhow::Result<Option<String>> {
        if self.runner.dry_run {
            return Ok(Some(format!("{}/{}:dev", self.image_repo, part.binary)));
        }
        Ok(self
            .read(&self.image_cmd(part, slot))
            .filter(|i| !i.is_empty()))
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
            bail!("--env is for the local runtime; a Kubernetes slot's environment is the chart's values");
        }
        let replicas = self.replicas_for(part, slot);
        for cmd in self.start_cmds(part, slot, image, version, replicas) {
            self.runner.act(&cmd)?;
        }
        Ok(())
    }

    fn stop_slot(&self, part: &Part, slot: Slot) -> anyhow::Result<()> {
        if !self.runner.dry_run {
            say::log(&format!("scaling {} to 0", slot_name(part, slot)));
        }
        self.runner.act(&self.stop_cmd(part, slot))
    }

    fn check_upstream(&self, part: &Part, slot: Slot) -> anyhow::Result<()> {
        self.runner.act(&self.upstream_check_cmd(part, slot))
    }

    fn set_marker(&self, part: &Part, slot: Slot) -> anyhow::Result<()> {
        self.runner.act(&self.switch_cmd(part, slot))
    }
}

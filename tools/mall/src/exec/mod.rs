//! Runs a plan through a runtime: each step with a progress line, the waits (with their
//! deadlines), and after a failure the plan's undo; every action audited.

mod checks;

use std::time::Instant;

use crate::bookkeeping::{self, audit, state};
use crate::cli::Opts;
use crate::parts::Part;
use crate::plan::{self, Artifact, Op, Outcome, Plan, Record};
use crate::runtime::{Resolved, Runtime};
use crate::{say, signal, Error};

/// One action on one part: what the audit lines share.
pub struct Flow<'a> {
    pub rt: &'a dyn Runtime,
    pub opts: &'a Opts,
    pub part: Part,
    pub action: String,
    pub id: String,
    pub t0: Instant,
}

impl<'a> Flow<'a> {
    pub fn new(rt: &'a dyn Runtime, opts: &'a Opts, part: Part, action: &str) -> Self {
        let (id, t0) = (bookkeeping::random_hex(6), Instant::now());
        Self {
            rt,
            opts,
            part,
            action: action.to_owned(),
            id,
            t0,
        }
    }

    pub(super) fn dry(&self) -> bool {
        self.rt.runner().dry_run
    }

    /// One audit line (none in a dry run); `change` is from slot, from version, to slot,
    /// to version.
    pub fn audit(&self, change: [&str; 4], outcome: &str, failure: Option<(&str, &str)>) {
        if self.dry() {
            return;
        }
        let entry = audit::Entry {
            id: self.id.clone(),
            action: self.action.clone(),
            part: self.part.name.to_owned(),
            runtime: self.rt.name().to_owned(),
            from_slot: change[0].to_owned(),
            from_version: change[1].to_owned(),
            to_slot: change[2].to_owned(),
            to_version: change[3].to_owned(),
            outcome: outcome.to_owned(),
            duration_s: (outcome != "started").then(|| self.t0.elapsed().as_secs()),
            stage: failure.map(|f| f.0.to_owned()),
            error: failure.map(|f| f.1.to_owned()),
        };
        if let Err(err) = audit::append(self.rt.state_dir(), &entry) {
            say::warn(&format!("could not write the audit log: {err:#}"));
        }
    }

    fn plan_audit(&self, plan: &Plan, outcome: &str, failure: Option<(&str, &str)>) {
        let (from, to) = (plan.from.to_string(), plan.to.to_string());
        self.audit(
            [&from, &plan.from_version, &to, &plan.to_version],
            outcome,
            failure,
        );
    }

    /// Runs the plan; after a failure puts things back as `plan::undo` says, and fails.
    pub fn run(
        &self,
        plan: &Plan,
        mut record: Record,
        resolved: Option<&Resolved>,
    ) -> Result<(), Error> {
        self.plan_audit(plan, "started", None);
        let mut artifact = None;
        for (i, step) in plan.steps.iter().enumerate() {
            let result = signal::check().and_then(|()| match &step.op {
                Op::Prepare { .. } => {
                    let resolved =
                        resolved.ok_or_else(|| Error::Failed("nothing to prepare".into()))?;
                    artifact = Some(self.rt.prepare(&self.part, resolved)?);
                    Ok(())
                }
                Op::Commit {
                    slot,
                    version,
                    artifact: a,
                    env,
                } => {
                    record.set("live", slot.to_string());
                    record.set("since", bookkeeping::utc_now());
                    record.set("by", bookkeeping::actor());
                    record.set("action", self.action.clone());
                    record.set_slot(*slot, "version", version.clone());
                    record.set_slot(*slot, "artifact", resolve_artifact(a, &artifact));
                    record.set_slot(*slot, "env", env.join(" "));
                    if !self.dry() {
                        state::save(self.rt.state_dir(), self.part.name, &record)?;
                    }
                    Ok(())
                }
                Op::StopSlot { slot } => {
                    if let Err(err) = self.rt.stop_slot(&self.part, *slot) {
                        say::warn(&format!(
                            "could not stop {}-{slot}; stop it by hand: {err:#}",
                            self.part.name
                        ));
                    }
                    Ok(())
                }
                op => self.step(plan, op, &artifact),
            });
            if let Err(err) = result {
                return Err(self.fail(plan, i, err));
            }
        }
        self.plan_audit(plan, "ok", None);
        let (p, f, fv, t, tv) = (
            self.part.name,
            plan.from,
            &plan.from_version,
            plan.to,
            &plan.to_version,
        );
        if self.dry() {
            println!("dry run: {p} would go from {f}@{fv} to {t}@{tv}; nothing was changed");
        } else {
            let secs = self.t0.elapsed().as_secs();
            say::log(&format!("{p}: {f}@{fv} -> {t}@{tv} in {secs}s; {f} is stopped and kept: scripts/blue-green rollback {p}"));
        }
        Ok(())
    }

    /// The steps that are the same in a plan and its undo.
    fn step(&self, plan: &Plan, op: &Op, artifact: &Option<String>) -> Result<(), Error> {
        let (rt, part, name) = (self.rt, &self.part, self.part.name);
        match op {
            Op::Hook { name: hook, command } => self.hook(plan, hook, command),
            Op::StopStale { slot, .. } => {
                say::warn(&op.describe(name));
                Ok(rt.stop_slot(part, *slot)?)
            }
            Op::Reuse { .. } => {
                say::log(&op.describe(name));
                Ok(())
            }
            Op::StartSlot { slot, version, artifact: a, env } => {
                Ok(rt.start_slot(part, *slot, version, &resolve_artifact(a, artifact), env)?)
            }
            Op::WaitReady { slot, passes, timeout_s } => self.wait_ready(op, *slot, *passes, *timeout_s),
            Op::SmokeDirect { slot, want } => self.smoke(op, *slot, want),
            Op::CheckUpstream { slot } => rt.check_upstream(part, *slot).map_err(|err| {
                Error::Failed(format!("nginx's config has no upstream for {name} -> {slot} ({err:#}); nothing was switched"))
            }),
            Op::SetMarker { slot } => {
                rt.set_marker(part, *slot).map_err(|err| Error::Failed(format!("nginx's marker for {name} could not be switched to {slot}: {err:#}")))?;
                if !self.dry() {
                    // Each nginx worker looks the marker up again within MARKER_CACHE.
                    let wait = crate::stack::nginx::MARKER_CACHE + std::time::Duration::from_millis(200);
                    say::log(&format!("nginx sends {name} to {slot} (marker switched; no reload); {} ms for every worker to see it", wait.as_millis()));
                    std::thread::sleep(wait);
                }
                Ok(())
            }
            Op::Confirm { want, passes, timeout_s } => self.confirm(op, want, *passes, *timeout_s),
            Op::Prepare { .. } | Op::Commit { .. } | Op::StopSlot { .. } => Ok(()),
        }
    }

    fn hook(&self, plan: &Plan, name: &str, command: &str) -> Result<(), Error> {
        let (from, to) = (plan.from.to_string(), plan.to.to_string());
        if self.dry() {
            println!("+ ({name} hook) {command}");
            return Ok(());
        }
        say::log(&format!("running the {name} hook: {command}"));
        let mut cmd = std::process::Command::new("timeout");
        cmd.arg(self.opts.hook_timeout.to_string())
            .args(["bash", "-c", command])
            .current_dir(self.rt.root());
        cmd.env("MALL_BG_ACTION", &self.action)
            .env("MALL_BG_PART", self.part.name);
        cmd.env("MALL_BG_VERSION", &plan.to_version)
            .env("MALL_BG_SLOT", to);
        cmd.env("MALL_BG_PREVIOUS_SLOT", from)
            .env("MALL_BG_PREVIOUS_VERSION", &plan.from_version);
        cmd.env("MALL_BG_RUNTIME", self.rt.name())
            .env("MALL_BG_URL", self.rt.nginx_url());
        let ok = crate::shell::status_of(cmd)?;
        match (ok, name) {
            (true, _) => Ok(()),
            (false, "pre-deploy") => Err(Error::Failed(
                "the pre-deploy command failed; nothing was changed".into(),
            )),
            (false, _) => Err(Error::Failed("the post-switch smoke command failed".into())),
        }
    }

    /// After step `failed` failed: the undo, the audit line, the messages; the error.
    fn fail(&self, plan: &Plan, failed: usize, err: Error) -> Error {
        let reason = format!("{err:#}");
        let stage = plan.steps[failed].stage.to_string();
        let undo = plan::undo(plan, failed);
        let mut outcome = undo.outcome;
        let name = self.part.name;
        if !undo.switch_back.is_empty() {
            say::warn(&format!("switching {name} back to {}", plan.from));
            if undo
                .switch_back
                .iter()
                .any(|op| self.step(plan, op, &None).is_err())
            {
                outcome = Outcome::SwitchBackFailed;
                say::warn(&format!("could not confirm the switch back to {name}-{}: see docs/deploy.md (a deploy failed halfway)", plan.from));
            }
        }
        if let (Some(Op::StopSlot { slot }), false) =
            (&undo.stop_new, outcome == Outcome::SwitchBackFailed)
        {
            if let Err(e) = self.rt.stop_slot(&self.part, *slot) {
                say::warn(&format!("could not stop {name}-{slot}: {e:#}"));
            }
        }
        self.plan_audit(plan, &outcome.to_string(), Some((&stage, &reason)));
        let words = outcome.to_string().replacen('_', " ", 1);
        say::warn(&format!(
            "{} of {name} {words} at stage {stage}: {reason}",
            self.action
        ));
        if outcome == Outcome::SwitchedBack {
            say::warn(&format!(
                "{name}-{} ({}) serves again",
                plan.from, plan.from_version
            ));
        }
        match (err, outcome) {
            (Error::Interrupted, _) => Error::Interrupted,
            (_, Outcome::Ok) => {
                Error::Failed(format!("{reason} (the new version is live and recorded)"))
            }
            _ => Error::Failed(reason),
        }
    }
}

fn resolve_artifact(a: &Artifact, prepared: &Option<String>) -> String {
    match a {
        Artifact::Recorded(path) => path.clone(),
        Artifact::Prepared => prepared.clone().unwrap_or_default(),
    }
}

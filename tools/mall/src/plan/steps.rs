//! The plan's vocabulary: stages, steps, what is observed, how an action ends.

use std::fmt;

use crate::parts::Slot;

/// Why a step runs; the audit log's `stage` of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Observe,
    Prepare,
    PreDeploy,
    Start,
    Ready,
    Smoke,
    Switch,
    Confirm,
    PostSmoke,
    Commit,
    StopOld,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Observe => "observe",
            Stage::Prepare => "prepare",
            Stage::PreDeploy => "pre_deploy",
            Stage::Start => "start",
            Stage::Ready => "ready",
            Stage::Smoke => "smoke",
            Stage::Switch => "switch",
            Stage::Confirm => "confirm",
            Stage::PostSmoke => "post_smoke",
            Stage::Commit => "commit",
            Stage::StopOld => "stop_old",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Deploy,
    Rollback,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Deploy => "deploy",
            Action::Rollback => "rollback",
        })
    }
}

/// What the new slot runs: the artifact the prepare step makes (a deploy), or the one
/// recorded for the slot (a rollback).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Artifact {
    Prepared,
    Recorded(String),
}

/// One thing to do. Slots are the part's; versions and `X-Served-By` values are spelled out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// local: snapshot the build as the version's release; compose: pull the image.
    Prepare {
        version: String,
    },
    /// `bash -c` a hook (`--pre-deploy`, `--smoke`) in the repository root.
    Hook {
        name: &'static str,
        command: String,
    },
    /// The idle slot is running (a killed deploy, a stack restart): stop it first.
    StopStale {
        slot: Slot,
        seen: String,
    },
    /// A rollback whose slot still runs the wanted version uses it as it is.
    Reuse {
        slot: Slot,
    },
    StartSlot {
        slot: Slot,
        version: String,
        artifact: Artifact,
        env: Vec<String>,
    },
    WaitReady {
        slot: Slot,
        passes: u32,
        timeout_s: u64,
    },
    SmokeDirect {
        slot: Slot,
        want: String,
    },
    /// nginx's config has the slot's upstream (a switch changes no config).
    CheckUpstream {
        slot: Slot,
    },
    /// The switch: the part's marker (`upstreams/<part>.green`) set for the slot.
    SetMarker {
        slot: Slot,
    },
    Confirm {
        want: String,
        passes: u32,
        timeout_s: u64,
    },
    /// The record says the new slot is live (and what a rollback restores).
    Commit {
        slot: Slot,
        version: String,
        artifact: Artifact,
        env: Vec<String>,
    },
    /// Stop a slot gracefully; kept (its binary or image) for a rollback.
    StopSlot {
        slot: Slot,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub stage: Stage,
    pub op: Op,
}

/// The options that shape a switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub ready_passes: u32,
    pub ready_timeout_s: u64,
    pub confirm_passes: u32,
    pub confirm_timeout_s: u64,
    pub pre_deploy: Option<String>,
    pub smoke: Option<String>,
}

/// What runs before the action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub live: Slot,
    pub live_version: String,
    /// `None`: the idle slot is stopped; `Some(x)`: it runs and answers `X-Served-By: x`
    /// (empty when it does not answer).
    pub idle_running: Option<String>,
}

/// A deploy or rollback of one part, from one slot to the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub action: Action,
    pub part: String,
    pub from: Slot,
    pub from_version: String,
    pub to: Slot,
    pub to_version: String,
    pub steps: Vec<Step>,
}

/// A deploy: nothing to do, or a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    AlreadyLive,
    Switch(Plan),
}

/// How an action ended (the audit log's `outcome`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    SwitchedBack,
    SwitchBackFailed,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::SwitchedBack => "switched_back",
            Outcome::SwitchBackFailed => "switch_back_failed",
        })
    }
}

/// What to do after a step failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undo {
    /// The outcome when the steps below succeed.
    pub outcome: Outcome,
    /// nginx pointed back at the old slot and confirmed; when one of these fails the
    /// outcome is `SwitchBackFailed` and the new slot is left running (nothing may be
    /// served from a stopped slot).
    pub switch_back: Vec<Op>,
    /// The new slot stopped, when it was started.
    pub stop_new: Option<Op>,
}

// === impl Op ===

impl Op {
    /// What a step waits for or checks, in words: the progress line, and in a dry run the
    /// line in parentheses (commands print themselves).
    pub fn describe(&self, part: &str) -> String {
        match self {
            Op::WaitReady { slot, passes, timeout_s } => format!(
                "wait for {passes} consecutive /ready passes of {part}-{slot}, deadline {timeout_s}s"
            ),
            Op::SmokeDirect { slot, want } => format!(
                "smoke-test {part}-{slot} directly: /health and /ready answer 200, X-Served-By {want}"
            ),
            Op::Confirm { want, passes, timeout_s } => format!(
                "confirm through nginx /_slot/{part}: X-Served-By {want}, {passes} times in a row, deadline {timeout_s}s"
            ),
            Op::Prepare { version } => format!("prepare {part} {version}"),
            Op::Hook { name, command } => format!("({name} hook) {command}"),
            Op::StopStale { slot, seen } => format!(
                "the idle slot {part}-{slot} is running ({}); stopping it first",
                if seen.is_empty() { "no answer" } else { seen }
            ),
            Op::Reuse { slot } => format!("{part}-{slot} still runs the version; reusing it"),
            Op::StartSlot { slot, version, .. } => format!("start {part}-{slot} with {version}"),
            Op::CheckUpstream { slot } => format!("check nginx has the upstream of {part}-{slot}"),
            Op::SetMarker { slot } => format!("switch nginx's {part} traffic to {slot}"),
            Op::Commit { slot, version, .. } => format!("record {part} {slot}@{version} as live"),
            Op::StopSlot { slot } => format!("stop {part}-{slot}"),
        }
    }
}

//! Blue/green's decisions, as data (docs/deploy.md "How a deploy runs"): from what runs and
//! what is recorded, the ordered steps of a deploy or rollback, and for a failure at any
//! step, what puts things back. No I/O here; `exec` runs the steps through a `Runtime`.

mod record;
mod steps;
#[cfg(test)]
mod tests;

pub use record::{reconcile, Reconciled, Record};
pub use steps::{
    Action, Artifact, Decision, Observed, Op, Options, Outcome, Plan, Stage, Step, Undo,
};

use crate::parts::served_as;

/// `deploy <part> <version>`: the version already live is a no-op; otherwise prepare, the
/// pre-deploy hook, then the switch to the idle slot.
pub fn deploy(
    part: &str,
    seen: &Observed,
    version: &str,
    env: &[String],
    opts: &Options,
) -> Decision {
    if seen.live_version == version {
        return Decision::AlreadyLive;
    }
    let mut steps = vec![Step {
        stage: Stage::Prepare,
        op: Op::Prepare {
            version: version.to_owned(),
        },
    }];
    if let Some(command) = &opts.pre_deploy {
        steps.push(Step {
            stage: Stage::PreDeploy,
            op: Op::Hook {
                name: "pre-deploy",
                command: command.clone(),
            },
        });
    }
    let target = Target {
        version,
        artifact: Artifact::Prepared,
        env,
    };
    Decision::Switch(switch(Action::Deploy, part, seen, target, opts, steps))
}

/// `rollback <part>`: back to the idle slot with its recorded version, artifact and
/// environment; an error names what is missing.
pub fn rollback(
    part: &str,
    seen: &Observed,
    record: &Record,
    opts: &Options,
) -> Result<Plan, String> {
    let idle = seen.live.other();
    let version = record.slot(idle, "version");
    let artifact = record.slot(idle, "artifact");
    if version.is_empty() || artifact.is_empty() {
        return Err(format!(
            "nothing to roll back to: no earlier version of {part} is recorded"
        ));
    }
    let env: Vec<String> = record
        .slot(idle, "env")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let target = Target {
        version,
        artifact: Artifact::Recorded(artifact.to_owned()),
        env: &env,
    };
    Ok(switch(
        Action::Rollback,
        part,
        seen,
        target,
        opts,
        Vec::new(),
    ))
}

struct Target<'a> {
    version: &'a str,
    artifact: Artifact,
    env: &'a [String],
}

/// The common path of deploy and rollback: start, ready, smoke, switch, confirm, the
/// smoke hook, commit, stop the old slot.
fn switch(
    action: Action,
    part: &str,
    seen: &Observed,
    to: Target<'_>,
    opts: &Options,
    mut steps: Vec<Step>,
) -> Plan {
    let (from, slot) = (seen.live, seen.live.other());
    let want = served_as(part, slot, to.version);
    let mut push = |stage, op| steps.push(Step { stage, op });
    match &seen.idle_running {
        Some(got) if action == Action::Rollback && *got == want => {
            push(Stage::Start, Op::Reuse { slot })
        }
        running => {
            if let Some(got) = running {
                push(
                    Stage::Start,
                    Op::StopStale {
                        slot,
                        seen: got.clone(),
                    },
                );
            }
            let env = to.env.to_vec();
            let (version, artifact) = (to.version.to_owned(), to.artifact.clone());
            push(
                Stage::Start,
                Op::StartSlot {
                    slot,
                    version,
                    artifact,
                    env,
                },
            );
        }
    }
    push(
        Stage::Ready,
        Op::WaitReady {
            slot,
            passes: opts.ready_passes,
            timeout_s: opts.ready_timeout_s,
        },
    );
    push(
        Stage::Smoke,
        Op::SmokeDirect {
            slot,
            want: want.clone(),
        },
    );
    push(Stage::Switch, Op::CheckUpstream { slot });
    push(Stage::Switch, Op::SetMarker { slot });
    push(
        Stage::Confirm,
        Op::Confirm {
            want,
            passes: opts.confirm_passes,
            timeout_s: opts.confirm_timeout_s,
        },
    );
    if let Some(command) = &opts.smoke {
        push(
            Stage::PostSmoke,
            Op::Hook {
                name: "smoke",
                command: command.clone(),
            },
        );
    }
    let (version, artifact, env) = (to.version.to_owned(), to.artifact, to.env.to_vec());
    push(
        Stage::Commit,
        Op::Commit {
            slot,
            version,
            artifact,
            env,
        },
    );
    push(Stage::StopOld, Op::StopSlot { slot: from });
    Plan {
        action,
        part: part.to_owned(),
        from,
        from_version: seen.live_version.clone(),
        to: slot,
        to_version: to.version.to_owned(),
        steps,
    }
}

/// What puts things back after step `failed` (an index into `plan.steps`) failed: nothing
/// once the record was committed (the new version is live; a failed stop only warns);
/// nginx back to the old slot once the marker was touched; the new slot stopped once it
/// was started.
pub fn undo(plan: &Plan, failed: usize) -> Undo {
    let reached = |f: fn(&Op) -> bool| plan.steps.iter().take(failed + 1).any(|s| f(&s.op));
    let committed = plan
        .steps
        .iter()
        .take(failed)
        .any(|s| matches!(s.op, Op::Commit { .. }));
    if committed {
        return Undo {
            outcome: Outcome::Ok,
            switch_back: Vec::new(),
            stop_new: None,
        };
    }
    let started = reached(|op| matches!(op, Op::StartSlot { .. } | Op::Reuse { .. }));
    let switched = reached(|op| matches!(op, Op::SetMarker { .. }));
    let switch_back = if switched {
        let from = plan.from;
        vec![
            Op::CheckUpstream { slot: from },
            Op::SetMarker { slot: from },
            Op::Confirm {
                want: served_as(&plan.part, from, &plan.from_version),
                passes: confirm_passes(plan),
                timeout_s: confirm_timeout(plan),
            },
        ]
    } else {
        Vec::new()
    };
    Undo {
        outcome: if switched {
            Outcome::SwitchedBack
        } else {
            Outcome::Failed
        },
        switch_back,
        stop_new: started.then_some(Op::StopSlot { slot: plan.to }),
    }
}

fn confirm_passes(plan: &Plan) -> u32 {
    plan.steps
        .iter()
        .find_map(|s| match s.op {
            Op::Confirm { passes, .. } => Some(passes),
            _ => None,
        })
        .unwrap_or(1)
}

fn confirm_timeout(plan: &Plan) -> u64 {
    plan.steps
        .iter()
        .find_map(|s| match s.op {
            Op::Confirm { timeout_s, .. } => Some(timeout_s),
            _ => None,
        })
        .unwrap_or(20)
}

//! The plan, stage by stage: the exact steps of a deploy and a rollback, and what is put
//! back after a failure at each of them.

use super::*;
use crate::parts::Slot;

#[path = "rollback_tests.rs"]
mod rollback_tests;

fn opts() -> Options {
    Options {
        ready_passes: 3,
        ready_timeout_s: 60,
        confirm_passes: 3,
        confirm_timeout_s: 20,
        pre_deploy: None,
        smoke: None,
    }
}

fn blue_live(idle_running: Option<&str>) -> Observed {
    Observed {
        live: Slot::Blue,
        live_version: "v1".into(),
        idle_running: idle_running.map(str::to_owned),
    }
}

fn plan_of(decision: Decision) -> Plan {
    match decision {
        Decision::Switch(plan) => plan,
        Decision::AlreadyLive => panic!("expected a switch"),
    }
}

fn deploy_v2(opts: &Options) -> Plan {
    plan_of(deploy("product", &blue_live(None), "v2", &[], opts))
}

fn index_of(plan: &Plan, stage: Stage) -> usize {
    plan.steps.iter().position(|s| s.stage == stage).unwrap()
}

#[test]
fn deploy_starts_the_idle_slot_proves_it_switches_confirms_then_stops_the_old() {
    let plan = deploy_v2(&opts());
    let stages: Vec<(Stage, Op)> = plan.steps.iter().map(|s| (s.stage, s.op.clone())).collect();
    let want = "product-green@v2".to_owned();
    assert_eq!(
        stages,
        vec![
            (
                Stage::Prepare,
                Op::Prepare {
                    version: "v2".into()
                }
            ),
            (
                Stage::Start,
                Op::StartSlot {
                    slot: Slot::Green,
                    version: "v2".into(),
                    artifact: Artifact::Prepared,
                    env: vec![]
                }
            ),
            (
                Stage::Ready,
                Op::WaitReady {
                    slot: Slot::Green,
                    passes: 3,
                    timeout_s: 60
                }
            ),
            (
                Stage::Smoke,
                Op::SmokeDirect {
                    slot: Slot::Green,
                    want: want.clone()
                }
            ),
            (Stage::Switch, Op::CheckUpstream { slot: Slot::Green }),
            (Stage::Switch, Op::SetMarker { slot: Slot::Green }),
            (
                Stage::Confirm,
                Op::Confirm {
                    want,
                    passes: 3,
                    timeout_s: 20
                }
            ),
            (
                Stage::Commit,
                Op::Commit {
                    slot: Slot::Green,
                    version: "v2".into(),
                    artifact: Artifact::Prepared,
                    env: vec![]
                }
            ),
            (Stage::StopOld, Op::StopSlot { slot: Slot::Blue }),
        ]
    );
    assert_eq!(
        (plan.from, plan.from_version.as_str(), plan.to),
        (Slot::Blue, "v1", Slot::Green)
    );
}

#[test]
fn hooks_run_before_the_start_and_after_the_confirmation() {
    let o = Options {
        pre_deploy: Some("migrate".into()),
        smoke: Some("check".into()),
        ..opts()
    };
    let plan = deploy_v2(&o);
    assert_eq!(
        plan.steps[1],
        Step {
            stage: Stage::PreDeploy,
            op: Op::Hook {
                name: "pre-deploy",
                command: "migrate".into()
            }
        }
    );
    let post = index_of(&plan, Stage::PostSmoke);
    assert_eq!(
        plan.steps[post].op,
        Op::Hook {
            name: "smoke",
            command: "check".into()
        }
    );
    assert_eq!(plan.steps[post - 1].stage, Stage::Confirm);
    assert_eq!(plan.steps[post + 1].stage, Stage::Commit);
}

#[test]
fn the_live_version_again_is_nothing_to_do() {
    assert_eq!(
        deploy("product", &blue_live(None), "v1", &[], &opts()),
        Decision::AlreadyLive
    );
}

#[test]
fn a_running_idle_slot_is_stopped_before_the_start() {
    let plan = plan_of(deploy(
        "product",
        &blue_live(Some("product-green@old")),
        "v2",
        &[],
        &opts(),
    ));
    assert_eq!(
        plan.steps[1].op,
        Op::StopStale {
            slot: Slot::Green,
            seen: "product-green@old".into()
        }
    );
    assert!(matches!(plan.steps[2].op, Op::StartSlot { .. }));
}

#[test]
fn a_failure_before_the_start_changes_nothing() {
    let o = Options {
        pre_deploy: Some("false".into()),
        ..opts()
    };
    let plan = deploy_v2(&o);
    for stage in [Stage::Prepare, Stage::PreDeploy] {
        let undo = undo(&plan, index_of(&plan, stage));
        assert_eq!(
            undo,
            Undo {
                outcome: Outcome::Failed,
                switch_back: vec![],
                stop_new: None
            },
            "{stage}"
        );
    }
}

#[test]
fn a_failure_from_start_to_the_upstream_check_stops_the_new_slot_only() {
    let plan = deploy_v2(&opts());
    for stage in [Stage::Start, Stage::Ready, Stage::Smoke, Stage::Switch] {
        let undo = undo(&plan, index_of(&plan, stage));
        assert_eq!(
            undo,
            Undo {
                outcome: Outcome::Failed,
                switch_back: vec![],
                stop_new: Some(Op::StopSlot { slot: Slot::Green })
            },
            "{stage}"
        );
    }
}

#[test]
fn a_failure_once_the_marker_was_touched_switches_back_and_stops_the_new_slot() {
    let o = Options {
        smoke: Some("false".into()),
        ..opts()
    };
    let plan = deploy_v2(&o);
    let marker = plan
        .steps
        .iter()
        .position(|s| matches!(s.op, Op::SetMarker { .. }))
        .unwrap();
    for failed in [
        marker,
        index_of(&plan, Stage::Confirm),
        index_of(&plan, Stage::PostSmoke),
        index_of(&plan, Stage::Commit),
    ] {
        let undo = undo(&plan, failed);
        assert_eq!(undo.outcome, Outcome::SwitchedBack);
        assert_eq!(
            undo.switch_back,
            vec![
                Op::CheckUpstream { slot: Slot::Blue },
                Op::SetMarker { slot: Slot::Blue },
                Op::Confirm {
                    want: "product-blue@v1".into(),
                    passes: 3,
                    timeout_s: 20
                },
            ]
        );
        assert_eq!(undo.stop_new, Some(Op::StopSlot { slot: Slot::Green }));
    }
}

#[test]
fn a_failure_after_the_commit_leaves_the_new_version_live() {
    let plan = deploy_v2(&opts());
    let undo = undo(&plan, index_of(&plan, Stage::StopOld));
    assert_eq!(
        undo,
        Undo {
            outcome: Outcome::Ok,
            switch_back: vec![],
            stop_new: None
        }
    );
}

#[test]
fn the_dry_run_words_for_waits_and_checks() {
    let plan = deploy_v2(&opts());
    let words: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| {
            matches!(
                s.op,
                Op::WaitReady { .. } | Op::SmokeDirect { .. } | Op::Confirm { .. }
            )
        })
        .map(|s| s.op.describe("product"))
        .collect();
    assert_eq!(
        words,
        vec![
            "wait for 3 consecutive /ready passes of product-green, deadline 60s",
            "smoke-test product-green directly: /health and /ready answer 200, X-Served-By product-green@v2",
            "confirm through nginx /_slot/product: X-Served-By product-green@v2, 3 times in a row, deadline 20s",
        ]
    );
}

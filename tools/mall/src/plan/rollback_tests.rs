//! Rollbacks: the recorded slot, artifact and environment, reused or restarted.

use super::*;

fn recorded() -> Record {
    Record::parse(
        "live=green\ngreen_version=v2\ngreen_artifact=/r/v2/p\nblue_version=v1\nblue_artifact=/r/v1/p\nblue_env=A=1 B=2\n",
    )
}

fn green_live(idle_running: Option<&str>) -> Observed {
    Observed {
        live: Slot::Green,
        live_version: "v2".into(),
        idle_running: idle_running.map(str::to_owned),
    }
}

#[test]
fn rollback_restarts_the_recorded_slot_with_its_artifact_and_environment() {
    let plan = rollback("product", &green_live(None), &recorded(), &opts()).unwrap();
    assert_eq!(
        (plan.action, plan.from, plan.to, plan.to_version.as_str()),
        (Action::Rollback, Slot::Green, Slot::Blue, "v1")
    );
    let env = vec!["A=1".to_owned(), "B=2".to_owned()];
    let artifact = Artifact::Recorded("/r/v1/p".into());
    assert_eq!(
        plan.steps[0],
        Step {
            stage: Stage::Start,
            op: Op::StartSlot {
                slot: Slot::Blue,
                version: "v1".into(),
                artifact: artifact.clone(),
                env: env.clone()
            }
        }
    );
    assert!(plan.steps.iter().all(|s| !matches!(
        s.op,
        Op::Prepare { .. }
            | Op::Hook {
                name: "pre-deploy",
                ..
            }
    )));
    let commit = &plan.steps[index_of(&plan, Stage::Commit)].op;
    assert_eq!(
        *commit,
        Op::Commit {
            slot: Slot::Blue,
            version: "v1".into(),
            artifact,
            env
        }
    );
    assert_eq!(
        plan.steps.last().unwrap().op,
        Op::StopSlot { slot: Slot::Green }
    );
}

#[test]
fn rollback_reuses_a_slot_that_still_runs_the_version_and_stops_it_on_failure() {
    let plan = rollback(
        "product",
        &green_live(Some("product-blue@v1")),
        &recorded(),
        &opts(),
    )
    .unwrap();
    assert_eq!(plan.steps[0].op, Op::Reuse { slot: Slot::Blue });
    let undo = undo(&plan, index_of(&plan, Stage::Ready));
    assert_eq!(undo.stop_new, Some(Op::StopSlot { slot: Slot::Blue }));
    let other = rollback(
        "product",
        &green_live(Some("product-blue@v9")),
        &recorded(),
        &opts(),
    )
    .unwrap();
    assert!(matches!(other.steps[0].op, Op::StopStale { .. }));
}

#[test]
fn rollback_without_a_recorded_target_is_refused() {
    let err = rollback("product", &blue_live(None), &Record::default(), &opts()).unwrap_err();
    assert!(err.contains("nothing to roll back to"), "{err}");
}

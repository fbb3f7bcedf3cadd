//! The kubernetes runtime's commands, as `--dry-run` prints them, and the kubectl sequence
//! a deploy's plan (the same pure plan as local and compose) becomes.

use super::*;
use crate::plan::{self, Decision, Observed, Op, Options, Plan, Record};
use crate::runtime::Runtime;

fn k8s() -> Kubernetes {
    Kubernetes {
        root: "/r".into(),
        kubectl: argv(&["kubectl", "--namespace", "mall"]),
        image_repo: "ecr/mall".into(),
        replicas: None,
        state_dir: "/s".into(),
        url: "http://127.0.0.1:8080".into(),
        runner: Runner { dry_run: true },
    }
}

const K: &str = "kubectl --namespace mall";

fn product() -> Part {
    Part::parse("product").unwrap()
}

/// The words joined by spaces (unquoted: easier to read here; quote_line is shell's).
fn lines(cmds: &[Argv]) -> Vec<String> {
    cmds.iter().map(|c| c.join(" ")).collect()
}

/// The commands one step of a plan runs on this runtime (exec/mod.rs's mapping of ops to
/// runtime calls; polled steps once).
fn commands(k: &Kubernetes, part: &Part, op: &Op) -> Vec<Argv> {
    match op {
        Op::StartSlot { slot, version, .. } => {
            let image = format!("{}/{}:{version}", k.image_repo, part.binary);
            k.start_cmds(part, *slot, &image, version, 3)
        }
        Op::WaitReady { slot, .. } => vec![
            k.rollout_cmd(part, *slot),
            k.curl_cmd(
                &slot_name(part, *slot),
                part.name,
                &Kubernetes::slot_url("/ready"),
                false,
            ),
        ],
        Op::SmokeDirect { slot, .. } => vec![k.curl_cmd(
            &slot_name(part, *slot),
            part.name,
            &Kubernetes::slot_url("/health"),
            true,
        )],
        Op::CheckUpstream { slot } => vec![k.upstream_check_cmd(part, *slot)],
        Op::SetMarker { slot } => vec![k.switch_cmd(part, *slot)],
        Op::Confirm { .. } => {
            vec![k.curl_cmd("edge", "edge", &Kubernetes::edge_slot_url(part), true)]
        }
        Op::StopSlot { slot } | Op::StopStale { slot, .. } => vec![k.stop_cmd(part, *slot)],
        Op::Prepare { .. } | Op::Hook { .. } | Op::Reuse { .. } | Op::Commit { .. } => vec![],
    }
}

fn deploy_plan() -> Plan {
    let opts = Options {
        ready_passes: 3,
        ready_timeout_s: 180,
        confirm_passes: 3,
        confirm_timeout_s: 20,
        pre_deploy: None,
        smoke: None,
    };
    let seen = Observed {
        live: Slot::Blue,
        live_version: "v1".into(),
        idle_running: None,
    };
    match plan::deploy("product", &seen, "3f2c1e0", &[], &opts) {
        Decision::Switch(plan) => plan,
        Decision::AlreadyLive => panic!("expected a switch"),
    }
}

#[test]
fn a_deploy_scales_up_waits_switches_the_selector_confirms_then_scales_down() {
    let k = k8s();
    let cmds: Vec<Argv> = deploy_plan()
        .steps
        .iter()
        .flat_map(|s| commands(&k, &product(), &s.op))
        .collect();
    let want = [
        format!("{K} scale deployment/product-green --replicas=0"),
        format!("{K} set image deployment/product-green product=ecr/mall/product-service:3f2c1e0"),
        format!("{K} set env deployment/product-green -c product SERVICE_VERSION=3f2c1e0"),
        format!("{K} label deployment/product-green --overwrite app.kubernetes.io/version=3f2c1e0"),
        format!("{K} scale deployment/product-green --replicas=3"),
        format!("{K} rollout status deployment/product-green --timeout=2s"),
        format!("{K} exec deployment/product-green -c product -- curl -s -o /dev/null --max-time 3 -w %{{http_code}} http://127.0.0.1:8080/ready"),
        format!("{K} exec deployment/product-green -c product -- curl -s -o /dev/null --max-time 3 -D - http://127.0.0.1:8080/health"),
        format!("{K} get service/product deployment/product-green -o name"),
        format!(r#"{K} patch service/product --type=strategic -p {{"spec":{{"selector":{{"mall/slot":"green"}}}}}}"#),
        format!("{K} exec deployment/edge -c edge -- curl -s -o /dev/null --max-time 3 -D - http://127.0.0.1:8081/_slot/product"),
        format!("{K} scale deployment/product-blue --replicas=0"),
    ];
    assert_eq!(lines(&cmds), want);
}

#[test]
fn a_failure_after_the_switch_patches_the_selector_back_and_scales_the_new_slot_down() {
    let k = k8s();
    let plan = deploy_plan();
    let confirm = plan
        .steps
        .iter()
        .position(|s| matches!(s.op, Op::Confirm { .. }))
        .unwrap();
    let undo = plan::undo(&plan, confirm);
    let mut cmds: Vec<Argv> = undo
        .switch_back
        .iter()
        .flat_map(|op| commands(&k, &product(), op))
        .collect();
    cmds.extend(
        undo.stop_new
            .iter()
            .flat_map(|op| commands(&k, &product(), op)),
    );
    let text = lines(&cmds);
    assert_eq!(
        text[0],
        format!("{K} get service/product deployment/product-blue -o name")
    );
    assert!(text[1].contains(r#"{"mall/slot":"blue"}"#), "{text:?}");
    assert_eq!(
        text.last().unwrap(),
        &format!("{K} scale deployment/product-green --replicas=0")
    );
}

#[test]
fn the_live_slot_is_read_from_the_services_selector() {
    let k = k8s();
    assert_eq!(
        k.live_cmd(&Part::parse("auth-proxy").unwrap()).join(" "),
        format!(
            r#"{K} get service/auth-proxy -o go-template={{{{index .spec.selector "mall/slot"}}}}"#
        )
    );
    assert_eq!(
        k.image_cmd(&product(), Slot::Blue).join(" "),
        format!("{K} get deployment/product-blue -o jsonpath={{.spec.template.spec.containers[0].image}}")
    );
}

#[test]
fn settings_come_from_the_environment() {
    let env = |k: &str| match k {
        "MALL_K8S_NAMESPACE" => Some("shop".to_owned()),
        "MALL_K8S_CONTEXT" => Some("eks-prod".to_owned()),
        "MALL_K8S_REPLICAS" => Some("4".to_owned()),
        "MALL_BG_STATE_DIR" => Some("/st".to_owned()),
        _ => None,
    };
    let k = Kubernetes::from_env(Path::new("/r"), &env, Runner { dry_run: true }).unwrap();
    assert_eq!(
        k.cmd(&["get", "pods"]).join(" "),
        "kubectl --context eks-prod --namespace shop get pods"
    );
    assert_eq!(k.replicas, Some(4));
    assert_eq!(k.state_dir, PathBuf::from("/st"));
    let bad = |k: &str| (k == "MALL_K8S_REPLICAS").then(|| "many".to_owned());
    assert!(Kubernetes::from_env(Path::new("/r"), &bad, Runner { dry_run: true }).is_err());
}

#[test]
fn a_dry_run_reads_the_live_slot_from_the_record() {
    let mut record = Record::default();
    record.set("live", "green");
    assert_eq!(k8s().live_slot(&product(), &record).unwrap(), Slot::Green);
}

#[path = "fake_tests.rs"]
mod fake_tests;

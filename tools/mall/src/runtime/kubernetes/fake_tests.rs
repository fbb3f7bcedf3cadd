//! The runtime's steps run for real against a stand-in kubectl (a script keeping a slot's
//! replicas, image, version and the Service's selector in files, answering `exec … curl` as
//! the slots and the edge would): the commands run, their answers are parsed.

use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::plan::Record;
use crate::runtime::Runtime;

const FAKE: &str = r#"#!/bin/bash
s=STATE
shift 2
echo "$*" >>"$s/calls"
case "$1" in
  get)
    case "$2 $*" in
      service/*) cat "$s/live" ;;
      *replicas*) cat "$s/replicas-${2#deployment/}" 2>/dev/null || echo 0 ;;
      *image*) cat "$s/image-${2#deployment/}" ;;
      *) echo "deployment.apps/${2#deployment/}" ;;
    esac ;;
  scale) echo "${3#--replicas=}" >"$s/replicas-${2#deployment/}" ;;
  set)
    case "$2" in
      image) echo "${4#*=}" >"$s/image-${3#deployment/}" ;;
      env) echo "${6#SERVICE_VERSION=}" >"$s/version-${3#deployment/}" ;;
    esac ;;
  label|rollout) ;;
  patch) grep -o 'green\|blue' <<<"$5" >"$s/live" ;;
  exec)
    d=${2#deployment/}
    if [[ "$*" == *"%{http_code}"* ]]; then printf 200; exit 0; fi
    [ "$d" = edge ] && d="product-$(cat "$s/live")"
    printf 'HTTP/1.1 200 OK\r\nX-Served-By: %s@%s\r\n\r\n' "$d" "$(cat "$s/version-$d")" ;;
  *) exit 1 ;;
esac
"#;

fn fake(name: &str) -> (Kubernetes, PathBuf) {
    let dir = std::env::temp_dir().join(format!("mall-fake-kubectl-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("kubectl");
    std::fs::write(&script, FAKE.replace("STATE", &dir.display().to_string())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (file, text) in [
        ("live", "blue"),
        ("version-product-blue", "v1"),
        ("replicas-product-blue", "3"),
    ] {
        std::fs::write(dir.join(file), format!("{text}\n")).unwrap();
    }
    let k = Kubernetes {
        root: "/r".into(),
        kubectl: vec![
            script.display().to_string(),
            "--namespace".into(),
            "mall".into(),
        ],
        image_repo: "ecr/mall".into(),
        replicas: None,
        state_dir: dir.join("state"),
        url: "http://127.0.0.1:8080".into(),
        runner: Runner { dry_run: false },
    };
    (k, dir)
}

#[test]
fn a_switch_runs_against_kubectl_and_reads_its_answers() {
    let (k, dir) = fake("switch");
    let p = Part::parse("product").unwrap();
    k.check_stack().unwrap();
    assert_eq!(k.live_slot(&p, &Record::default()).unwrap(), Slot::Blue);
    assert!(!k.slot_running(&p, Slot::Green));

    k.start_slot(&p, Slot::Green, "v2", "ecr/mall/product-service:v2", &[])
        .unwrap();
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .unwrap()
            .trim()
            .to_owned()
    };
    assert_eq!(
        read("replicas-product-green"),
        "3",
        "as many as the live slot"
    );
    assert_eq!(read("image-product-green"), "ecr/mall/product-service:v2");
    assert!(k.slot_running(&p, Slot::Green));
    assert_eq!(k.slot_status(&p, Slot::Green, "/ready"), 200);
    assert_eq!(
        k.served_by_slot(&p, Slot::Green).as_deref(),
        Some("product-green@v2")
    );
    assert_eq!(k.served_by_nginx(&p).as_deref(), Some("product-blue@v1"));

    k.check_upstream(&p, Slot::Green).unwrap();
    k.set_marker(&p, Slot::Green).unwrap();
    assert_eq!(k.live_slot(&p, &Record::default()).unwrap(), Slot::Green);
    assert_eq!(k.served_by_nginx(&p).as_deref(), Some("product-green@v2"));

    k.stop_slot(&p, Slot::Blue).unwrap();
    assert!(!k.slot_running(&p, Slot::Blue));
    assert_eq!(
        k.snapshot_live(&p, Slot::Green, "v2").unwrap().as_deref(),
        Some("ecr/mall/product-service:v2")
    );
    assert!(
        k.start_slot(&p, Slot::Blue, "v3", "x:v3", &["A=b".into()])
            .is_err(),
        "--env is refused"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_kubectl_that_fails_fails_the_step() {
    let (mut k, dir) = fake("fails");
    k.kubectl = vec!["false".into()];
    let p = Part::parse("product").unwrap();
    assert!(k.check_stack().is_err());
    assert!(k.live_slot(&p, &Record::default()).is_err());
    assert!(k.set_marker(&p, Slot::Green).is_err());
    assert_eq!(k.slot_status(&p, Slot::Green, "/ready"), 0);
    assert_eq!(k.served_by_nginx(&p), None);
    let _ = std::fs::remove_dir_all(&dir);
}

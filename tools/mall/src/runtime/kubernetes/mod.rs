//! The `kubernetes` runtime: the Helm chart deploy/helm/mall on a cluster (docs/kubernetes.md),
//! driven with `kubectl`. The plan is the same pure plan as local and compose; only its
//! steps are these commands:
//!
//! | step | kubectl |
//! |---|---|
//! | start | `set image` and `set env SERVICE_VERSION` on the idle slot's Deployment (at 0 replicas: nothing starts yet), then `scale` it to the live slot's replicas |
//! | ready | `rollout status` (every replica ready), then the slot's `/ready` through `exec` |
//! | smoke | `/health`, `/ready`, `X-Served-By` of the slot, through `exec` |
//! | switch | the Service's selector `mall/slot` patched to the new slot (`check_upstream`: the Service and the slot's Deployment exist) |
//! | confirm | the edge's `/_slot/<part>` (internal listener) through `exec`: `X-Served-By` is the new slot's |
//! | stop | `scale --replicas=0` of the old slot: its pods get SIGTERM, the services finish in-flight requests, the Deployment (its image) stays for a rollback |
//!
//! A version is an image tag, as on compose (`${MALL_IMAGE_REPO}/<binary>:<tag>` or a full
//! reference). Settings: MALL_K8S_NAMESPACE (`mall`), MALL_K8S_CONTEXT (kubectl's current
//! one), MALL_BG_KUBECTL (`kubectl`), MALL_K8S_REPLICAS (the live slot's), MALL_K8S_URL (the
//! edge's public URL, for hooks), MALL_BG_STATE_DIR. The command builders are pure
//! (tests.rs; `--dry-run` prints them).

mod runtime;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use super::{Env, Resolved};
use crate::parts::{Part, Slot};
use crate::shell::{self, argv, Argv, Runner};
use crate::Error;

/// Every part listens on this port in its pod (mall.toml's [compose] container_port, the
/// chart's files/parts.yaml); the edge's internal listener on 8081.
const SLOT_PORT: u16 = 8080;
const EDGE_INTERNAL: u16 = 8081;
/// The label of the slot in pod templates and the Services' selectors.
pub const SLOT_LABEL: &str = "mall/slot";

#[derive(Debug)]
pub struct Kubernetes {
    pub(super) root: PathBuf,
    pub(super) kubectl: Argv,
    pub(super) image_repo: String,
    pub(super) replicas: Option<u32>,
    pub(super) state_dir: PathBuf,
    pub(super) url: String,
    pub(super) runner: Runner,
}

impl Kubernetes {
    pub fn from_env(root: &Path, env: Env<'_>, runner: Runner) -> Result<Self, Error> {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        let namespace = get("MALL_K8S_NAMESPACE").unwrap_or_else(|| "mall".into());
        let mut kubectl: Argv = get("MALL_BG_KUBECTL")
            .unwrap_or_else(|| "kubectl".into())
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if let Some(context) = get("MALL_K8S_CONTEXT") {
            kubectl.extend(["--context".into(), context]);
        }
        kubectl.extend(["--namespace".into(), namespace.clone()]);
        let replicas = match get("MALL_K8S_REPLICAS") {
            None => None,
            Some(n) => Some(n.parse().map_err(|_| {
                Error::Usage(format!("MALL_K8S_REPLICAS must be a number, not {n}"))
            })?),
        };
        if !runner.dry_run && !shell::have(&kubectl[0]) {
            return Err(Error::Failed(format!(
                "{} is not installed (MALL_BG_KUBECTL names the kubectl command)",
                kubectl[0]
            )));
        }
        let state = PathBuf::from(crate::ci::ctx::home())
            .join(".local/state/mall/kubernetes")
            .join(&namespace);
        Ok(Self {
            root: root.to_owned(),
            kubectl,
            image_repo: get("MALL_IMAGE_REPO").unwrap_or_else(|| "mall".into()),
            replicas,
            state_dir: super::state_dir(env, state),
            url: get("MALL_K8S_URL").unwrap_or_else(|| "http://127.0.0.1:8080".into()),
            runner,
        })
    }

    /// `kubectl [--context c] --namespace ns <words...>`.
    pub fn cmd(&self, words: &[&str]) -> Argv {
        let mut out = self.kubectl.clone();
        out.extend(argv(words));
        out
    }

    /// `kubectl exec deployment/<name> -c <container> -- <words...>` (one of its pods).
    pub fn exec(&self, deployment: &str, container: &str, words: &[&str]) -> Argv {
        let target = format!("deployment/{deployment}");
        let mut out = self.cmd(&["exec", &target, "-c", container, "--"]);
        out.extend(argv(words));
        out
    }

    /// The idle slot takes the image and version while it has no replica, then is scaled
    /// up: its pods start once, with the new version.
    pub fn start_cmds(
        &self,
        part: &Part,
        slot: Slot,
        image: &str,
        version: &str,
        replicas: u32,
    ) -> Vec<Argv> {
        let d = format!("deployment/{}", slot_name(part, slot));
        vec![
            self.cmd(&["scale", &d, "--replicas=0"]),
            self.cmd(&["set", "image", &d, &format!("{}={image}", part.name)]),
            self.cmd(&[
                "set",
                "env",
                &d,
                "-c",
                part.name,
                &format!("SERVICE_VERSION={version}"),
            ]),
            self.cmd(&[
                "label",
                &d,
                "--overwrite",
                &format!("app.kubernetes.io/version={version}"),
            ]),
            self.cmd(&["scale", &d, &format!("--replicas={replicas}")]),
        ]
    }

    /// Every replica of the slot updated and ready (a short wait: the plan polls).
    pub fn rollout_cmd(&self, part: &Part, slot: Slot) -> Argv {
        let d = format!("deployment/{}", slot_name(part, slot));
        self.cmd(&["rollout", "status", &d, "--timeout=2s"])
    }

    /// The replicas of a slot's Deployment (`.spec.replicas`).
    pub fn replicas_cmd(&self, part: &Part, slot: Slot) -> Argv {
        let d = format!("deployment/{}", slot_name(part, slot));
        self.cmd(&["get", &d, "-o", "jsonpath={.spec.replicas}"])
    }

    /// Ready replicas of a slot (empty when none).
    pub fn ready_replicas_cmd(&self, part: &Part, slot: Slot) -> Argv {
        let d = format!("deployment/{}", slot_name(part, slot));
        self.cmd(&["get", &d, "-o", "jsonpath={.status.readyReplicas}"])
    }

    /// SIGTERM to every pod of the slot (the services drain within SHUTDOWN_GRACE_SECS);
    /// the Deployment, and so its image, stays for a rollback.
    pub fn stop_cmd(&self, part: &Part, slot: Slot) -> Argv {
        let d = format!("deployment/{}", slot_name(part, slot));
        self.cmd(&["scale", &d, "--replicas=0"])
    }

    /// The Service and the slot's Deployment exist (the switch's precondition).
    pub fn upstream_check_cmd(&self, part: &Part, slot: Slot) -> Argv {
        let d = format!("deployment/{}", slot_name(part, slot));
        let s = format!("service/{}", part.name);
        self.cmd(&["get", &s, &d, "-o", "name"])
    }

    /// The switch: the Service's selector names the slot (a strategic merge of one key).
    pub fn switch_cmd(&self, part: &Part, slot: Slot) -> Argv {
        let s = format!("service/{}", part.name);
        let patch = format!(r#"{{"spec":{{"selector":{{"{SLOT_LABEL}":"{slot}"}}}}}}"#);
        self.cmd(&["patch", &s, "--type=strategic", "-p", &patch])
    }

    /// The slot the Service selects.
    pub fn live_cmd(&self, part: &Part) -> Argv {
        let s = format!("service/{}", part.name);
        let template = format!(r#"go-template={{{{index .spec.selector "{SLOT_LABEL}"}}}}"#);
        self.cmd(&["get", &s, "-o", &template])
    }

    /// The image a slot's Deployment runs.
    pub fn image_cmd(&self, part: &Part, slot: Slot) -> Argv {
        let d = format!("deployment/{}", slot_name(part, slot));
        self.cmd(&[
            "get",
            &d,
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])
    }

    /// The headers of `url` fetched inside one pod of the deployment (curl is in the images).
    pub fn curl_cmd(&self, deployment: &str, container: &str, url: &str, headers: bool) -> Argv {
        let mut words = vec!["curl", "-s", "-o", "/dev/null", "--max-time", "3"];
        if headers {
            words.extend(["-D", "-"]);
        } else {
            words.extend(["-w", "%{http_code}"]);
        }
        words.push(url);
        self.exec(deployment, container, &words)
    }

    fn slot_url(path: &str) -> String {
        format!("http://127.0.0.1:{SLOT_PORT}{path}")
    }

    fn edge_slot_url(part: &Part) -> String {
        format!("http://127.0.0.1:{EDGE_INTERNAL}/_slot/{}", part.name)
    }
}

/// `<part>-<slot>`: the slot's Deployment (the chart's templates/slots.yaml).
pub fn slot_name(part: &Part, slot: Slot) -> String {
    format!("{}-{slot}", part.name)
}

/// A version names an image as on compose: a tag of `${MALL_IMAGE_REPO}/<binary>` or a full
/// reference, never `latest`.
pub fn resolve(repo: &str, binary: &str, arg: &str) -> anyhow::Result<Resolved> {
    super::compose::resolve(repo, binary, arg)
}

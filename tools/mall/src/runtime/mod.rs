//! Where the stack runs. A `Runtime` only executes steps (start or stop a slot, probe it,
//! set nginx's marker, ...) and answers questions about what runs; every decision is in
//! `plan`. `local`: the processes of `scripts/dev up`; `compose`: compose/docker-compose.yml
//! on this Docker host; `kubernetes`: deploy/helm/mall on a cluster, through kubectl.

pub mod compose;

pub mod http;
pub mod kubernetes;
pub mod local;

use std::path::{Path, PathBuf};

use crate::parts::{Part, Slot};
use crate::plan::Record;
use crate::shell::Runner;

/// The environment a runtime reads its settings from (tests pass a map).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// What a deploy's argument names: the version label and, on compose, the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub version: String,
    pub image: Option<String>,
}

pub trait Runtime {
    fn name(&self) -> &'static str;
    fn runner(&self) -> Runner;
    /// The repository (hooks run there).
    fn root(&self) -> &Path;
    /// Lock, state and audit log.
    fn state_dir(&self) -> &Path;
    /// nginx's public URL (MALL_BG_URL for hooks).
    fn nginx_url(&self) -> String;
    /// Fails unless the stack runs (its nginx).
    fn check_stack(&self) -> anyhow::Result<()>;
    fn resolve(&self, part: &Part, arg: &str) -> anyhow::Result<Resolved>;
    /// The slot nginx sends the part's requests to (its marker).
    fn live_slot(&self, part: &Part, record: &Record) -> anyhow::Result<Slot>;
    /// `X-Served-By` of nginx's internal `/_slot/<part>` (None: no answer).
    fn served_by_nginx(&self, part: &Part) -> Option<String>;
    /// `X-Served-By` of the slot's own `/health`.
    fn served_by_slot(&self, part: &Part, slot: Slot) -> Option<String>;
    /// The HTTP status of the slot's path; 0 when nothing answers.
    fn slot_status(&self, part: &Part, slot: Slot, path: &str) -> u16;
    fn slot_running(&self, part: &Part, slot: Slot) -> bool;
    /// The end of the slot's log, for a failure report.
    fn slot_logs(&self, part: &Part, slot: Slot) -> String;
    /// Makes the version's artifact (local: a release snapshot; compose: pulls the image);
    /// returns it.
    fn prepare(&self, part: &Part, resolved: &Resolved) -> anyhow::Result<String>;
    /// What the running slot executes, kept for a rollback to it (None: it does not run).
    fn snapshot_live(
        &self,
        part: &Part,
        slot: Slot,
        version: &str,
    ) -> anyhow::Result<Option<String>>;
    /// Fails when a recorded artifact can no longer be started.
    fn check_artifact(&self, part: &Part, version: &str, artifact: &str) -> anyhow::Result<()>;
    fn start_slot(
        &self,
        part: &Part,
        slot: Slot,
        version: &str,
        artifact: &str,
        env: &[String],
    ) -> anyhow::Result<()>;
    /// Stops a slot gracefully (it finishes its in-flight requests); keeps it for rollback.
    fn stop_slot(&self, part: &Part, slot: Slot) -> anyhow::Result<()>;
    /// nginx's config has the slot's upstream.
    fn check_upstream(&self, part: &Part, slot: Slot) -> anyhow::Result<()>;
    /// The switch: the part's marker set for the slot (green: created; blue: removed).
    fn set_marker(&self, part: &Part, slot: Slot) -> anyhow::Result<()>;
}

/// The state directory: MALL_BG_STATE_DIR, else the runtime's default.
pub fn state_dir(env: Env<'_>, default: PathBuf) -> PathBuf {
    env("MALL_BG_STATE_DIR")
        .filter(|d| !d.is_empty())
        .map_or(default, PathBuf::from)
}

/// A number from the environment, or its default; a usage error names the variable.
pub fn env_number<T: std::str::FromStr>(
    env: Env<'_>,
    var: &str,
    default: T,
) -> Result<T, crate::Error> {
    match env(var).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| crate::Error::Usage(format!("{var} must be a number, not {v}"))),
    }
}

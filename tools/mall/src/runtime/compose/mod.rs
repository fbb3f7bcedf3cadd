//! The `compose` runtime: the stack of compose/docker-compose.yml on this Docker host (the
//! EC2 case). A version is an image tag: `deploy product 3f2c1e0` runs
//! `${MALL_IMAGE_REPO}/product-service:3f2c1e0` (or a full image reference given instead)
//! in the idle slot's container (product-green); the slot's `<PART>_<SLOT>_IMAGE` /
//! `_VERSION` pair is written into compose/.env, so a later `docker compose up` keeps what
//! was deployed. Probes and nginx's markers go through `docker compose exec` (only nginx
//! publishes a port); the markers live in nginx's `nginx-upstreams` volume.
//!
//! The commands are built by pure functions (tests.rs; `--dry-run` prints them); the
//! `Runtime` impl that runs them is in runtime.rs, the edge in edge.rs.

pub mod edge;
mod runtime;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::{Env, Resolved};
use crate::parts::{Part, Slot};
use crate::shell::{self, argv, Argv, Runner};
use crate::Error;

/// `sh -c` in the nginx container: the live slot (`blue` or `green`) of each part named as
/// an argument, one per line, from the switch's markers; exit 2 when the container has no
/// slot files (not the current compose file's nginx).
pub const LIVE_SLOTS_SCRIPT: &str = r#"test -f /etc/nginx/upstreams/select.inc || exit 2
for p in "$@"; do
    if test -e "/etc/nginx/upstreams/$p.green"; then echo green; else echo blue; fi
done"#;

/// Inside the containers every service listens on 8080, nginx's internal listener on 8081.
const SLOT_PORT: u16 = 8080;
const NGINX_INTERNAL: u16 = 8081;

#[derive(Debug)]
pub struct Compose {
    pub(super) root: PathBuf,
    pub(super) env_file: PathBuf,
    pub(super) compose: Argv,
    pub(super) image_repo: String,
    pub(super) state_dir: PathBuf,
    pub(super) http_port: String,
    pub(super) runner: Runner,
}

impl Compose {
    pub fn from_env(root: &Path, env: Env<'_>, runner: Runner) -> Result<Self, Error> {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        let file = get("MALL_COMPOSE_FILE")
            .map_or_else(|| root.join("compose/docker-compose.yml"), PathBuf::from);
        let env_file =
            get("MALL_COMPOSE_ENV_FILE").map_or_else(|| root.join("compose/.env"), PathBuf::from);
        let tool = get("MALL_BG_COMPOSE").unwrap_or_else(detect_compose);
        let mut compose: Argv = tool.split_whitespace().map(str::to_owned).collect();
        compose.extend([
            "-f".into(),
            file.display().to_string(),
            "--env-file".into(),
            env_file.display().to_string(),
        ]);
        if !file.is_file() {
            return Err(Error::Failed(format!(
                "no compose file at {} (MALL_COMPOSE_FILE)",
                file.display()
            )));
        }
        if !runner.dry_run {
            if !env_file.is_file() {
                return Err(Error::Failed(format!(
                    "no {}; copy compose/.env.example and fill it in (docs/deploy.md)",
                    env_file.display()
                )));
            }
            if !shell::have(&compose[0]) {
                return Err(Error::Failed(format!(
                    "{} is not installed (MALL_BG_COMPOSE names the compose command)",
                    compose[0]
                )));
            }
        }
        Ok(Self {
            root: root.to_owned(),
            env_file,
            compose,
            image_repo: get("MALL_IMAGE_REPO").unwrap_or_else(|| "mall".into()),
            state_dir: super::state_dir(env, PathBuf::from("/var/lib/mall/blue-green")),
            http_port: get("MALL_HTTP_PORT").unwrap_or_else(|| "80".into()),
            runner,
        })
    }

    /// `<compose> <words...>`.
    pub fn cmd(&self, words: &[&str]) -> Argv {
        let mut out = self.compose.clone();
        out.extend(argv(words));
        out
    }

    /// `<compose> exec -T <service> <words...>`.
    pub fn exec(&self, service: &str, words: &[&str]) -> Argv {
        let mut out = self.cmd(&["exec", "-T", service]);
        out.extend(argv(words));
        out
    }

    /// (Re)creates the slot's container from the image, without touching its dependencies
    /// or building anything.
    pub fn start_cmd(&self, part: &Part, slot: Slot, image: &str, version: &str) -> Argv {
        let mut out = vec![
            "env".to_owned(),
            format!("{}={image}", part.slot_var(slot, "IMAGE")),
            format!("{}={version}", part.slot_var(slot, "VERSION")),
        ];
        out.extend(self.cmd(&[
            "up",
            "-d",
            "--no-deps",
            "--no-build",
            "--force-recreate",
            &slot_service(part, slot),
        ]));
        out
    }

    /// SIGTERM, 30 s to drain, then SIGKILL; the container and its image stay.
    pub fn stop_cmd(&self, part: &Part, slot: Slot) -> Argv {
        self.cmd(&["stop", "-t", "30", &slot_service(part, slot)])
    }

    pub fn upstream_check_cmd(&self, part: &Part, slot: Slot) -> Argv {
        let want = format!("^upstream {}_{slot} {{", part.name.replace('-', "_"));
        self.exec(
            "nginx",
            &[
                "grep",
                "-q",
                &want,
                &format!("/etc/nginx/upstreams/{}.conf", part.name),
            ],
        )
    }

    /// The marker created (green; through a temp file and a rename) or removed (blue).
    pub fn marker_cmd(&self, part: &Part, slot: Slot) -> Argv {
        let script = match slot {
            Slot::Green => {
                r#"echo "live slot of $1: green" >"/etc/nginx/upstreams/.$1.green.tmp" && mv -f "/etc/nginx/upstreams/.$1.green.tmp" "/etc/nginx/upstreams/$1.green""#
            }
            Slot::Blue => r#"rm -f "/etc/nginx/upstreams/$1.green""#,
        };
        self.exec("nginx", &["sh", "-c", script, "sh", part.name])
    }

    fn container_running(&self, service: &str) -> bool {
        let Some(id) = shell::read(&self.cmd(&["ps", "-q", service])) else {
            return false;
        };
        let id = id.trim();
        !id.is_empty()
            && shell::read(&argv(&[
                "docker",
                "inspect",
                "-f",
                "{{.State.Running}}",
                id,
            ]))
            .is_some_and(|s| s.trim() == "true")
    }

    fn curl_header(&self, service: &str, url: &str) -> Option<String> {
        let out = shell::read(&self.exec(
            service,
            &[
                "curl",
                "-sS",
                "-o",
                "/dev/null",
                "-D",
                "-",
                "--max-time",
                "3",
                url,
            ],
        ))?;
        shell::header_value(&out, "x-served-by")
    }

    /// Writes `pairs` into the env file (replaced in place or appended), atomically.
    pub(super) fn env_file_set(&self, pairs: &[(String, String)]) -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let text = std::fs::read_to_string(&self.env_file)
            .with_context(|| format!("while reading {}", self.env_file.display()))?;
        let mode =
            std::fs::metadata(&self.env_file).map_or(0o600, |m| m.permissions().mode() & 0o777);
        crate::bookkeeping::write_atomically(&self.env_file, &env_file_text(&text, pairs), mode)
    }
}

/// `docker compose` when the plugin answers, else `docker-compose` (v1) when installed
/// (host::compose::compose_cmd); `docker compose` when neither, for the error to name.
fn detect_compose() -> String {
    crate::host::compose::compose_cmd().map_or_else(|| "docker compose".into(), |c| c.join(" "))
}

fn slot_service(part: &Part, slot: Slot) -> String {
    format!("{}-{slot}", part.name)
}

/// A bare tag means `<repo>/<binary>:<tag>`; a full reference keeps its registry and
/// repository, its tag (or digest) is the version.
pub fn resolve(repo: &str, binary: &str, arg: &str) -> anyhow::Result<Resolved> {
    if !arg.contains(['/', ':', '@']) {
        return Ok(Resolved {
            version: arg.to_owned(),
            image: Some(format!("{repo}/{binary}:{arg}")),
        });
    }
    let last = arg.rsplit('/').next().unwrap_or(arg);
    let version = if let Some((_, digest)) = arg.split_once("@sha256:") {
        format!("sha256-{}", digest.chars().take(12).collect::<String>())
    } else if let Some((_, tag)) = last.rsplit_once(':') {
        tag.to_owned()
    } else {
        bail!("image {arg} has no tag: name the version (the git SHA), never rely on latest");
    };
    Ok(Resolved {
        version,
        image: Some(arg.to_owned()),
    })
}

/// The env file's text with `pairs` set: existing lines replaced in place, new ones
/// appended; everything else kept.
pub fn env_file_text(text: &str, pairs: &[(String, String)]) -> String {
    let mut done = vec![false; pairs.len()];
    let mut out = String::new();
    for line in text.lines() {
        let name = line.split('=').next().unwrap_or(line);
        match pairs.iter().position(|(k, _)| k == name) {
            Some(i) => {
                out.push_str(&format!("{name}={}\n", pairs[i].1));
                done[i] = true;
            }
            None => out.push_str(&format!("{line}\n")),
        }
    }
    for (i, (k, v)) in pairs.iter().enumerate() {
        if !done[i] {
            out.push_str(&format!("{k}={v}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests;

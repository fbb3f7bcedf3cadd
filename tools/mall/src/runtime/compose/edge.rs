//! `edge <version>` (compose only): a new edge image (nginx's config and the storefront,
//! compose/edge/) installed beside the live release in a one-off container of the new image
//! (rendered, `nginx -t`), made `current` (a symlink replaced by a rename), checked again by
//! the running nginx and reloaded gracefully; when nginx rejects it, `current` goes back.

use super::{self as compose, Compose};
use crate::cli::{DeployRuntime, Opts};
use crate::commands::{begin, root};
use crate::exec::Flow;
use crate::parts::{check_version, Part};
use crate::runtime::Runtime;
use crate::shell::{self, Argv, Runner};
use crate::{say, signal, Error};

const CONF: &str = "/etc/nginx/live/current/nginx.conf";

impl Compose {
    /// The release nginx runs from (`current`'s target).
    fn edge_version(&self) -> String {
        if self.runner.dry_run {
            return "unknown".into();
        }
        shell::read(&self.exec("nginx", &["readlink", "/etc/nginx/live/current"]))
            .map(|t| t.trim().trim_start_matches("releases/").to_owned())
            .unwrap_or_default()
    }

    pub fn edge_install_cmd(&self, image: &str) -> Argv {
        let mut out = vec!["env".to_owned(), format!("EDGE_IMAGE={image}")];
        out.extend(self.cmd(&["run", "--rm", "--no-deps", "-T", "nginx", "install"]));
        out
    }

    pub fn edge_check_cmd(&self) -> Argv {
        self.exec("nginx", &["nginx", "-t", "-q", "-c", CONF])
    }

    pub fn edge_back_cmd(&self, previous: &str) -> Argv {
        let script = r#"ln -sfn "releases/$1" /etc/nginx/live/.current.back && mv -T /etc/nginx/live/.current.back /etc/nginx/live/current"#;
        self.exec("nginx", &["sh", "-c", script, "sh", previous])
    }

    pub fn edge_reload_cmd(&self) -> Argv {
        self.exec("nginx", &["nginx", "-s", "reload", "-c", CONF])
    }

    fn edge_reload(&self, previous: &str) -> anyhow::Result<()> {
        if self.runner.act(&self.edge_check_cmd()).is_err() {
            if !previous.is_empty() {
                self.runner.act(&self.edge_back_cmd(previous))?;
            }
            anyhow::bail!("nginx -t rejected it");
        }
        self.runner.act(&self.edge_reload_cmd())
    }

    fn edge_record(&self, image: &str, version: &str) -> anyhow::Result<()> {
        if self.runner.dry_run {
            println!(
                "+ (in {}) EDGE_IMAGE={image} EDGE_VERSION={version}",
                self.env_file.display()
            );
            return Ok(());
        }
        self.env_file_set(&[
            ("EDGE_IMAGE".into(), image.into()),
            ("EDGE_VERSION".into(), version.into()),
        ])
    }
}

pub fn run(opts: &Opts, arg: &str) -> Result<(), Error> {
    if opts.runtime != DeployRuntime::Compose {
        return Err(Error::Usage("edge is for the compose runtime; the local runtime renders the working tree's nginx/ and web/ at scripts/dev up, on Kubernetes the edge is a rolling update of its Deployment (helm upgrade --set edge.version=<version>, docs/kubernetes.md)".into()));
    }
    let env = |k: &str| std::env::var(k).ok();
    let rt = Compose::from_env(
        &root(),
        &env,
        Runner {
            dry_run: opts.dry_run,
        },
    )?;
    let resolved = compose::resolve(&rt.image_repo, "edge", arg)
        .map_err(|e| Error::Usage(format!("{e:#}")))?;
    check_version(&resolved.version)?;
    let version = resolved.version.clone();
    let _lock = begin(&rt, opts, &format!("edge {version}"))?;
    // The edge is not a switched part; its audit lines say `edge` and slot `live`.
    let part = Part {
        name: "edge",
        binary: "edge",
        port_offset: 0,
        has_db: false,
    };
    let flow = Flow::new(&rt, opts, part, "edge");
    let from = rt.edge_version();
    let change = ["live", from.as_str(), "live", version.as_str()];
    flow.audit(change, "started", None);
    let fail = |stage: &str, msg: String| {
        flow.audit(change, "failed", Some((stage, &msg)));
        Error::Failed(msg)
    };
    signal::check()?;
    let image = rt
        .prepare(&part, &resolved)
        .map_err(|e| fail("prepare", format!("{e:#}")))?;
    signal::check()?;
    rt.runner.act(&rt.edge_install_cmd(&image)).map_err(|_| {
        fail(
            "install",
            format!("the edge release {version} was rejected; the live one is unchanged"),
        )
    })?;
    rt.edge_reload(&from).map_err(|_| {
        fail(
            "reload",
            format!("nginx rejected the release {version}; switched back to {from}"),
        )
    })?;
    rt.edge_record(&image, &version)
        .map_err(|e| fail("reload", format!("{e:#}")))?;
    flow.audit(change, "ok", None);
    say::log(&format!(
        "edge: {from} -> {version} in {}s",
        flow.t0.elapsed().as_secs()
    ));
    Ok(())
}

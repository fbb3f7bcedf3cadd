//! The `kubernetes` step (docs/kubernetes.md "What is checked here"): the Helm chart
//! deploy/helm/mall rendered for its default, production and dev values by Helm's own
//! engine (deploy/helm/render.py, helm-python-sdk), every object validated against the
//! Kubernetes schemas (kubernetes-validate, strict, KUBERNETES_VERSION), checkov over the
//! rendered manifests with no failed check (skips only in SKIPS, each with its reason),
//! mall-desc's test that the rendered parts, ports and upstreams are mall.toml's, and
//! `nginx -t` of the edge's template with the chart's cluster upstreams. No cluster is
//! needed. A missing tool fails the step.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::ctx::{run, Ctx};
use crate::say;

/// The Kubernetes version the objects must be valid for (EKS's standard support).
pub const KUBERNETES_VERSION: &str = "1.33.0";

/// The renders: a name, and the values files over the chart's values.yaml.
const RENDERS: &[(&str, &[&str])] = &[
    ("default", &[]),
    ("production", &["values-production.yaml"]),
    ("dev", &["values-dev.yaml"]),
];

/// checkov's checks this chart does not pass, each with why. checkov without a platform
/// key reports no severity, so every other failed check fails the step (stricter than
/// "no HIGH finding").
pub const SKIPS: &[(&str, &str)] = &[(
    "CKV_K8S_43",
    "images by digest: the mall's images are tagged with the git SHA in registries with tag \
     immutability on (docs/deploy.md), and blue/green deploys name versions by that tag",
)];

pub fn check(ctx: &mut Ctx) -> anyhow::Result<()> {
    let tools = ["python", "kubernetes-validate", "checkov"].map(|t| ctx.venv_bin(t));
    if let Some(missing) = tools.iter().find(|t| !t.is_file()) {
        bail!(
            "{} is missing (mall ci's tools step installs the pinned Python tools into {})",
            missing.display(),
            super::host::venv_dir().display()
        );
    }
    let [python, validate, checkov] = tools;
    let chart = ctx.root.join("deploy/helm/mall");
    let out = std::env::temp_dir().join(format!("mall-k8s-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).with_context(|| format!("while creating {}", out.display()))?;
    let result = (|| {
        let rendered = render_all(ctx, &python, &chart, &out)?;
        let mut c = ctx.cmd(&validate);
        c.args(["--strict", "--quiet", "-k", KUBERNETES_VERSION])
            .args(&rendered);
        run(c).context("kubernetes-validate refused a rendered object")?;
        say::log(&format!(
            "kubernetes-validate: every object is valid for Kubernetes {KUBERNETES_VERSION}"
        ));
        let skips: Vec<&str> = SKIPS.iter().map(|(id, _)| *id).collect();
        let mut c = ctx.cmd(&checkov);
        c.arg("-d")
            .arg(&out)
            .args(["--framework", "kubernetes", "--compact", "--quiet"])
            .args(["--skip-check", &skips.join(",")])
            .env("BC_SKIP_MAPPING", "TRUE")
            .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false");
        for (id, why) in SKIPS {
            say::log(&format!("checkov: {id} skipped: {why}"));
        }
        run(c).context("checkov failed a check on the rendered manifests")?;
        edge_config(ctx, &out.join("edge"))?;
        let mut c = ctx.cargo(&[
            "test",
            "-q",
            "--locked",
            "-p",
            "mall-desc",
            "--test",
            "desc",
            "kubernetes::",
            "--",
            "--ignored",
        ]);
        c.env("MALL_K8S_RENDERED", &out);
        run(c).context("the rendered chart disagrees with mall.toml")
    })();
    let _ = std::fs::remove_dir_all(&out);
    result
}

fn render_all(ctx: &Ctx, python: &Path, chart: &Path, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let script = ctx.root.join("deploy/helm/render.py");
    let mut files = Vec::new();
    for (name, values) in RENDERS {
        let file = out.join(format!("{name}.yaml"));
        let mut c = ctx.cmd(python);
        c.arg(&script).arg(chart).arg(&file).arg("mall");
        c.args(values.iter().map(|v| chart.join(v)));
        run(c).with_context(|| format!("the chart does not render with its {name} values"))?;
        files.push(file);
    }
    Ok(files)
}

/// The edge's nginx.conf as the chart's edge pod renders it (the Deployment's MALL_*
/// values; paths under `dir`), with the chart's upstreams, checked by `nginx -t`. The
/// Services' names resolve only in a cluster: here each upstream names loopback instead.
fn edge_config(ctx: &Ctx, dir: &Path) -> anyhow::Result<()> {
    if !crate::shell::have("nginx") {
        bail!("nginx is missing (mall ci's tools step installs it)");
    }
    let d = |p: &str| dir.join(p).display().to_string();
    for sub in ["upstreams", "extra", "logs", "temp"] {
        std::fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("while creating {}", d(sub)))?;
    }
    let mut id = ctx.cmd("id");
    id.arg("-un");
    let user = super::ctx::read(id)?;
    let values = [
        ("MALL_NGINX_USER", user.trim().to_owned()),
        ("MALL_NGINX_PID", d("nginx.pid")),
        ("MALL_NGINX_LOG_DIR", d("logs")),
        ("MALL_NGINX_ERROR_LOG", d("logs/error.log")),
        ("MALL_NGINX_TEMP_DIR", d("temp")),
        ("MALL_NGINX_LISTEN", "8080".to_owned()),
        ("MALL_NGINX_INTERNAL_LISTEN", "8081".to_owned()),
        ("MALL_WEB_ROOT", ctx.root.join("web").display().to_string()),
        ("MALL_LOGIN_RATE", "10r/s".to_owned()),
        ("MALL_LOGIN_BURST", "20".to_owned()),
        ("MALL_TRUSTED_PROXY_CIDR", "unix:".to_owned()),
    ];
    let template = std::fs::read_to_string(ctx.root.join("nginx/nginx.conf.template"))
        .context("while reading nginx/nginx.conf.template")?;
    let conf = crate::stack::nginx::render(&template, &values);
    std::fs::write(dir.join("nginx.conf"), conf).context("while writing the edge's nginx.conf")?;
    let mut cp = ctx.cmd("cp");
    cp.arg("-R").arg(ctx.root.join("nginx/snippets")).arg(dir);
    run(cp)?;
    let src = ctx.root.join("deploy/helm/mall/files/upstreams");
    for entry in
        std::fs::read_dir(&src).with_context(|| format!("while listing {}", src.display()))?
    {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)?;
        let local: String = text
            .lines()
            .map(|l| {
                match l
                    .trim()
                    .strip_prefix("server ")
                    .and_then(|a| a.split_once(':'))
                {
                    Some((_, port)) => format!("    server 127.0.0.1:{port}\n"),
                    None => format!("{l}\n"),
                }
            })
            .collect();
        let name = path.file_name().context("a file name")?;
        std::fs::write(dir.join("upstreams").join(name), local)?;
    }
    let mut t = ctx.cmd("nginx");
    t.args(["-t", "-q", "-e"])
        .arg(d("logs/error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"));
    run(t).context("nginx -t refused the edge's config with the chart's upstreams")?;
    say::log("nginx -t: the edge's config with the chart's upstreams is valid");
    Ok(())
}

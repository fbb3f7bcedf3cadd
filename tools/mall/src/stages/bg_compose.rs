//! `mall stage bg-compose`: the blue/green test on real containers: the same steps, load
//! and verdict as `bluegreen` (bluegreen/), through `scripts/blue-green --runtime compose`
//! against a private compose project started with `scripts/dev up --runtime compose`. The
//! versions deployed are images built here: v2 and v3 are the current build under another
//! tag, never-ready is the product image pointed at a database port nothing listens on.
//! Then, under a new load, an edge deploy (scripts/blue-green edge): a new storefront page
//! goes live with no failed request.

use std::io::Write;
use std::process::Stdio;

use anyhow::Context;

use super::bluegreen::{local::min_requests, Bg, Hooks};
use super::compose::{docker, Project};
use super::host::{self, Ctx};
use super::load::load_lines;
use super::verdict;
use crate::parts::Part;
use crate::stack::compose::ComposeStack;
use crate::{say, Error};

struct ComposeHooks<'a> {
    p: &'a Project,
}

impl Hooks for ComposeHooks<'_> {
    fn slot_stopped(&self, bg: &Bg, part: &str, slot: &str) -> bool {
        let id = self.p.container(&bg.ctx, &format!("{part}-{slot}"));
        id.is_empty() || docker(&bg.ctx, &["inspect", "-f", "{{.State.Running}}", &id]) != "true"
    }

    fn release_kept(&self, bg: &Bg, part: &str, version: &str) -> bool {
        let Ok(p) = Part::parse(part) else {
            return false;
        };
        let mut c = bg.ctx.cmd("docker");
        c.args(["image", "inspect", &format!("mall/{}:{version}", p.binary)]);
        bg.ctx.read(c).is_some()
    }

    fn deploy_never_ready(&self, bg: &Bg) -> Result<bool, Error> {
        bg.bg(&["deploy", "product", "never-ready", "--ready-timeout", "8"])
    }

    fn slot_probe(&self, bg: &Bg, part: &str) -> String {
        let url = format!("http://127.0.0.1:8081/_slot/{part}");
        let args = [
            "exec",
            "-T",
            "nginx",
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "-m",
            "5",
            &url,
        ];
        let head = self.p.read(&bg.ctx, &args);
        crate::shell::header_value(&head, "x-served-by").unwrap_or_default()
    }

    fn admin_password(&self, bg: &Bg) -> Result<String, Error> {
        self.p.admin_password(&bg.ctx)
    }
}

/// The versions the steps deploy: v2, v3 of four parts, and a never-ready product.
fn images(ctx: &Ctx, p: &Project, made: &mut Vec<String>) -> Result<(), Error> {
    for bin in [
        "product-service",
        "auth-proxy",
        "cart-service",
        "user-service",
    ] {
        for tag in ["v2", "v3"] {
            let (from, to) = (format!("mall/{bin}:{}", p.tag), format!("mall/{bin}:{tag}"));
            let mut c = ctx.cmd("docker");
            c.args(["tag", &from, &to]);
            if !ctx.run(c)? {
                return Err(Error::Failed(format!("docker tag {from} {to} failed")));
            }
            made.push(to);
        }
    }
    // Flags override the environment: whatever compose sets, this one never gets ready.
    let dockerfile = format!(
        "FROM mall/product-service:{}\nENTRYPOINT [\"/usr/local/bin/mall-service\", \"--database-url\", \"mysql://nobody@127.0.0.1:1/none\"]\n",
        p.tag
    );
    let mut build = ctx.cmd("docker");
    build
        .args(["build", "-q", "-t", "mall/product-service:never-ready", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut child = build
        .spawn()
        .context("while building the never-ready image")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dockerfile.as_bytes())
            .context("while writing its Dockerfile")?;
    }
    if !child.wait().is_ok_and(|s| s.success()) {
        return Err(Error::Failed(
            "building mall/product-service:never-ready failed".into(),
        ));
    }
    made.push("mall/product-service:never-ready".into());
    Ok(())
}

fn page_marked(url: &str) -> bool {
    host::curl(&[&format!("{url}/")], 5).is_some_and(|(_, _, body)| body.contains("edge v2"))
}

/// mall/edge:v2 (this tree's nginx/ and web/, the page marked) shipped with
/// `scripts/blue-green edge v2` under load on new connections: the page changes, every
/// request is answered 2xx with no socket error.
fn edge_step(bg: &mut Bg, p: &Project, made: &mut Vec<String>) -> Result<(), Error> {
    let tree = bg.dir.join("edge-v2");
    std::fs::create_dir_all(&tree).context("while creating the edge tree")?;
    let mut copy = bg.ctx.cmd("cp");
    copy.arg("-R")
        .arg(bg.ctx.root.join("nginx"))
        .arg(bg.ctx.root.join("web"))
        .arg(&tree);
    if !bg.ctx.run(copy)? {
        return Err(Error::Failed("copying nginx/ and web/ failed".into()));
    }
    let index = tree.join("web/index.html");
    let mut page = std::fs::OpenOptions::new()
        .append(true)
        .open(&index)
        .context("while opening web/index.html")?;
    page.write_all(b"<!-- edge v2 -->\n")
        .context("while marking the page")?;
    let env = std::fs::read_to_string(&p.env_file).unwrap_or_default();
    let nginx_image = env
        .lines()
        .find_map(|l| l.strip_prefix("NGINX_IMAGE="))
        .unwrap_or_default()
        .to_owned();
    let ctx = &bg.ctx;
    let cfg = ctx.vars.stack_config(&ctx.root)?;
    let mut build = ComposeStack::from_env(cfg, &|k: &str| ctx.get(k)).image_build();
    build.tag = "v2".into();
    made.push("mall/edge:v2".into());
    say::log("building mall/edge:v2 from the marked tree");
    build
        .edge(&tree, &nginx_image)
        .context("building mall/edge:v2 failed")?;
    if page_marked(&bg.url) {
        return Err(Error::Failed(
            "the page is marked before the edge deploy".into(),
        ));
    }
    let log = bg.access_log();
    let base = load_lines(&log, "close");
    bg.start_load("close", 4)?;
    if !host::wait_for(30, "the load to reach nginx", || {
        load_lines(&log, "close") >= base + 200
    })? {
        return Err(Error::Failed("the load did not reach nginx".into()));
    }
    if !bg.bg(&["edge", "v2"])? {
        return Err(Error::Failed("scripts/blue-green edge v2 failed".into()));
    }
    if !host::wait_for(10, "the new page", || page_marked(&bg.url))? {
        return Err(Error::Failed("the new page is not served".into()));
    }
    let base = load_lines(&log, "close");
    host::wait_for(30, "load on the new release", || {
        load_lines(&log, "close") >= base + 200
    })?;
    let counts = bg.stop_loads()?;
    let load = counts
        .first()
        .ok_or_else(|| Error::Failed("the edge load wrote nothing".into()))?;
    say::log(&format!("load during the edge deploy: {}", load.summary()));
    if let Some(problem) = verdict::edge_load(load) {
        return Err(Error::Failed(problem));
    }
    say::log(&format!(
        "edge v2 is live: the new page is served; {} requests during the deploy, 0 failed",
        load.sent
    ));
    Ok(())
}

pub fn run(base: &Ctx) -> Result<(), Error> {
    let dir = host::temp_dir("mall-bluegreen-compose")?;
    let mut ctx = base.clone();
    let mut project = Project::private(&mut ctx, &dir, "mall-bg")?;
    let state_dir = dir.join("blue-green");
    ctx.set("MALL_BG_STATE_DIR", state_dir.display().to_string());
    ctx.set("MALL_BG_RUNTIME", "compose");
    ctx.set("MALL_LOGIN_RATE", "100r/s");
    ctx.set("MALL_LOGIN_BURST", "200");
    ctx.set(
        "MALL_LOG_DIR",
        project.var.join("log").display().to_string(),
    );
    let url = project.url();
    say::log(&format!(
        "compose blue/green stack: project {}, {url}, state {}",
        project.name,
        dir.display()
    ));
    let mut bg = Bg {
        min_requests: min_requests(&ctx),
        ctx,
        dir: dir.clone(),
        url,
        var: project.var.clone(),
        state_dir,
        token: String::new(),
        p0: String::new(),
        a0: String::new(),
        product_id: String::new(),
        loads: vec![],
    };
    let mut made = vec![];
    let result = stage(&mut bg, &mut project, &mut made);
    let failed = result.is_err();
    bg.loads.iter_mut().for_each(|l| l.kill());
    if failed && project.up {
        for f in [
            bg.var.join("log/nginx/error.log"),
            bg.state_dir.join("audit.log"),
        ] {
            eprintln!(
                "\n----- last lines of {} -----\n{}",
                f.display(),
                host::tail(&f, 25)
            );
        }
    }
    project.cleanup(&bg.ctx, failed);
    if !made.is_empty() {
        let mut rm = bg.ctx.cmd("docker");
        rm.args(["image", "rm", "-f"])
            .args(&made)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = rm.status();
    }
    if failed {
        say::log(&format!(
            "kept the compose blue/green test's state for inspection: {}",
            dir.display()
        ));
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn stage(bg: &mut Bg, project: &mut Project, made: &mut Vec<String>) -> Result<(), Error> {
    project.start(&bg.ctx)?;
    project.follow_logs(&bg.ctx)?;
    images(&bg.ctx, project, made)?;
    bg.zero_downtime(&ComposeHooks { p: project })?;
    edge_step(bg, project, made)
}

//! The zero-downtime test shared by `mall stage bluegreen` (local processes) and
//! `bg-compose` (containers): a steady load through nginx (mall-load --steady: 6 connections
//! opening one per request, 2 keep-alive ones) while scripts/blue-green deploys product v2,
//! rolls it back, refuses a version that never gets ready, deploys auth-proxy, deploys cart
//! while a second deploy is refused by the lock, and ships user. Passes only with no failed
//! request out of at least MALL_BG_TEST_MIN_REQUESTS [5000], every socket error counted on
//! both kinds of connection, the right X-Served-By before and after each step, and the
//! audit log's record of every action.

pub mod local;
mod steps;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use super::host::{self, served_by, wait_for, Ctx};
use super::load::{load_lines, nginx_not_200, Load, LoadSetup};
use super::verdict::{self, LoadCounts};
use crate::{say, Error};

/// What differs between the runtimes (bg-test.sh's hooks).
pub trait Hooks {
    /// The slot runs nothing (and, locally, its port is free).
    fn slot_stopped(&self, bg: &Bg, part: &str, slot: &str) -> bool;
    /// What a rollback to that version needs is still there.
    fn release_kept(&self, bg: &Bg, part: &str, version: &str) -> bool;
    /// Deploys a product version that never gets ready; true when the deploy succeeded.
    fn deploy_never_ready(&self, bg: &Bg) -> Result<bool, Error>;
    /// X-Served-By of nginx's /_slot/<part> probe on its internal listener.
    fn slot_probe(&self, bg: &Bg, part: &str) -> String;
    /// The stack's admin password.
    fn admin_password(&self, bg: &Bg) -> Result<String, Error>;
}

/// One blue/green test run.
pub struct Bg {
    pub ctx: Ctx,
    pub dir: PathBuf,
    pub url: String,
    pub var: PathBuf,
    pub state_dir: PathBuf,
    pub min_requests: u64,
    pub token: String,
    pub p0: String,
    pub a0: String,
    pub product_id: String,
    pub loads: Vec<Load>,
}

impl Bg {
    pub fn access_log(&self) -> PathBuf {
        self.var.join("log/nginx/access.log")
    }

    /// `scripts/blue-green <args>` with the stage's environment; true on exit 0.
    pub fn bg(&self, args: &[&str]) -> Result<bool, Error> {
        self.ctx.run(self.ctx.script("scripts/blue-green", args))
    }

    pub fn auth_header(&self) -> String {
        format!("Authorization: Bearer {}", self.token)
    }

    /// Three answers in a row whose X-Served-By matches `want` (a trailing * is a glob).
    pub fn expect_served(
        &self,
        what: &str,
        want: &str,
        url: &str,
        auth: bool,
    ) -> Result<(), Error> {
        let header = self.auth_header();
        let extra: Vec<&str> = if auth { vec!["-H", &header] } else { vec![] };
        self.expect3(what, want, || served_by(url, &extra))
    }

    pub fn expect_probe(
        &self,
        hooks: &dyn Hooks,
        what: &str,
        want: &str,
        part: &str,
    ) -> Result<(), Error> {
        self.expect3(what, want, || hooks.slot_probe(self, part))
    }

    fn expect3(
        &self,
        what: &str,
        want: &str,
        mut get: impl FnMut() -> String,
    ) -> Result<(), Error> {
        let mut got = String::new();
        for _ in 0..3 {
            got = get();
            if !host::glob_match(want, &got) {
                return Err(Error::Failed(format!(
                    "{what}: X-Served-By is '{got}', expected {want}"
                )));
            }
        }
        say::log(&format!("{what}: {got}"));
        Ok(())
    }

    /// Starts a load in `mode` with `connections`.
    pub fn start_load(&mut self, mode: &'static str, connections: u32) -> Result<(), Error> {
        let token_file = self.dir.join("token");
        let setup = LoadSetup {
            url: &self.url,
            dir: &self.dir,
            token_file: &token_file,
            product_id: &self.product_id,
        };
        let load = Load::start(&self.ctx, &setup, mode, connections)?;
        self.loads.push(load);
        Ok(())
    }

    /// Raises the stop file, waits until nginx's log stops moving, collects every load.
    pub fn stop_loads(&mut self) -> Result<Vec<LoadCounts>, Error> {
        std::fs::write(self.dir.join("load.stop"), "").context("while writing the stop file")?;
        let log = self.access_log();
        let mut before = load_lines(&log, "");
        wait_for(15, "the load's last requests to finish", || {
            std::thread::sleep(std::time::Duration::from_secs(1));
            let now = load_lines(&log, "");
            std::mem::replace(&mut before, now) == now
        })?;
        let mut out = vec![];
        for load in &mut self.loads {
            out.push(load.finish()?);
        }
        self.loads.clear();
        let _ = std::fs::remove_file(self.dir.join("load.stop"));
        Ok(out)
    }

    /// Signs in as the admin, learns a product id and the versions live before the steps.
    fn prepare(&mut self, hooks: &dyn Hooks) -> Result<(), Error> {
        let password = hooks.admin_password(self)?;
        let email = self
            .ctx
            .get("MALL_ADMIN_EMAIL")
            .unwrap_or_else(|| "admin@mall.local".into());
        let token = host::sign_in(&self.url, &email, password.trim())
            .ok_or_else(|| Error::Failed("could not log in as the admin".into()))?;
        std::fs::write(self.dir.join("token"), &token).context("while writing the token file")?;
        self.token = token;
        let products = format!("{}/api/products?size=1", self.url);
        let product_id = host::curl(&[&products], 10)
            .and_then(|(_, _, b)| serde_json::from_str::<serde_json::Value>(&b).ok())
            .and_then(|v| match &v["items"][0]["id"] {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .ok_or_else(|| Error::Failed("the catalog has no product to load".into()))?;
        let p0 = served_by(&products, &[]);
        self.p0 = p0.trim_start_matches("product-blue@").to_owned();
        let a0 = hooks.slot_probe(self, "auth-proxy");
        self.a0 = a0.trim_start_matches("auth-proxy-blue@").to_owned();
        self.product_id = product_id;
        Ok(())
    }

    /// The whole test: load, steps, verdict, audit log.
    pub fn zero_downtime(&mut self, hooks: &dyn Hooks) -> Result<(), Error> {
        self.prepare(hooks)?;
        let t0 = Instant::now();
        self.start_load("close", 6)?;
        self.start_load("keepalive", 2)?;
        let log = self.access_log();
        if !wait_for(30, "the load to reach nginx", || {
            load_lines(&log, "") >= 200
        })? {
            return Err(Error::Failed("the load did not reach nginx".into()));
        }
        say::log("steady load running: 6 connections opening one per request and 2 keep-alive ones, 25 ms between requests, 5 routes");
        steps::run(self, hooks)?;
        let want = self.min_requests as usize + 100;
        wait_for(
            120,
            &format!("at least {} load requests", self.min_requests),
            || load_lines(&log, "close") >= want,
        )?;
        let counts = self.stop_loads()?;
        say::log(&format!("load ran {}s", t0.elapsed().as_secs()));
        let (close, keep) = match counts.as_slice() {
            [close, keep] => (close, keep),
            _ => return Err(Error::Failed("expected two loads".into())),
        };
        self.check_results(close, keep)?;
        self.check_audit()
    }

    fn check_results(&self, close: &LoadCounts, keep: &LoadCounts) -> Result<(), Error> {
        say::log(&format!(
            "load, new connection per request: {}",
            close.summary()
        ));
        say::log(&format!(
            "load, keep-alive connections:     {}",
            keep.summary()
        ));
        let served = verdict::served_together(close, keep);
        say::log(&format!(
            "answers came from: {}",
            serde_json::to_string(&served).unwrap_or_default()
        ));
        let log = self.access_log();
        let bad = nginx_not_200(&log);
        say::log(&format!(
            "nginx logged {} + {} load requests, {bad} of them not 200",
            load_lines(&log, "close"),
            load_lines(&log, "keepalive")
        ));
        let want: Vec<String> = [format!("product-blue@{}", self.p0)]
            .into_iter()
            .chain(
                [
                    "product-green@v2",
                    "cart-blue@",
                    "cart-green@v2",
                    "user-blue@",
                    "user-green@v2",
                ]
                .map(String::from),
            )
            .collect();
        let problems = verdict::zero_downtime(close, keep, bad, self.min_requests, &want);
        if problems.is_empty() {
            say::log(&format!(
                "zero downtime: {} requests on new connections and {} on keep-alive ones, 0 failed (no reset, no close, no timeout); every answer 2xx",
                close.sent, keep.sent
            ));
            return Ok(());
        }
        problems.iter().for_each(|p| say::warn(p));
        Err(Error::Failed(format!(
            "{} failures under load (above)",
            problems.len()
        )))
    }

    fn check_audit(&self) -> Result<(), Error> {
        let text = std::fs::read_to_string(self.state_dir.join("audit.log")).unwrap_or_default();
        let got = verdict::audit_lines(&text);
        let want = verdict::expected_audit(&self.p0);
        if got != want {
            return Err(Error::Failed(format!(
                "the audit log says:\n{}\nexpected:\n{}",
                got.join("\n"),
                want.join("\n")
            )));
        }
        say::log("audit log: every action with its outcome (the refused deploy took no lock and wrote nothing)");
        let _ = self.bg(&["status"]);
        Ok(())
    }
}

//! The steady load of the blue/green stages: `mall-load --steady close|keepalive` (tools/load)
//! in the background, counted by its own summary and by nginx's access log (the load's
//! User-Agent is `mall-bluegreen-<mode>`).

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::host::Ctx;
use super::verdict::LoadCounts;
use crate::Error;

/// One running load.
pub struct Load {
    pub mode: &'static str,
    pub out: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
}

/// mall-load beside this binary (the same target directory and profile), built first
/// when it is missing.
fn mall_load(ctx: &Ctx) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("while finding this binary")?;
    let bin = exe.with_file_name("mall-load");
    if !bin.is_file() {
        let profile = if exe.to_string_lossy().contains("/release/") {
            "release"
        } else {
            "dev"
        };
        let mut c = ctx.cmd("cargo");
        c.args([
            "build",
            "-q",
            "--locked",
            "-p",
            "mall-load",
            "--profile",
            profile,
        ]);
        crate::shell::status_of(c)?;
    }
    anyhow::ensure!(
        bin.is_file(),
        "no mall-load at {}: build it (cargo build -p mall-load)",
        bin.display()
    );
    Ok(bin)
}

/// The settings every load of a stage shares.
pub struct LoadSetup<'a> {
    pub url: &'a str,
    pub dir: &'a Path,
    pub token_file: &'a Path,
    pub product_id: &'a str,
}

impl Load {
    /// Starts `connections` connections in `mode` (close, keepalive), 25 ms between requests.
    pub fn start(
        ctx: &Ctx,
        s: &LoadSetup<'_>,
        mode: &'static str,
        connections: u32,
    ) -> Result<Load, Error> {
        let bin = mall_load(ctx)?;
        let out = s.dir.join(format!("load-{mode}.json"));
        let log = s.dir.join(format!("load-{mode}.txt"));
        let _ = std::fs::remove_file(&out);
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("while creating {}", log.display()))?;
        let mut c = ctx.cmd(bin);
        c.args([
            "--url",
            s.url,
            "--steady",
            mode,
            "--steady-pause-ms",
            "25",
            "--steady-timeout",
            "5",
        ])
        .arg("--steady-connections")
        .arg(connections.to_string())
        .arg("--steady-token-file")
        .arg(s.token_file)
        .args(["--steady-product-id", s.product_id])
        .arg("--steady-agent")
        .arg(format!("mall-bluegreen-{mode}"))
        .arg("--steady-stop-file")
        .arg(s.dir.join("load.stop"))
        .arg("--steady-json")
        .arg(&out)
        // The stop file ends it; the deadline is only a safety net, far past the slowest
        // run seen (the steps on an overloaded 2-core host took over 15 minutes).
        .args(["--steady-max-seconds", "3600"])
        .stdout(Stdio::from(
            log_file
                .try_clone()
                .context("while opening the load's log")?,
        ))
        .stderr(Stdio::from(log_file));
        let child = c.spawn().context("while starting mall-load")?;
        Ok(Load {
            mode,
            out,
            log,
            child: Some(child),
        })
    }

    /// Waits for the load to end by itself (after the stop file); its counts.
    pub fn finish(&mut self) -> Result<LoadCounts, Error> {
        let deadline = Instant::now() + Duration::from_secs(30);
        if let Some(child) = self.child.as_mut() {
            loop {
                if let Some(status) = child.try_wait().context("while waiting for mall-load")? {
                    self.child = None;
                    if !status.success() {
                        return Err(Error::Failed(format!(
                            "mall-load ({}) failed: {}",
                            self.mode,
                            std::fs::read_to_string(&self.log).unwrap_or_default()
                        )));
                    }
                    break;
                }
                if Instant::now() >= deadline {
                    self.kill();
                    return Err(Error::Failed(format!(
                        "mall-load ({}) did not stop within 30 s of the stop file",
                        self.mode
                    )));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let text = std::fs::read_to_string(&self.out).map_err(|_| {
            Error::Failed(format!(
                "mall-load wrote no results: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            ))
        })?;
        LoadCounts::parse(&text).map_err(|e| Error::Failed(format!("{}: {e}", self.out.display())))
    }

    /// Ends the load at once (clean-up after a failure).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The load's requests in nginx's access log (`mode` "" counts both modes).
pub fn load_lines(access_log: &Path, mode: &str) -> usize {
    let needle = format!("\"user_agent\":\"mall-bluegreen-{mode}");
    std::fs::read_to_string(access_log)
        .map(|t| t.lines().filter(|l| l.contains(&needle)).count())
        .unwrap_or(0)
}

/// The load's requests nginx logged with a status other than 200.
pub fn nginx_not_200(access_log: &Path) -> usize {
    std::fs::read_to_string(access_log)
        .map(|t| {
            t.lines()
                .filter(|l| {
                    l.contains("\"user_agent\":\"mall-bluegreen-") && !l.contains("\"status\":200,")
                })
                .count()
        })
        .unwrap_or(0)
}

//! `mall bench <auth|catalog|checkout|mix>`: the benchmarks of docs/performance.md
//! (scripts/bench execs this). Each scenario starts a private stack (`stack`), drives it
//! with mall-load (tools/load), the one load generator, run as its own process (`load`):
//! its CPU per request is then measured like any other process's, by the one /proc
//! sampler in tools/load, with its own allocator and runtime, and `mall` stays a small
//! binary for the EC2 host (no HTTP client library or plotting in it). The numbers are
//! summarised by pure functions (`summary`, `ratios`) and printed (`print`).

mod args;
mod auth;
mod catalog;
mod checkout;
mod compose;
mod host;
mod http;
mod load;
mod mix;
mod nginx;
mod observe;
mod print;
mod ratios;
mod shop;
mod stack;
mod summary;

use std::path::PathBuf;

use anyhow::Context;
use serde_json::Value;

pub use args::{BenchArgs, BenchCli, Scenario, ABOUT, AFTER_HELP};

use crate::cli::RuntimeKind;
use crate::{say, signal, Error};

/// One invocation: the options, the private stack, and the runs measured so far.
pub struct Bench {
    pub args: BenchArgs,
    pub root: PathBuf,
    pub env: host::Env,
    /// The private state directory (var/ and bench/ under it) while it exists.
    pub state: Option<PathBuf>,
    pub var: PathBuf,
    pub tmp: PathBuf,
    pub port_base: u16,
    pub http_port: u16,
    pub bench_ports: (u16, u16),
    /// nginx's public URL of the private stack.
    pub url: String,
    pub up: bool,
    pub compose_up: bool,
    pub failed: bool,
    pub load_start: String,
    /// cargo's target directory (the release binaries, mall-load among them).
    pub target: PathBuf,
    /// Every measured run, in order (one JSON object each).
    pub runs: Vec<Value>,
}

impl Bench {
    fn new(args: BenchArgs) -> Self {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
                PathBuf::from(home).join(".cache/mall-target")
            });
        Bench {
            args,
            root: crate::commands::root(),
            env: stack::base_env(),
            state: None,
            var: PathBuf::new(),
            tmp: PathBuf::new(),
            port_base: 0,
            http_port: 0,
            bench_ports: (0, 0),
            url: String::new(),
            up: false,
            compose_up: false,
            failed: false,
            load_start: String::new(),
            target,
            runs: Vec::new(),
        }
    }

    fn build(&self) -> anyhow::Result<()> {
        if self.args.no_build {
            return Ok(());
        }
        say::log(&format!(
            "building release binaries: cargo build --release --workspace --bins (CARGO_TARGET_DIR={})",
            self.target.display()
        ));
        let mut cmd = std::process::Command::new("cargo");
        cmd.args(["build", "--release", "--workspace", "--bins"])
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target);
        if !crate::shell::status_of(cmd)? {
            anyhow::bail!("the release build failed");
        }
        Ok(())
    }

    /// The release binary of the workspace named `name`.
    pub fn release_bin(&self, name: &str) -> PathBuf {
        self.target.join("release").join(name)
    }

    /// Writes the result to var/bench/<kind>-<UTC time>.json; the path.
    pub fn write_result(&self, name: &str, json: &Value) -> anyhow::Result<PathBuf> {
        let dir = self.root.join("var/bench");
        std::fs::create_dir_all(&dir)?;
        let file = dir.join(format!("{name}-{}.json", utc_stamp()));
        std::fs::write(&file, serde_json::to_vec_pretty(json)?)
            .with_context(|| format!("while writing {}", file.display()))?;
        say::log(&format!(
            "results written to {}",
            file.strip_prefix(&self.root).unwrap_or(&file).display()
        ));
        Ok(file)
    }

    /// The options every result records.
    pub fn params(&self) -> Value {
        let a = &self.args;
        serde_json::json!({"duration_s": a.duration, "connections": a.connections, "threads": a.threads,
            "rounds": a.rounds, "warmup_s": a.warmup, "latency_connections": a.latency_connections})
    }

    /// `mall-load <version>`, as the load generator reports itself.
    pub fn load_version(&self) -> String {
        crate::shell::read(&[
            self.release_bin("mall-load").display().to_string(),
            "--version".into(),
        ])
        .unwrap_or_default()
        .trim()
        .to_owned()
    }

    fn down(&mut self) {
        if self.args.runtime == RuntimeKind::Compose {
            self.compose_down();
        } else {
            self.down_local();
        }
    }
}

/// The UTC time as file names carry it: 20261206T130501Z.
pub fn utc_stamp() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

/// Runs one benchmark; the stack is torn down whatever happens (after a signal too).
pub fn run(args: BenchArgs) -> Result<(), Error> {
    args.validate().map_err(Error::Usage)?;
    signal::watch();
    let mut bench = Bench::new(args);
    let local = bench.args.runtime == RuntimeKind::Local;
    host::ensure_tools(&mut bench.env, local)?;
    bench.build()?;
    let result = match bench.args.scenario {
        Scenario::Auth => auth::run(&mut bench),
        Scenario::Catalog => catalog::run(&mut bench),
        Scenario::Checkout => checkout::run(&mut bench),
        Scenario::Mix => mix::run(&mut bench),
    };
    let interrupted = signal::interrupted();
    if result.is_err() || interrupted {
        bench.failed = true;
    }
    bench.down();
    if interrupted {
        return Err(Error::Interrupted);
    }
    result.map_err(Error::Other)
}

/// `mall bench ...`: parses with scripts/bench's own command line, runs, and the exit code
/// (0 done, 1 failed, 64 usage, 130 interrupted); None when the command is not `bench`.
pub fn main_if_bench() -> Option<u8> {
    use clap::error::ErrorKind;
    use clap::Parser;
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) != Some("bench") {
        return None;
    }
    let cli = match BenchCli::try_parse_from(&argv[1..]) {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return Some(crate::EXIT_OK);
        }
        Err(e) => {
            let first = crate::say::usage_error(&e.render().to_string());
            eprintln!("bench: {first} (see scripts/bench --help)");
            return Some(crate::EXIT_USAGE);
        }
    };
    Some(match run(cli.args) {
        Ok(()) => crate::EXIT_OK,
        Err(Error::Usage(m)) => {
            eprintln!("bench: {m} (see scripts/bench --help)");
            crate::EXIT_USAGE
        }
        Err(Error::Interrupted) => {
            say::error("interrupted; the bench stack was removed");
            crate::EXIT_INTERRUPTED
        }
        Err(e) => {
            say::error(&format!("{e:#}"));
            crate::EXIT_FAILED
        }
    })
}

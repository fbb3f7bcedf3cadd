//! What every step runs with: the repository, the environment the steps add for the
//! commands they start (the databases' logins, the e2e stack's settings), and helpers that
//! run those commands with their output on ours.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};

use crate::host::vars::Vars;

pub struct Ctx {
    pub root: PathBuf,
    /// Set on every command started from here (never on this process).
    pub env: Vars,
    pub keep_stack: bool,
}

/// The arguments of `cargo test` that run ignored e2e tests (the ones that need a stack)
/// by their exact names, which follow.
pub const E2E_IGNORED: [&str; 9] = [
    "test",
    "-p",
    "e2e",
    "--locked",
    "--test",
    "api",
    "--",
    "--ignored",
    "--exact",
];

impl Ctx {
    pub fn new(root: PathBuf, keep_stack: bool) -> Self {
        let mut env = Vars::default();
        // One build directory for the stack, the tests and CI (README.md), outside the clone.
        if var("CARGO_TARGET_DIR").is_none() {
            env.set("CARGO_TARGET_DIR", format!("{}/.cache/mall-target", home()));
        }
        env.set("MALL_ROOT", root.display().to_string());
        Self {
            root,
            env,
            keep_stack,
        }
    }

    /// A setting: what a step set, else this process's environment.
    pub fn get(&self, key: &str) -> Option<String> {
        self.env.get(key)
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.env.set(key, value);
    }

    /// A command in the repository with the steps' environment.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.root);
        self.env.apply(&mut c);
        c
    }

    /// `cargo test` of one ignored e2e test (the stack-bound ones), by its exact name.
    pub fn e2e_ignored(&self, name: &str) -> Command {
        let mut c = self.cargo(&E2E_IGNORED);
        c.arg(name);
        c
    }

    pub fn cargo(&self, args: &[&str]) -> Command {
        let mut c = self.cmd("cargo");
        c.args(args);
        c
    }

    /// A binary of the workspace's build (MALL_PROFILE [debug]).
    pub fn target_bin(&self, name: &str) -> PathBuf {
        let dir = self
            .get("CARGO_TARGET_DIR")
            .unwrap_or_else(|| self.root.join("target").display().to_string());
        let profile = self.get("MALL_PROFILE").unwrap_or_else(|| "debug".into());
        Path::new(&dir).join(profile).join(name)
    }

    /// A tool of the test virtualenv (~/.cache/mall/venv).
    pub fn venv_bin(&self, name: &str) -> PathBuf {
        super::host::venv_dir().join("bin").join(name)
    }
}

pub fn var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

pub fn home() -> String {
    var("HOME").unwrap_or_else(|| "/root".into())
}

/// Runs the command with our stdout and stderr; an error unless it exits 0.
pub fn run(mut command: Command) -> anyhow::Result<()> {
    let what = describe(&command);
    let status = command
        .status()
        .with_context(|| format!("while starting {what}"))?;
    if !status.success() {
        bail!("{what} exited {}", code(status));
    }
    Ok(())
}

/// Runs the command, stderr discarded; its stdout when it exited 0.
pub fn read(mut command: Command) -> anyhow::Result<String> {
    let what = describe(&command);
    let out = command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .with_context(|| format!("while starting {what}"))?;
    if !out.status.success() {
        bail!("{what} exited {}", code(out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs the command with stdout and stderr merged, shown on our stderr as they come and
/// returned (and written to `copy` when given), as `2>&1 | tee` did; with its exit status.
pub fn tee(mut command: Command, copy: Option<&Path>) -> anyhow::Result<(bool, String)> {
    let what = describe(&command);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("while starting {what}"))?;
    let seen = Arc::new(Mutex::new(String::new()));
    let pump = |stream: Box<dyn Read + Send>| {
        let seen = Arc::clone(&seen);
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                eprintln!("{line}");
                if let Ok(mut s) = seen.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        })
    };
    let threads = [
        child.stdout.take().map(|s| pump(Box::new(s))),
        child.stderr.take().map(|s| pump(Box::new(s))),
    ];
    let status = child
        .wait()
        .with_context(|| format!("while running {what}"))?;
    threads.into_iter().flatten().for_each(|t| {
        let _ = t.join();
    });
    let text = seen.lock().map(|s| s.clone()).unwrap_or_default();
    if let Some(path) = copy {
        std::fs::File::create(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .with_context(|| format!("while writing {}", path.display()))?;
    }
    Ok((status.success(), text))
}

fn code(status: std::process::ExitStatus) -> String {
    status
        .code()
        .map_or_else(|| "on a signal".into(), |c| c.to_string())
}

/// `program arg…` for messages (the first few words).
pub fn describe(command: &Command) -> String {
    let words: Vec<String> = std::iter::once(command.get_program())
        .chain(command.get_args())
        .take(6)
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    words.join(" ")
}

//! `--compose`: the stack's container logs from `docker compose logs`, run as a child
//! process and read as a stream. The command lines are built by pure functions
//! ([`Project::logs`], [`Project::ps`]); only [`Tool::detect`] and [`Project::running`]
//! look at the host.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::when;

/// The compose tool installed here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// The `docker compose` plugin.
    V2,
    /// The standalone `docker-compose`, which has no `logs --since`.
    V1,
}

impl Tool {
    /// `docker compose` when it answers `version`, else `docker-compose` when it is on the
    /// PATH (as the mall CLI's host::compose::compose_cmd decides).
    pub fn detect() -> Option<Tool> {
        let v2 = Command::new("docker")
            .args(["compose", "version"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if v2 {
            Some(Tool::V2)
        } else {
            on_path("docker-compose").then_some(Tool::V1)
        }
    }

    /// The program and the arguments that come before compose's own.
    fn program(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Tool::V2 => ("docker", &["compose"]),
            Tool::V1 => ("docker-compose", &[]),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tool::V2 => "docker compose",
            Tool::V1 => "docker-compose",
        }
    }
}

/// The compose project the logs come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    pub tool: Tool,
    pub file: PathBuf,
    /// Passed with `--env-file` (it may set COMPOSE_PROJECT_NAME and the images).
    pub env_file: Option<PathBuf>,
}

impl Project {
    /// COMPOSE_FILE_PATH [root/compose/docker-compose.yml]; COMPOSE_ENV_FILE
    /// [root/compose/.env], used when that file exists (`env_file_exists`). Paths given
    /// in the environment are used as given (relative ones to the current directory).
    pub fn new(
        tool: Tool,
        root: &Path,
        file: Option<&str>,
        env_file: Option<&str>,
        env_file_exists: impl Fn(&Path) -> bool,
    ) -> Self {
        let file = file
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("compose/docker-compose.yml"));
        let env_file = env_file
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("compose/.env"));
        let env_file = env_file_exists(&env_file).then_some(env_file);
        Self {
            tool,
            file,
            env_file,
        }
    }

    /// `<compose> -f FILE [--env-file F] logs --no-color --no-log-prefix [--since T]`: the
    /// container logs without prefixes, bounded by `since` (µs) where the tool can (v2; v1
    /// reads everything and mall-trace filters by time either way).
    pub fn logs(&self, since: Option<i64>) -> (String, Vec<OsString>) {
        let mut args = self.base();
        args.extend(["logs", "--no-color", "--no-log-prefix"].map(OsString::from));
        if let (Tool::V2, Some(since)) = (self.tool, since) {
            args.push("--since".into());
            args.push(when::format_secs(since).into());
        }
        (self.tool.program().0.to_owned(), args)
    }

    /// `<compose> -f FILE [--env-file F] ps -q`: the project's containers, one id a line.
    pub fn ps(&self) -> (String, Vec<OsString>) {
        let mut args = self.base();
        args.extend(["ps", "-q"].map(OsString::from));
        (self.tool.program().0.to_owned(), args)
    }

    fn base(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = self.tool.program().1.iter().map(OsString::from).collect();
        args.push("-f".into());
        args.push(self.file.clone().into());
        if let Some(env) = &self.env_file {
            args.push("--env-file".into());
            args.push(env.clone().into());
        }
        args
    }

    /// The project has containers (`ps -q` prints something).
    pub fn running(&self) -> bool {
        let (program, args) = self.ps();
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout.iter().any(|b| !b.is_ascii_whitespace()))
    }

    /// How the project is named in messages.
    pub fn describe(&self) -> String {
        format!("{} logs of {}", self.tool.name(), self.file.display())
    }
}

/// `name` is an executable file in a PATH directory.
fn on_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            let p = dir.join(name);
            p.is_file() && is_executable(&p)
        })
    })
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(cmd: (String, Vec<OsString>)) -> String {
        let mut w = vec![cmd.0];
        w.extend(cmd.1.iter().map(|a| a.to_string_lossy().into_owned()));
        w.join(" ")
    }

    const SINCE: i64 = 1_795_269_900_250_000; // 2026-11-21T14:05:00.25Z

    #[test]
    fn v2_reads_only_since_and_uses_the_env_file() {
        let p = Project::new(Tool::V2, Path::new("/opt/mall"), None, None, |_| true);
        assert_eq!(
            words(p.logs(Some(SINCE))),
            "docker compose -f /opt/mall/compose/docker-compose.yml --env-file \
             /opt/mall/compose/.env logs --no-color --no-log-prefix --since 2026-11-21T14:05:00Z"
        );
        assert_eq!(
            words(p.logs(None)),
            "docker compose -f /opt/mall/compose/docker-compose.yml --env-file \
             /opt/mall/compose/.env logs --no-color --no-log-prefix"
        );
    }

    #[test]
    fn v1_has_no_since_and_the_env_file_only_when_it_exists() {
        let p = Project::new(Tool::V1, Path::new("/r"), None, None, |_| false);
        assert_eq!(p.env_file, None);
        assert_eq!(
            words(p.logs(Some(SINCE))),
            "docker-compose -f /r/compose/docker-compose.yml logs --no-color --no-log-prefix"
        );
        assert_eq!(
            words(p.ps()),
            "docker-compose -f /r/compose/docker-compose.yml ps -q"
        );
    }

    #[test]
    fn the_environment_names_other_files() {
        let p = Project::new(
            Tool::V2,
            Path::new("/r"),
            Some("/srv/stack.yml"),
            Some("test.env"),
            |f| f == Path::new("test.env"),
        );
        assert_eq!(
            words(p.ps()),
            "docker compose -f /srv/stack.yml --env-file test.env ps -q"
        );
        assert_eq!(p.describe(), "docker compose logs of /srv/stack.yml");
    }
}

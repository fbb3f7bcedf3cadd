//! Where the logs are: `--dir`, `--local` (`$MALL_VAR/log`), `--compose`, or found in that
//! order of preference. The decision is [`select`], a pure function of what exists (a
//! [`Probe`]); the file listing is [`list`].

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// What the command line named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Nothing: the local logs when there are some, else a running compose project.
    Auto,
    Local,
    Dir(PathBuf),
    Compose,
}

/// Where the lines will be read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Dir(PathBuf),
    Compose,
}

/// What exists on this host, as [`select`] needs to know it.
pub trait Probe {
    fn is_dir(&self, dir: &Path) -> bool;
    /// `dir/*.log` or `dir/nginx/*.log` exists.
    fn has_logs(&self, dir: &Path) -> bool;
    /// A compose tool is installed and the project has containers.
    fn compose_running(&self) -> bool;
}

/// The source for `choice`, `var_log` being `$MALL_VAR/log`; `Err` says why there are no
/// logs to read (exit 2).
pub fn select(choice: &Choice, var_log: &Path, probe: &impl Probe) -> Result<Source, String> {
    let dir = match choice {
        Choice::Compose => return Ok(Source::Compose),
        Choice::Dir(dir) => dir,
        Choice::Local => var_log,
        Choice::Auto if probe.has_logs(var_log) => var_log,
        Choice::Auto if probe.compose_running() => return Ok(Source::Compose),
        Choice::Auto => {
            return Err(format!(
                "no logs found: nothing in {} and no running compose project; use --dir DIR, \
                 --local or --compose",
                var_log.display()
            ))
        }
    };
    if !probe.is_dir(dir) {
        return Err(format!("no log directory {}", dir.display()));
    }
    if !probe.has_logs(dir) {
        return Err(format!("no *.log files in {}", dir.display()));
    }
    Ok(Source::Dir(dir.to_path_buf()))
}

/// `$MALL_VAR/log`: MALL_VAR [var] relative to the checkout's root unless absolute.
pub fn var_log(root: &Path, mall_var: Option<&str>) -> PathBuf {
    root.join(mall_var.filter(|v| !v.is_empty()).unwrap_or("var"))
        .join("log")
}

/// The real host.
pub struct Host<F: Fn() -> bool> {
    pub compose_running: F,
}

impl<F: Fn() -> bool> Probe for Host<F> {
    fn is_dir(&self, dir: &Path) -> bool {
        dir.is_dir()
    }

    fn has_logs(&self, dir: &Path) -> bool {
        let any_log = |d: &Path| {
            std::fs::read_dir(d).is_ok_and(|mut entries| {
                entries.any(|e| e.is_ok_and(|e| is_plain_log(&e.file_name().to_string_lossy())))
            })
        };
        any_log(dir) || any_log(&dir.join("nginx"))
    }

    fn compose_running(&self) -> bool {
        (self.compose_running)()
    }
}

/// `x.log`, not a hidden `.log`.
fn is_plain_log(name: &str) -> bool {
    name.strip_suffix(".log")
        .is_some_and(|stem| !stem.is_empty())
}

/// The files of a log directory (and one level down), sorted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Files {
    /// `x.log` and rotated `x.log.1`, read directly.
    pub plain: Vec<PathBuf>,
    /// `x.log.2.gz`, `x.log-20261121.gz`: read through `gzip -dc`.
    pub gz: Vec<PathBuf>,
    /// Left out for being last written before `--since`.
    pub skipped: usize,
}

/// Lists `dir`; files last written before `since` (µs) are left out: logs are appended
/// to, so such a file holds nothing newer.
pub fn list(dir: &Path, since: Option<i64>) -> Files {
    let mut files = Files::default();
    collect(dir, 0, &mut files);
    if let Some(since) = since {
        let before = files.plain.len() + files.gz.len();
        let recent = |f: &PathBuf| modified_us(f).is_none_or(|m| m >= since);
        files.plain.retain(recent);
        files.gz.retain(recent);
        files.skipped = before - files.plain.len() - files.gz.len();
    }
    files
}

fn collect(dir: &Path, depth: usize, out: &mut Files) {
    let Ok(read) = std::fs::read_dir(dir) else {
        eprintln!("mall-trace: cannot list {}", dir.display());
        return;
    };
    let mut paths: Vec<PathBuf> = read.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            if depth < 1 {
                collect(&p, depth + 1, out);
            }
            continue;
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if is_gz_log(name) {
            out.gz.push(p);
        } else if is_log_name(name) {
            out.plain.push(p);
        }
    }
}

/// `x.log` and rotated `x.log.1`, `x.log.2`, …
pub fn is_log_name(name: &str) -> bool {
    match name.rsplit_once(".log") {
        Some((stem, "")) => !stem.is_empty(),
        Some((stem, rest)) => {
            !stem.is_empty()
                && rest.len() > 1
                && rest.starts_with('.')
                && rest[1..].bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// A compressed rotated log: `*.log*.gz` (logrotate's `x.log.2.gz`, `x.log-20261121.gz`).
pub fn is_gz_log(name: &str) -> bool {
    name.strip_suffix(".gz")
        .and_then(|n| n.find(".log"))
        .is_some_and(|at| at > 0)
}

fn modified_us(path: &Path) -> Option<i64> {
    let m = std::fs::metadata(path).ok()?.modified().ok()?;
    let d = m.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_micros()).ok()
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;

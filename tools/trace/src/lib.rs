//! `mall-trace`: one request's story from its trace id (docs/trace.md). It finds the logs
//! (`--dir`, the local stack's `$MALL_VAR/log`, or `docker compose logs` run as a child
//! process: [`source`], [`compose`]), keeps the lines whose `trace_id` is the one asked for
//! and prints them as one time-ordered timeline ([`timeline`]), or as the raw lines
//! (`--json`). Only lines containing the id are parsed, so the cost is one fast pass over
//! the bytes ([`scan`]; docs/performance.md "Trace lookup"). `scripts/trace` is a shim
//! that builds (or finds) this binary and runs it with the same arguments.

pub mod cli;
pub mod compose;
pub mod entry;
pub mod scan;
pub mod source;
pub mod timeline;
pub mod when;

use std::ffi::OsString;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::cli::{Parsed, Request};
use crate::entry::Entry;
use crate::source::Source;

/// Nothing found.
pub const EXIT_NOT_FOUND: i32 = 1;
/// The logs cannot be found or read.
pub const EXIT_IO: i32 = 2;
/// Bad arguments (a malformed id or time, an unknown option), like every mall entry point.
pub const EXIT_USAGE: i32 = 64;

/// The environment mall-trace reads, gathered once by `main` (tests build it directly).
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// MALL_ROOT [the current directory]: the checkout, where `var/` and `compose/` are.
    pub root: PathBuf,
    pub mall_var: Option<String>,
    pub compose_file: Option<String>,
    pub compose_env_file: Option<String>,
}

impl Env {
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let root = var("MALL_ROOT")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."));
        Self {
            root,
            mall_var: var("MALL_VAR"),
            compose_file: var("COMPOSE_FILE_PATH"),
            compose_env_file: var("COMPOSE_ENV_FILE"),
        }
    }
}

/// The whole command: arguments (program name first) to exit code.
pub fn main<I, T>(argv: I, env: &Env) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match cli::parse(argv, now_us()) {
        Ok(Parsed::Help) => {
            print!("{}", cli::HELP);
            0
        }
        Ok(Parsed::Run(request)) => match run(&request, env) {
            Ok(code) => code,
            Err(msg) => {
                eprintln!("mall-trace: {msg}");
                EXIT_IO
            }
        },
        Err(msg) => {
            eprintln!("mall-trace: {msg}\nTry 'mall-trace --help'.");
            EXIT_USAGE
        }
    }
}

/// What was read, and from where.
struct Searched {
    found: scan::Found,
    /// For messages: the directory and its file count, or the compose command.
    what: String,
    /// Sources read (files, or the one compose command).
    sources: usize,
    /// Files left out for being older than `--since`.
    skipped: usize,
}

/// Runs a checked request; `Err` is a message for exit 2 (no logs, or none readable).
fn run(req: &Request, env: &Env) -> Result<i32, String> {
    let started = Instant::now();
    let threads = req.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2)
    });
    let since = req.since.as_ref().map(|w| w.us);
    let until = req.until.as_ref().map(|w| w.us);
    let var_log = source::var_log(&env.root, env.mall_var.as_deref());
    let project = |tool| {
        let (file, env_file) = (env.compose_file.as_deref(), env.compose_env_file.as_deref());
        compose::Project::new(tool, &env.root, file, env_file, |p| p.is_file())
    };
    let host = source::Host {
        compose_running: || compose::Tool::detect().is_some_and(|t| project(t).running()),
    };
    let searched = match source::select(&req.choice, &var_log, &host)? {
        Source::Dir(dir) => search_dir(&dir, &req.trace, since, threads),
        Source::Compose => {
            let tool = compose::Tool::detect()
                .ok_or("neither docker compose nor docker-compose is installed")?;
            let project = project(tool);
            let (program, args) = project.logs(since);
            let mut found = scan::Found::default();
            read_child(Command::new(program).args(args), &req.trace, &mut found);
            Searched {
                found,
                what: project.describe(),
                sources: 1,
                skipped: 0,
            }
        }
    };
    let Searched {
        found,
        what,
        sources,
        skipped,
    } = searched;
    for e in &found.errors {
        eprintln!("mall-trace: cannot read {e}");
    }

    let mut other = 0;
    let mut entries: Vec<Entry> = Vec::new();
    for raw in &found.lines {
        match Entry::parse(&String::from_utf8_lossy(raw), &req.trace) {
            Some(e) if since.is_none_or(|s| e.ts_us >= s) && until.is_none_or(|u| e.ts_us <= u) => {
                entries.push(e)
            }
            Some(_) => {}
            None => other += 1,
        }
    }
    let skipped_note = if skipped > 0 {
        format!(", {skipped} file(s) last written before --since not read")
    } else {
        String::new()
    };
    if req.stats {
        eprintln!(
            "mall-trace: searched {} in {what}{skipped_note} in {:.3} s ({threads} threads): \
             {} matching line(s)",
            human_bytes(found.bytes),
            started.elapsed().as_secs_f64(),
            entries.len()
        );
    }
    if other > 0 {
        eprintln!(
            "mall-trace: {other} other line(s) mention the id without being its log lines \
             (not JSON, or the id elsewhere than trace_id); grep -F {} shows them",
            req.trace
        );
    }
    if entries.is_empty() {
        if sources > 0 && found.errors.len() >= sources {
            return Err(format!("nothing could be read from {what}"));
        }
        let window = match (&req.since, &req.until) {
            (Some(s), Some(u)) => format!(" between {} and {}", s.given, u.given),
            (Some(s), None) => format!(" since {}", s.given),
            (None, Some(u)) => format!(" until {}", u.given),
            (None, None) => String::new(),
        };
        eprintln!(
            "mall-trace: no log line carries trace id {}{window} ({} searched in {what}\
             {skipped_note})",
            req.trace,
            human_bytes(found.bytes),
        );
        return Ok(EXIT_NOT_FOUND);
    }
    print(req, entries)
}

/// Every log file of `dir` (rotated and compressed ones too).
fn search_dir(dir: &std::path::Path, trace: &str, since: Option<i64>, threads: usize) -> Searched {
    let files = source::list(dir, since);
    let mut found = scan::scan_files(&files.plain, trace.as_bytes(), threads);
    for gz in &files.gz {
        let mut gzip = Command::new("gzip");
        gzip.arg("-dc").arg("--").arg(gz);
        read_child(&mut gzip, trace, &mut found);
    }
    let sources = files.plain.len() + files.gz.len();
    Searched {
        found,
        what: format!("{} ({sources} file(s))", dir.display()),
        sources,
        skipped: files.skipped,
    }
}

/// Runs `cmd` and scans what it prints as it comes; its stderr goes to ours. A command
/// that cannot start or fails is recorded in `found.errors`.
fn read_child(cmd: &mut Command, trace: &str, found: &mut scan::Found) {
    let name = format!("{cmd:?}").replace('"', "");
    let mut child = match cmd.stdin(Stdio::null()).stdout(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) => return found.errors.push(format!("{name}: cannot run it: {e}")),
    };
    let finder = memchr::memmem::Finder::new(trace.as_bytes());
    if let Some(out) = child.stdout.take() {
        match scan::scan_reader(out, &finder, &mut found.lines) {
            Ok(n) => found.bytes += n,
            Err(e) => found.errors.push(format!("{name}: {e}")),
        }
    }
    match child.wait() {
        Ok(status) if status.success() => {}
        Ok(status) => found.errors.push(format!("{name}: {status}")),
        Err(e) => found.errors.push(format!("{name}: {e}")),
    }
}

/// The timeline (or the raw lines with `--json`) on stdout.
fn print(req: &Request, mut entries: Vec<Entry>) -> Result<i32, String> {
    let mut stdout = io::stdout().lock();
    let written = if req.json {
        entries.sort_by_key(|e| e.ts_us);
        entries
            .iter()
            .try_for_each(|e| writeln!(stdout, "{}", e.raw))
    } else {
        timeline::sort_for_table(&mut entries);
        let table = timeline::render(&req.trace, &entries, req.wide);
        stdout.write_all(table.as_bytes())
    };
    match written.and_then(|()| stdout.flush()) {
        // A closed pipe (| head) is not an error.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(format!("writing the output: {e}")),
        _ => Ok(0),
    }
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_micros()).ok())
        .unwrap_or(0)
}

fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.2} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} kB", n / 1e3)
    } else {
        format!("{n} bytes")
    }
}

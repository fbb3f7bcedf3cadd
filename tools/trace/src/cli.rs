//! The command line: what `mall-trace` (and `scripts/trace`, which runs it) accepts, read
//! into a [`Request`] by pure functions, so every refusal (exit 64) is tested without a
//! host.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::{ContextKind, ErrorKind};
use clap::Parser;

use crate::source::Choice;
use crate::when;

/// `--help`: the whole story, as `scripts/trace --help` has always told it.
pub const HELP: &str = "\
Usage: mall-trace <trace-id> [options]      (scripts/trace runs it: same options)

Prints every log line of one request (nginx's access lines, auth-proxy's decision, each
service's lines, including the calls between services) as one time-ordered timeline:
time, offset, service, slot, level, status, latency and message. Hops (an nginx request,
an auth decision, a service's request) are shown where they started; the slowest hop
(most time of its own) and errors (!! 5xx or level error, ! 4xx or warn) are marked.

The trace id is the X-Trace-Id response header, or error.trace_id of an error body: 32 hex
characters (a W3C traceparent is accepted too).

Where the logs come from (first that applies):
  --dir DIR       JSON log files under DIR (and one level down), e.g. a copied var/log;
                  rotated *.log.N and compressed *.log*.gz files included
  --local         the local stack's logs: $MALL_VAR/log (default var/log), nginx/ included
  --compose       docker compose logs of the stack (compose/docker-compose.yml)
  (neither)       --local when $MALL_VAR/log has logs, else --compose when a compose
                  project is running

Options:
  --json          print the matching lines as written (one JSON object per line,
                  time-ordered) instead of the table: for jq, or to attach to a ticket
  --since WHEN    only lines written at or after WHEN: a duration back from now (90s, 15m,
                  2h, 1d) or a UTC time (2026-11-21T14:05:00Z, \"2026-11-21 14:05\"); bounds
                  the search (older local files are skipped, compose reads only that much)
  --until WHEN    only lines written at or before WHEN (same forms)
  --wide          do not shorten long messages
  --stats         say how much was searched and how long it took (stderr)
  --threads N     threads scanning files [default: the number of CPUs]
  -h, --help      this text

Environment: MALL_ROOT [the current directory; scripts/trace sets it to the checkout];
MALL_VAR [var, relative to MALL_ROOT]; COMPOSE_FILE_PATH [compose/docker-compose.yml];
COMPOSE_ENV_FILE [compose/.env when it exists]; COMPOSE_PROJECT_NAME (passed on to
compose). The compose tool is `docker compose` (v2), else `docker-compose` (v1).
scripts/trace runs MALL_TRACE_BIN when set, else the mall-trace cargo builds in the
checkout (MALL_PROFILE [debug], CARGO_TARGET_DIR), else an existing build, else the binary
copied once out of the image MALL_TRACE_IMAGE [mall/mall-trace:dev] (a host without Rust).

Exit status: 0 found, 1 nothing found, 2 logs unreadable, 64 bad arguments.
";

/// The arguments as clap reads them; [`request`] checks and converts them. A later
/// `--dir`/`--local`/`--compose` replaces an earlier one, as does a repeated option.
#[derive(Parser, Debug, Default)]
#[command(
    name = "mall-trace",
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true
)]
pub struct Args {
    /// The trace id (more than one is refused with a clear message).
    pub ids: Vec<String>,
    #[arg(long, value_name = "DIR", overrides_with_all = ["local", "compose"])]
    pub dir: Option<PathBuf>,
    #[arg(long, overrides_with_all = ["dir", "compose"])]
    pub local: bool,
    #[arg(long, overrides_with_all = ["dir", "local"])]
    pub compose: bool,
    #[arg(long)]
    pub json: bool,
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub since: Option<String>,
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true)]
    pub until: Option<String>,
    #[arg(long)]
    pub wide: bool,
    #[arg(long)]
    pub stats: bool,
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    #[arg(short = 'h', long)]
    pub help: bool,
}

/// A point in time from the command line: as given (for messages) and in µs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct When {
    pub given: String,
    pub us: i64,
}

/// What to do, checked.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub trace: String,
    pub choice: Choice,
    pub json: bool,
    pub since: Option<When>,
    pub until: Option<When>,
    pub wide: bool,
    pub stats: bool,
    pub threads: Option<usize>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Help,
    Run(Request),
}

/// Reads the arguments (the program name first); `Err` is the usage error's message.
pub fn parse<I, T>(argv: I, now_us: i64) -> Result<Parsed, String>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = Args::try_parse_from(argv).map_err(clap_message)?;
    if args.help {
        return Ok(Parsed::Help);
    }
    request(args, now_us).map(Parsed::Run)
}

/// Checks what clap read: one valid id, valid times.
pub fn request(args: Args, now_us: i64) -> Result<Request, String> {
    let trace = match args.ids.as_slice() {
        [] => {
            return Err(
                "which trace id? (the X-Trace-Id header, or trace_id in an error body)".into(),
            )
        }
        [one] => normalize_trace_id(one)?,
        [a, b, ..] => return Err(format!("one trace id at a time (got {a} and {b})")),
    };
    let time = |flag: &str, given: Option<String>| -> Result<Option<When>, String> {
        given
            .map(|g| match when::parse(&g, now_us) {
                Ok(us) => Ok(When { given: g, us }),
                Err(_) => Err(format!(
                    "{flag} {:?}: use a duration (90s, 15m, 2h, 1d) or a UTC time \
                     (2026-11-21T14:05:00Z)",
                    printable_arg(&g)
                )),
            })
            .transpose()
    };
    let choice = match (args.dir, args.local, args.compose) {
        (Some(dir), _, _) => Choice::Dir(dir),
        (None, true, _) => Choice::Local,
        (None, false, true) => Choice::Compose,
        (None, false, false) => Choice::Auto,
    };
    Ok(Request {
        trace,
        choice,
        json: args.json,
        since: time("--since", args.since)?,
        until: time("--until", args.until)?,
        wide: args.wide,
        stats: args.stats,
        threads: args.threads,
    })
}

/// clap's refusal in the words scripts/trace always used.
fn clap_message(e: clap::Error) -> String {
    let arg = || match e.get(ContextKind::InvalidArg) {
        Some(clap::error::ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    match e.kind() {
        ErrorKind::UnknownArgument => format!("unknown option: {}", arg()),
        ErrorKind::InvalidValue if arg().starts_with("--dir") => "--dir needs a directory".into(),
        ErrorKind::InvalidValue => {
            format!("{} needs a value", arg().split(' ').next().unwrap_or(""))
        }
        _ => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_owned()
        }
    }
}

/// The id in canonical form (32 lowercase hex, not all zeros), from an id or a W3C
/// `traceparent` (`00-<id>-<16 hex>-<2 hex>`), or why it is not one.
pub fn normalize_trace_id(s: &str) -> Result<String, String> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let hex = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit());
    let candidate = match s.split('-').collect::<Vec<_>>().as_slice() {
        [v, id, parent, flags] if hex(v, 2) && hex(id, 32) && hex(parent, 16) && hex(flags, 2) => {
            *id
        }
        _ => &s,
    };
    let id = candidate.to_ascii_lowercase();
    if !hex(&id, 32) || id.bytes().all(|b| b == b'0') {
        return Err(format!(
            "{:?} is not a trace id: expected 32 hex characters, as in the X-Trace-Id \
             header or the trace_id of an error body (e.g. 4bf92f3577b34da6a3ce929d0e0e4736)",
            printable_arg(&s)
        ));
    }
    Ok(id)
}

/// At most 80 characters of an argument, control characters escaped.
fn printable_arg(s: &str) -> String {
    let s: String = s.chars().take(80).collect();
    crate::timeline::printable(&s)
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;

//! The command line: `mall [options] <command>`, the same commands, options and
//! environment variables as `scripts/blue-green` had (that script now execs this).

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Parts: auth-proxy user product cart order payment (and, for ship, edge).

Hooks run with bash -c in the repository root, with MALL_BG_ACTION, MALL_BG_PART,
MALL_BG_VERSION, MALL_BG_SLOT, MALL_BG_PREVIOUS_SLOT, MALL_BG_PREVIOUS_VERSION,
MALL_BG_RUNTIME and MALL_BG_URL (nginx) set; MALL_BG_HOOK_TIMEOUT [300] bounds them.

Environment: MALL_BG_STATE_DIR (lock, state/<part>.state, audit.log)
[local: $MALL_VAR/blue-green; compose: /var/lib/mall/blue-green], MALL_BG_ACTOR (who, in
the audit log) [$SUDO_USER or the user]; local: the scripts/dev variables (MALL_VAR,
MALL_PORT_BASE, MALL_HTTP_PORT, MALL_INTERNAL_PORT, MALL_PROFILE, CARGO_TARGET_DIR, ...);
compose: MALL_COMPOSE_FILE, MALL_COMPOSE_ENV_FILE [compose/.env], MALL_BG_COMPOSE [docker
compose], MALL_IMAGE_REPO [mall], MALL_HTTP_PORT. MALL_ROOT: the repository [the current
directory; scripts/blue-green sets it].

Exit status: 0 done (or nothing to do), 1 failed or refused (the audit log says at which
stage and whether it switched back), 64 usage, 130 interrupted (what was started was put
back first). docs/deploy.md has the stages and what to do after a failure.";

/// Switches one part of the mall between its blue and green slots with no request lost
/// (docs/deploy.md).
#[derive(Debug, Parser)]
#[command(name = "mall", bin_name = "scripts/blue-green", after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub opts: Opts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ship <version> of <part> through its idle slot.
    ///
    /// Start <version> in the idle slot, wait for several consecutive /ready passes,
    /// smoke-test it directly, switch nginx to it (one marker file nginx reads per request:
    /// no reload, no connection closed), confirm through nginx, stop the old slot
    /// gracefully (kept for rollback). A failure before the switch leaves the live slot
    /// serving and stops the idle one; a failed check after the switch switches back.
    /// local: <version> is a label; the current build is snapshotted as
    /// $MALL_VAR/releases/<part>/<version>/ (an existing label is deployed as snapshotted).
    /// compose: an image tag (${MALL_IMAGE_REPO}/<binary>:<tag>) or a full image reference;
    /// never `latest`.
    Deploy { part: String, version: String },
    /// Deploy several parts at one version, in order (the pipeline's host-side step).
    ///
    /// The pipeline's host-side step (.github/workflows/deploy.yml): deploy each part at
    /// <version> in the order given (the part `edge` as `edge` does); stops at the first
    /// part that fails (its live slot keeps serving, the parts before it stay deployed),
    /// then prints status.
    Ship {
        version: String,
        #[arg(required = true)]
        parts: Vec<String>,
    },
    /// compose only: ship a new edge image (nginx config and storefront).
    ///
    /// compose only: ship a new edge image (nginx config and storefront, compose/edge/):
    /// its release is rendered and checked with nginx -t in a one-off container of the new
    /// image, the live `current` link is switched to it (atomic), the running nginx checks
    /// it again and reloads gracefully; EDGE_IMAGE/_VERSION are written into the env file.
    /// A rollback is an edge deploy of the previous version.
    Edge { version: String },
    /// Switch back to the previous slot and version, through the same stages as a deploy.
    Rollback { part: String },
    /// Live slot, version, since, by whom, rollback target, what nginx serves; recent actions.
    Status { part: Option<String> },
    #[command(about = crate::deploy_plan::ABOUT_SHORT, long_about = crate::deploy_plan::ABOUT)]
    DeployPlan(crate::deploy_plan::Args),
    /// Benchmarks through nginx on a private stack (docs/performance.md; scripts/bench).
    ///
    /// `mall bench --help` (scripts/bench --help) has its own options.
    Bench(crate::bench::BenchArgs),
    /// A test stage of scripts/test (`mall stage --help` lists them and their environment).
    #[command(after_help = crate::stages::STAGE_HELP)]
    Stage { name: crate::stages::StageName },
    /// What CI runs (scripts/test): the steps of one table, then a summary.
    ///
    /// `mall ci --help` has its options (--no-e2e, --e2e-only, --keep-stack, --only <step>...,
    /// --list); they are its own, parsed by tools/mall/src/ci/args.rs.
    #[command(disable_help_flag = true)]
    Ci {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// One request's story from its trace id, from every part's log (docs/trace.md).
    ///
    /// `mall trace --help` (scripts/trace --help) has its options; the same reader as the
    /// mall-trace binary (tools/trace).
    #[command(disable_help_flag = true)]
    Trace {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The stack (scripts/dev): up, down, status, logs, restart; `mall stack --help`.
    #[command(disable_help_flag = true)]
    Stack {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RuntimeKind {
    /// The processes and nginx of `scripts/dev up`.
    Local,
    /// compose/docker-compose.yml on this Docker host.
    Compose,
}

/// Where blue/green runs: the stack's runtimes, or the Helm chart on a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeployRuntime {
    /// The processes and nginx of `scripts/dev up`.
    Local,
    /// compose/docker-compose.yml on this Docker host.
    Compose,
    /// deploy/helm/mall on a cluster, through kubectl (docs/kubernetes.md).
    Kubernetes,
}

#[derive(Debug, Args)]
pub struct Opts {
    /// Where the stack runs.
    #[arg(
        long,
        global = true,
        env = "MALL_BG_RUNTIME",
        value_enum,
        default_value = "local"
    )]
    pub runtime: DeployRuntime,
    /// Print what would be done (commands, marker files); change nothing, take no lock,
    /// write no state or audit line.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Wait this long for another action's lock instead of failing at once.
    #[arg(
        long = "wait",
        value_name = "SECONDS",
        global = true,
        env = "MALL_BG_LOCK_WAIT",
        default_value_t = 0
    )]
    pub lock_wait: u64,
    /// Deadline for the new slot to become ready [60 local, 180 compose].
    #[arg(
        long,
        value_name = "SECONDS",
        global = true,
        env = "MALL_BG_READY_TIMEOUT"
    )]
    pub ready_timeout: Option<u64>,
    /// Consecutive /ready passes (1 s apart) that count as ready.
    #[arg(long, value_name = "N", global = true, env = "MALL_BG_READY_PASSES", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub ready_passes: u32,
    /// Seconds between /ready probes.
    #[arg(
        long,
        hide = true,
        global = true,
        env = "MALL_BG_READY_INTERVAL",
        default_value_t = 1.0
    )]
    pub ready_interval: f64,
    /// Deadline for nginx to show the new slot.
    #[arg(
        long,
        value_name = "SECONDS",
        global = true,
        env = "MALL_BG_CONFIRM_TIMEOUT",
        default_value_t = 20
    )]
    pub confirm_timeout: u64,
    /// Consecutive answers through nginx that confirm a switch.
    #[arg(long, hide = true, global = true, env = "MALL_BG_CONFIRM_PASSES", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub confirm_passes: u32,
    /// Run before the idle slot starts (e.g. an expand migration); failure aborts with
    /// nothing changed.
    #[arg(
        long,
        value_name = "COMMAND",
        global = true,
        env = "MALL_BG_PRE_DEPLOY"
    )]
    pub pre_deploy: Option<String>,
    /// Run after the switch against nginx; failure switches back.
    #[arg(long, value_name = "COMMAND", global = true, env = "MALL_BG_SMOKE")]
    pub smoke: Option<String>,
    /// local runtime only, repeatable: extra environment of the new slot (e.g. a test's
    /// DATABASE_URL); recorded for a rollback.
    #[arg(long = "env", value_name = "VAR=value", global = true, value_parser = parse_env_pair)]
    pub env: Vec<String>,
    /// Bound on each hook, in seconds.
    #[arg(
        long,
        hide = true,
        global = true,
        env = "MALL_BG_HOOK_TIMEOUT",
        default_value_t = 300
    )]
    pub hook_timeout: u64,
}

impl Opts {
    /// A hook, unless unset or empty.
    pub fn hook(value: &Option<String>) -> Option<String> {
        value.clone().filter(|v| !v.trim().is_empty())
    }

    /// The readiness deadline: the option, else the runtime's default.
    pub fn ready_timeout_s(&self) -> u64 {
        self.ready_timeout.unwrap_or(match self.runtime {
            DeployRuntime::Local => 60,
            DeployRuntime::Compose | DeployRuntime::Kubernetes => 180,
        })
    }
}

/// `--env VAR=value`: an upper-case name and a value without spaces.
fn parse_env_pair(text: &str) -> Result<String, String> {
    let bad = || "--env takes VAR=value (upper-case name, no spaces in the value)".to_owned();
    let (name, value) = text.split_once('=').ok_or_else(bad)?;
    let mut chars = name.chars();
    let name_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !name_ok || value.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    Ok(text.to_owned())
}

/// Parses the command line: help prints and exits 0; a usage error prints one line (no
/// command at all: the help) on stderr and exits 64.
pub fn parse_or_exit() -> Cli {
    use clap::error::ErrorKind;
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            std::process::exit(0)
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!("{}", e.render());
            std::process::exit(crate::EXIT_USAGE.into())
        }
        Err(e) => {
            let first = crate::say::usage_error(&e.to_string());
            eprintln!("blue-green: {first} (see scripts/blue-green --help)");
            std::process::exit(crate::EXIT_USAGE.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_come_before_or_after_the_command() {
        let cli = Cli::try_parse_from([
            "mall",
            "--runtime",
            "compose",
            "deploy",
            "product",
            "v2",
            "--ready-timeout",
            "8",
            "--env",
            "DATABASE_URL=mysql://x@127.0.0.1:1/none",
        ])
        .unwrap();
        assert_eq!(cli.opts.runtime, DeployRuntime::Compose);
        assert_eq!(cli.opts.ready_timeout_s(), 8);
        assert_eq!(cli.opts.env, ["DATABASE_URL=mysql://x@127.0.0.1:1/none"]);
        assert!(matches!(cli.command, Command::Deploy { .. }));
    }

    #[test]
    fn bad_env_pairs_and_zero_passes_are_refused() {
        for args in [
            &["mall", "deploy", "p", "v", "--env", "lower=x"][..],
            &["mall", "deploy", "p", "v", "--env", "A=b c"],
            &["mall", "--ready-passes", "0", "status"],
            &["mall", "ship", "v2"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}

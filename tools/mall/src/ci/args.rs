//! `mall ci`'s options (scripts/test's, plus --list and --only) and its help text.

use super::table;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub no_e2e: bool,
    pub e2e_only: bool,
    pub keep_stack: bool,
    pub list: bool,
    pub help: bool,
    /// `--only`: these steps (and what they need), in the table's order.
    pub only: Vec<String>,
}

/// The options, or a usage error (exit 64) saying what is wrong.
pub fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args::default();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--no-e2e" => out.no_e2e = true,
            "--e2e-only" => out.e2e_only = true,
            "--keep-stack" => out.keep_stack = true,
            "--list" => out.list = true,
            "-h" | "--help" => out.help = true,
            "--only" => {
                let start = i;
                while i + 1 < args.len() && !args[i + 1].starts_with('-') {
                    i += 1;
                    out.only.extend(
                        args[i]
                            .split(',')
                            .filter(|s| !s.is_empty())
                            .map(String::from),
                    );
                }
                if i == start {
                    return Err("--only needs at least one step name (mall ci --list)".into());
                }
            }
            other => return Err(format!("unknown option: {other}")),
        }
        i += 1;
    }
    if let Some(bad) = out.only.iter().find(|n| table::find(n).is_none()) {
        return Err(format!(
            "no step {bad}; the steps: {}",
            table::names().join(" ")
        ));
    }
    if !out.only.is_empty() && (out.no_e2e || out.e2e_only) {
        return Err("--only picks the steps itself: leave out --no-e2e and --e2e-only".into());
    }
    Ok(out)
}

pub const USAGE: &str = "\
Usage: scripts/test [options]    (mall ci [options])

Runs what CI runs (.ci/run), step by step as the table says (--list prints it): first it
installs what is missing with apt-get (nginx, shellcheck, MariaDB, Redis, chromium, jq,
curl, gettext-base, docker-compose) and the Python test tools from PyPI into one virtualenv
(~/.cache/mall/venv), starts MariaDB and Redis when they do not answer (creating an
administrative login when root signs in only over the unix socket), then:
  static     fmt, generated (the files from mall.toml: after a change of mall.toml run
             cargo run -p mall-desc -- generate), clippy, shellcheck, deny, compose,
             observability, migrations, workflows, kubernetes (the Helm chart rendered,
             schema-validated, scanned by checkov, checked against mall.toml), bg-dry-run
  build      cargo build --workspace --all-targets --locked (a failure ends the run)
  test       cargo test --workspace --exclude e2e --locked
  e2e        scripts/dev up on free ports with a private state directory, database prefix
             and Redis prefix; cargo test -p e2e; then on that stack storefront, trace-ids,
             crash, outage, load-smoke, contract (the first failure ends the e2e step),
             then auth-proxy stopped must answer 503; always scripts/dev down and the
             databases, users and Redis keys it made dropped (logs kept on failure)
  bluegreen  zero downtime under load while scripts/blue-green deploys and rolls back
  compose-e2e, bg-compose  the e2e suite and the blue/green test on real containers. They
             need a Docker engine and FAIL without one; a developer may set
             MALL_SKIP_COMPOSE=1 to skip them (CI never does)
At the end: a summary (step, pass/FAIL/skip, seconds).

Options:
  --no-e2e          stop after the unit and integration tests
  --e2e-only        only build and run the end-to-end steps
  --keep-stack      leave the end-to-end stack running afterwards (prints how to stop it)
  --only <step>...  only these steps (names or a,b,c), plus what they need: tools and
                    services always, build for the steps that need it, e2e for the steps
                    on its stack
  --list            print the table of steps (name, phase, needs, what, how) and exit
  -h, --help        this text

Environment: CARGO_TARGET_DIR (shared build directory), MALL_MYSQL_HOST/PORT/ROOT_USER/
ROOT_PASSWORD, MALL_REDIS_URL (as scripts/dev), MALL_E2E_LOGIN_RATE [100r/s] (nginx's
per-address login limit during the end-to-end run: every test logs in from 127.0.0.1),
MALL_FUZZ_SEED / MALL_FUZZ_EXAMPLES (the contract fuzzer's), MALL_SKIP_COMPOSE.

Exit status: 0 every step passed (or was skipped), 1 a step failed, 64 usage error,
130 interrupted (the e2e stack is stopped and its data dropped first).
";

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Args, String> {
        parse(&args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn scripts_tests_options_parse() {
        let a = p(&["--no-e2e", "--keep-stack"]).unwrap();
        assert!(a.no_e2e && a.keep_stack && !a.e2e_only && a.only.is_empty());
        assert!(p(&["--e2e-only"]).unwrap().e2e_only);
        assert!(p(&["-h"]).unwrap().help && p(&["--help"]).unwrap().help);
        assert!(p(&["--list"]).unwrap().list);
        assert_eq!(p(&[]).unwrap(), Args::default());
    }

    #[test]
    fn only_takes_names_until_the_next_option_and_commas() {
        let a = p(&[
            "--only",
            "fmt",
            "clippy,deny",
            "--keep-stack",
            "--only",
            "test",
        ])
        .unwrap();
        assert_eq!(a.only, ["fmt", "clippy", "deny", "test"]);
        assert!(a.keep_stack);
    }

    #[test]
    fn bad_usage_is_refused_with_a_reason() {
        assert_eq!(p(&["--nope"]).unwrap_err(), "unknown option: --nope");
        assert!(p(&["--only"]).unwrap_err().contains("at least one"));
        assert!(p(&["--only", "fmtt"]).unwrap_err().contains("no step fmtt"));
        assert!(p(&["--only", "fmt", "--no-e2e"]).is_err());
        assert!(p(&["stray"]).is_err());
    }
}

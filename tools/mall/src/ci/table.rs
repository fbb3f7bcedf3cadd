//! The CI steps as one table, in the order they run: name, what it checks, how it runs and
//! what it needs. `mall ci --list` prints it; `plan` picks the rows a run executes.

use super::ctx::Ctx;
use super::stack::Stack;
use super::{checks, on_stack, setup};

/// How a step runs.
#[derive(Clone, Copy)]
pub enum Run {
    /// `cargo <args>` in the repository.
    Cargo(&'static [&'static str]),
    /// A check written here.
    Rust(fn(&mut Ctx) -> anyhow::Result<()>),
    /// Brings the private local stack up and runs the e2e suite on it; then the `OnStack`
    /// rows, then auth-down (auth-proxy stopped: 503), all inside this step.
    E2e,
    /// On the e2e step's stack, after its suite; the first failure ends the e2e step.
    OnStack(fn(&mut Ctx, &Stack) -> anyhow::Result<()>),
    /// One of `mall stage <name>`'s stages (`stage::stage_command`).
    Stage,
}

/// Which runs include a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Every run: what the other steps stand on; a failure ends the run.
    Setup,
    /// Not with --e2e-only.
    Static,
    /// Every run; a failure skips everything after it.
    Build,
    /// Not with --no-e2e.
    E2e,
}

/// What a step needs besides the setup steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    /// compose/docker-compose.yml (skipped while it does not exist).
    ComposeFile,
    /// The build step.
    Build,
    /// The e2e step's stack (so the e2e step).
    Stack,
    /// A Docker engine (skipped only with MALL_SKIP_COMPOSE; without Docker it FAILS).
    Docker,
}

pub struct Step {
    pub name: &'static str,
    pub checks: &'static str,
    pub how: &'static str,
    pub phase: Phase,
    pub needs: Needs,
    pub run: Run,
}

const fn step(
    name: &'static str,
    checks: &'static str,
    how: &'static str,
    phase: Phase,
    needs: Needs,
    run: Run,
) -> Step {
    Step {
        name,
        checks,
        how,
        phase,
        needs,
        run,
    }
}

use Needs as N;
use Phase as P;
use Run as R;

pub const FMT: &[&str] = &["fmt", "--all", "--", "--check"];
pub const GENERATED: &[&str] = &[
    "run",
    "-q",
    "--locked",
    "-p",
    "mall-desc",
    "--",
    "generate",
    "--check",
];
pub const CLIPPY: &[&str] = &[
    "clippy",
    "--workspace",
    "--all-targets",
    "--locked",
    "--",
    "-D",
    "warnings",
];
pub const BUILD: &[&str] = &["build", "--workspace", "--all-targets", "--locked"];
pub const TEST: &[&str] = &["test", "--workspace", "--exclude", "e2e", "--locked"];

#[rustfmt::skip]
pub const STEPS: &[Step] = &[
    step("tools", "what the steps run is installed: apt-get (nginx, shellcheck, MariaDB and Redis clients and servers, chromium, jq, curl, gettext-base, docker-compose) and the pinned Python tools (~/.cache/mall/venv)", "apt-get install, python3 -m venv, pip install", P::Setup, N::Nothing, R::Rust(setup::tools)),
    step("services", "MariaDB and Redis answer (started when not; mall_admin@127.0.0.1 created when root signs in over the socket only); the tests are told where", "mysql, redis-cli, service start", P::Setup, N::Nothing, R::Rust(setup::services)),
    step("fmt", "formatting", "cargo fmt --all -- --check", P::Static, N::Nothing, R::Cargo(FMT)),
    step("generated", "the files generated from mall.toml are up to date (after a change: cargo run -p mall-desc -- generate)", "cargo run -q --locked -p mall-desc -- generate --check", P::Static, N::Nothing, R::Cargo(GENERATED)),
    step("clippy", "lints, warnings denied", "cargo clippy --workspace --all-targets --locked -- -D warnings", P::Static, N::Nothing, R::Cargo(CLIPPY)),
    step("shellcheck", "every shell script in the repository (by extension or shebang)", "shellcheck -x -S style", P::Static, N::Nothing, R::Rust(checks::shellcheck)),
    step("deny", "licences, bans, sources of Cargo.lock (deny.toml; advisories need GitHub)", "cargo-deny --log-level error check licenses bans sources", P::Static, N::Nothing, R::Rust(checks::deny)),
    step("compose", "compose/docker-compose.yml is valid", "docker compose --env-file compose/.env.example -f compose/docker-compose.yml config -q", P::Static, N::ComposeFile, R::Rust(checks::compose_config)),
    step("observability", "the Prometheus config, Grafana provisioning and dashboard (syntax and structure), the observability profile", "python3 scripts/lib/check-observability.py; compose --profile observability config -q", P::Static, N::Nothing, R::Rust(checks::observability)),
    step("migrations", "each service's migrations only add, unless marked `-- contract:`", "tools/mall/src/ci/migrations.rs", P::Static, N::Nothing, R::Rust(super::migrations::check)),
    step("workflows", ".github/workflows/*.yml against GitHub's workflow schema and zizmor's audit (nothing above informational)", "check-jsonschema --builtin-schema vendor.github-workflows; zizmor --offline", P::Static, N::Nothing, R::Rust(checks::workflows)),
    step("kubernetes", "the Helm chart (deploy/helm/mall) renders for its default, production and dev values (Helm's engine), every object is valid for Kubernetes 1.33 (strict), checkov fails no check (skips with reasons), its parts, ports and upstreams are mall.toml's, the edge's config with its upstreams passes nginx -t", "deploy/helm/render.py; kubernetes-validate; checkov; cargo test -p mall-desc --test desc kubernetes:: -- --ignored; nginx -t", P::Static, N::Nothing, R::Rust(super::kubernetes::check)),
    step("bg-dry-run", "scripts/blue-green's compose plan (--dry-run; no Docker needed)", "mall stage bg-dry-run", P::Static, N::Nothing, R::Stage),
    step("build", "the workspace builds", "cargo build --workspace --all-targets --locked", P::Build, N::Nothing, R::Cargo(BUILD)),
    step("test", "unit and integration tests against the real MariaDB and Redis", "cargo test --workspace --exclude e2e --locked", P::Static, N::Build, R::Cargo(TEST)),
    step("e2e", "scripts/dev up on free ports, private state, databases and Redis keys; the e2e suite through nginx; the steps below on its stack; then auth-proxy down answers 503; always scripts/dev down and the data dropped", "scripts/dev up --no-build; cargo test -p e2e --locked", P::E2e, N::Build, R::E2e),
    step("storefront", "the storefront in Debian's headless chromium (sign up, search, cart, checkout, cancel, declined card, admin)", "web/tests/storefront_test.py (playwright)", P::E2e, N::Stack, R::OnStack(on_stack::storefront)),
    step("trace-ids", "traced requests found in every log, every log line of the run carries its trace id, scripts/trace tells each story", "cargo test -p e2e trace::coverage (ignored); scripts/trace", P::E2e, N::Stack, R::OnStack(on_stack::trace_ids)),
    step("crash", "kill -9 of the order service in the middle of checkouts, then a restart: no money or stock lost", "cargo test -p e2e crash::crash_recovery_… (ignored, exact)", P::E2e, N::Stack, R::OnStack(on_stack::crash)),
    step("outage", "the cart's database account locked and its connections killed: 503 quickly, then recovery", "cargo test -p e2e adversarial_outage::… (ignored, exact)", P::E2e, N::Stack, R::OnStack(on_stack::outage)),
    step("load-smoke", "mall-load closed and open loop: every route of the mix answered, no errors, CPU for every process", "mall-load --mode both --json; its report checked", P::E2e, N::Stack, R::OnStack(on_stack::load_smoke)),
    step("contract", "schemathesis: docs/openapi.yaml's every check and phase as a customer, then an admin, fixed seed; 0 failures", "e2e/contract/fuzz.py", P::E2e, N::Stack, R::OnStack(on_stack::contract)),
    step("bluegreen", "zero downtime: scripts/blue-green deploys, rolls back, fails a never-ready deploy, switches auth-proxy, refuses a concurrent deploy under load; 0 failed requests of at least 5000", "mall stage bluegreen", P::E2e, N::Build, R::Stage),
    step("compose-e2e", "the mall in containers (images built here): the e2e suite through its nginx, scripts/trace from docker compose logs", "mall stage compose-e2e", P::E2e, N::Docker, R::Stage),
    step("bg-compose", "the blue/green test on real containers (same steps, load and verdict)", "mall stage bg-compose", P::E2e, N::Docker, R::Stage),
];

/// The row named `name`.
pub fn find(name: &str) -> Option<&'static Step> {
    STEPS.iter().find(|s| s.name == name)
}

/// Every step's name, in order.
pub fn names() -> Vec<&'static str> {
    STEPS.iter().map(|s| s.name).collect()
}

/// The table as `--list` prints it.
pub fn listing() -> String {
    let mut out = format!(
        "{:<13} {:<8} {:<12} what it checks / how it runs\n",
        "step", "phase", "needs"
    );
    for s in STEPS {
        let phase = format!("{:?}", s.phase).to_lowercase();
        let needs = match s.needs {
            N::Nothing => "-",
            N::ComposeFile => "compose file",
            N::Build => "build",
            N::Stack => "e2e stack",
            N::Docker => "Docker",
        };
        out.push_str(&format!(
            "{:<13} {phase:<8} {needs:<12} {}\n",
            s.name, s.checks
        ));
        out.push_str(&format!("{:<36}  runs: {}\n", "", s.how));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_scripts_tests_25_steps_in_order() {
        let want = "tools services fmt generated clippy shellcheck deny compose observability \
            migrations workflows kubernetes bg-dry-run build test e2e storefront trace-ids crash outage \
            load-smoke contract bluegreen compose-e2e bg-compose";
        assert_eq!(
            names().join(" "),
            want.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }

    #[test]
    fn cargo_rows_say_the_command_they_run() {
        for s in STEPS {
            if let Run::Cargo(args) = s.run {
                assert_eq!(s.how, format!("cargo {}", args.join(" ")), "{}", s.name);
            }
        }
    }

    #[test]
    fn stack_rows_follow_the_e2e_row_and_stages_say_so() {
        let e2e = STEPS.iter().position(|s| s.name == "e2e").unwrap();
        for (i, s) in STEPS.iter().enumerate() {
            assert_eq!(
                matches!(s.run, Run::OnStack(_)),
                s.needs == Needs::Stack,
                "{}",
                s.name
            );
            if s.needs == Needs::Stack {
                assert!(i > e2e && STEPS[e2e..i].iter().all(|r| r.phase == Phase::E2e));
            }
            if matches!(s.run, Run::Stage) {
                assert_eq!(s.how, format!("mall stage {}", s.name));
            }
        }
    }

    #[test]
    fn the_listing_names_every_step() {
        let text = listing();
        assert!(STEPS
            .iter()
            .all(|s| text.contains(s.name) && text.contains(s.how)));
        assert_eq!(text.lines().count(), 1 + 2 * STEPS.len());
    }
}

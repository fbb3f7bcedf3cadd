//! Which rows of the table a run executes or reports as skipped (pure: the options and two
//! facts about the host in, the list out).

use super::args::Args;
use super::table::{Needs, Phase, Step, STEPS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Run,
    Skip(&'static str),
}

/// What the plan depends on besides the options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Facts {
    /// MALL_SKIP_COMPOSE is set (a developer's escape hatch; CI never sets it).
    pub skip_compose: bool,
    /// compose/docker-compose.yml exists.
    pub compose_file: bool,
}

/// The rows in table order, each to run or to report skipped; rows left out are not
/// mentioned at all (as scripts/test did with --e2e-only's static steps).
pub fn plan(args: &Args, facts: Facts) -> Vec<(&'static Step, Action)> {
    let chosen = |s: &Step| -> Option<Action> {
        if s.phase == Phase::Setup || (args.only.is_empty() && s.phase == Phase::Build) {
            return Some(Action::Run);
        }
        if !args.only.is_empty() {
            return needed(s, &args.only).then_some(Action::Run);
        }
        match s.phase {
            Phase::Static if args.e2e_only => None,
            Phase::E2e if args.no_e2e => {
                (s.needs != Needs::Stack).then_some(Action::Skip("--no-e2e"))
            }
            _ => Some(Action::Run),
        }
    };
    STEPS
        .iter()
        .filter_map(|s| {
            let action = match chosen(s)? {
                Action::Run if s.needs == Needs::ComposeFile && !facts.compose_file => {
                    Action::Skip("compose/docker-compose.yml does not exist yet")
                }
                Action::Run if s.needs == Needs::Docker && facts.skip_compose => {
                    Action::Skip("MALL_SKIP_COMPOSE is set")
                }
                a => a,
            };
            Some((s, action))
        })
        .collect()
}

/// `s` is one of `only` or needed by one of them (build by whatever needs it, Docker's
/// stages included; e2e by the steps on its stack).
fn needed(s: &Step, only: &[String]) -> bool {
    let picked = |f: &dyn Fn(&Step) -> bool| {
        STEPS
            .iter()
            .any(|o| only.iter().any(|n| n == o.name) && f(o))
    };
    only.iter().any(|n| n == s.name)
        || (s.name == "build"
            && picked(&|o| matches!(o.needs, Needs::Build | Needs::Stack | Needs::Docker)))
        || (s.name == "e2e" && picked(&|o| o.needs == Needs::Stack))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(args: &Args, facts: Facts) -> String {
        plan(args, facts)
            .iter()
            .map(|(s, a)| match a {
                Action::Run => s.name.to_owned(),
                Action::Skip(_) => format!("({})", s.name),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    const ALL: Facts = Facts {
        skip_compose: false,
        compose_file: true,
    };

    #[test]
    fn a_full_run_runs_every_row() {
        assert_eq!(plan(&Args::default(), ALL).len(), STEPS.len());
        assert!(plan(&Args::default(), ALL)
            .iter()
            .all(|(_, a)| *a == Action::Run));
    }

    #[test]
    fn no_e2e_reports_the_end_to_end_steps_skipped() {
        let args = Args {
            no_e2e: true,
            ..Args::default()
        };
        let text = names(&args, ALL);
        assert!(
            text.ends_with("build test (e2e) (bluegreen) (compose-e2e) (bg-compose)"),
            "{text}"
        );
        assert!(!text.contains("storefront"));
    }

    #[test]
    fn e2e_only_leaves_the_static_steps_out() {
        let args = Args {
            e2e_only: true,
            ..Args::default()
        };
        assert_eq!(
            names(&args, ALL),
            "tools services build e2e storefront trace-ids crash outage load-smoke contract \
             bluegreen compose-e2e bg-compose"
        );
    }

    #[test]
    fn mall_skip_compose_and_a_missing_compose_file_skip_their_rows() {
        let facts = Facts {
            skip_compose: true,
            compose_file: false,
        };
        let text = names(&Args::default(), facts);
        assert!(text.contains("(compose) observability"));
        assert!(text.ends_with("bluegreen (compose-e2e) (bg-compose)"));
    }

    #[test]
    fn only_runs_the_steps_and_what_they_need() {
        let only = |n: &[&str]| Args {
            only: n.iter().map(|s| (*s).to_owned()).collect(),
            ..Args::default()
        };
        assert_eq!(names(&only(&["fmt"]), ALL), "tools services fmt");
        assert_eq!(
            names(&only(&["test", "fmt"]), ALL),
            "tools services fmt build test"
        );
        assert_eq!(
            names(&only(&["contract"]), ALL),
            "tools services build e2e contract"
        );
        assert_eq!(
            names(&only(&["bg-compose"]), ALL),
            "tools services build bg-compose"
        );
        assert_eq!(
            names(&only(&["bg-dry-run"]), ALL),
            "tools services bg-dry-run"
        );
    }
}

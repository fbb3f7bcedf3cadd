//! The four stages helper "bgtest" ports into `mall stage <name>` (tools/mall/src/stages/).
//! Until that merges they run as scripts/test ran them: the bash libraries sourced, then
//! the stage's function. ONE adapter: at the merge, `stage_command` becomes
//! `mall stage <name>` and nothing else here changes.

use std::process::Command;

use super::ctx::Ctx;

/// The bash function of each stage.
pub fn function(name: &str) -> Option<&'static str> {
    Some(match name {
        "bg-dry-run" => "bg_dry_run_check",
        "bluegreen" => "run_bluegreen",
        "compose-e2e" => "run_compose_e2e",
        "bg-compose" => "run_bluegreen_compose",
        _ => return None,
    })
}

/// What scripts/test sourced for them (run_cargo was its own); `|| exit` keeps errexit off
/// inside the function, as scripts/test's `step <name> <function> || true` did.
const SCRIPT: &str = r#"set -euo pipefail
for lib in common db host nginx stack compose bg-test compose-test bg-compose-test; do
    # shellcheck source=/dev/null
    source "scripts/lib/${lib}.sh"
done
run_cargo() { (cd "$MALL_ROOT" && cargo "$@"); }
"$1" || exit $?
"#;

/// The command that runs stage `name` (a table row with `Run::Stage`).
pub fn stage_command(ctx: &Ctx, name: &str) -> Command {
    let mut c = ctx.cmd("bash");
    c.args(["-c", SCRIPT, "mall-stage"])
        .arg(function(name).unwrap_or(name));
    c
}

#[cfg(test)]
mod tests {
    use super::super::table::{Run, STEPS};
    use super::*;

    #[test]
    fn every_stage_row_has_its_function() {
        for s in STEPS.iter().filter(|s| matches!(s.run, Run::Stage)) {
            let f = function(s.name).unwrap();
            let libs = [
                "bg-dry-run-test",
                "bg-test",
                "compose-test",
                "bg-compose-test",
            ];
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lib");
            let defined = libs.iter().any(|l| {
                std::fs::read_to_string(root.join(format!("{l}.sh")))
                    .unwrap()
                    .contains(&format!("\n{f}() ("))
            });
            assert!(defined, "{} runs {f}, which no library defines", s.name);
        }
        assert_eq!(
            STEPS.iter().filter(|s| matches!(s.run, Run::Stage)).count(),
            4
        );
    }
}

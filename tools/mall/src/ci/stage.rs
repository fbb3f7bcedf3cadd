//! The four stages that run as `mall stage <name>` (tools/mall/src/stages/): bg-dry-run,
//! bluegreen, compose-e2e, bg-compose. Each runs as a child process of this binary, so a
//! stage's own output, exit status and clean-up are exactly what `mall stage` does alone.

use std::process::Command;

use super::ctx::Ctx;

/// The command that runs stage `name` (a table row with `Run::Stage`).
pub fn stage_command(ctx: &Ctx, name: &str) -> Command {
    // The build step may have replaced this binary (cargo's --all-targets build links it
    // again): /proc/self/exe then names "<path> (deleted)", and the new one is at <path>.
    let me = std::env::current_exe().map_or_else(
        |_| "mall".into(),
        |p| match p.to_str().and_then(|s| s.strip_suffix(" (deleted)")) {
            Some(path) => path.into(),
            None => p,
        },
    );
    let mut c = ctx.cmd(me);
    c.args(["stage", name]);
    c
}

#[cfg(test)]
mod tests {
    use super::super::table::{Run, STEPS};
    use clap::ValueEnum;

    #[test]
    fn every_stage_row_names_a_stage_of_mall_stage() {
        let stages: Vec<_> = STEPS
            .iter()
            .filter(|s| matches!(s.run, Run::Stage))
            .collect();
        assert_eq!(stages.len(), 4);
        for s in stages {
            assert!(
                crate::stages::StageName::from_str(s.name, false).is_ok(),
                "{} is not a stage of `mall stage`",
                s.name
            );
        }
    }
}

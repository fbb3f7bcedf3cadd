//! The trace-ids step, after the e2e suite on its stack (before auth-down, which stops
//! auth-proxy): the ignored coverage test traces a cart write, a failing cart write, an
//! unauthenticated request and, when the order service runs, a paid and a declined
//! checkout; checks each one's lines in every log; then audits every line of the run
//! (e2e/tests/api/trace/coverage.rs). Then scripts/trace must tell each story: the answer,
//! every part, as many lines with --json, and clear refusals.

use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use super::ctx::{run, Ctx};
use super::host::random_hex;
use super::stack::Stack;
use crate::say;

fn take<'a>(s: &'a str, ok: &dyn Fn(char) -> bool) -> (usize, &'a str) {
    let n = s.find(|c: char| !ok(c)).unwrap_or(s.len());
    (n, &s[n..])
}

/// A line of scripts/trace's table from `part` (`^.. [0-9:.]+ +[0-9.]+ +<part> `).
pub fn line_from(line: &str, part: &str) -> bool {
    let mut chars = line.char_indices().skip(2);
    if chars.next().map(|(_, c)| c) != Some(' ') {
        return false;
    }
    let Some((start, _)) = chars.next() else {
        return false;
    };
    let rest = &line[start..];
    let (n, rest) = take(rest, &|c| c.is_ascii_digit() || c == ':' || c == '.');
    let (spaces, rest) = take(rest, &|c| c == ' ');
    let (m, rest) = take(rest, &|c| c.is_ascii_digit() || c == '.');
    let (spaces2, rest) = take(rest, &|c| c == ' ');
    n > 0
        && spaces > 0
        && m > 0
        && spaces2 > 0
        && rest.strip_prefix(part).is_some_and(|r| r.starts_with(' '))
}

fn trace(ctx: &Ctx, args: &[&str]) -> Command {
    let mut c = ctx.cmd("bash");
    c.arg("scripts/trace").args(args);
    c
}

/// Its exit code and stdout; its stderr shown, or dropped for the expected refusals.
fn output(mut c: Command, show_errors: bool) -> anyhow::Result<(Option<i32>, String)> {
    c.stderr(if show_errors {
        Stdio::inherit()
    } else {
        Stdio::null()
    });
    let out = c.output().context("while running scripts/trace")?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
            .trim_end_matches('\n')
            .to_owned(),
    ))
}

pub fn check(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    let ids = stack.var.join("trace-coverage.ids");
    let dir = stack.var.join("log").display().to_string();
    let _ = std::fs::remove_file(&ids);
    let mut test = ctx.e2e_ignored("trace::coverage::every_line_of_the_run_carries_its_trace_id");
    test.arg("--nocapture").env("MALL_TRACE_IDS_FILE", &ids);
    run(test)?;
    let list = std::fs::read_to_string(&ids).unwrap_or_default();
    if list.is_empty() {
        bail!("the coverage test wrote no trace ids to {}", ids.display());
    }
    ctx.set(
        "MALL_TRACE_BIN",
        ctx.target_bin("mall-trace").display().to_string(),
    );
    for line in list.lines() {
        let mut words = line.split_whitespace();
        let (name, id, status) = (
            words.next().unwrap_or(""),
            words.next().unwrap_or(""),
            words.next().unwrap_or(""),
        );
        let parts: Vec<&str> = words
            .flat_map(|w| w.split(','))
            .filter(|p| !p.is_empty())
            .collect();
        let (code, out) = output(trace(ctx, &[id, "--dir", &dir, "--wide"]), true)?;
        if code != Some(0) {
            bail!("scripts/trace {id} ({name}) failed");
        }
        if !out.contains(&format!("answer: {status} after")) {
            bail!("scripts/trace {id} ({name}) does not show the answer {status}:\n{out}");
        }
        for part in ["nginx", "auth-proxy"].into_iter().chain(parts) {
            if !out.lines().any(|l| line_from(l, part)) {
                bail!("scripts/trace {id} ({name}) shows no line from {part}:\n{out}");
            }
        }
        let (code, json) = output(trace(ctx, &[id, "--dir", &dir, "--json"]), true)?;
        if code != Some(0) {
            bail!("scripts/trace {id} --json ({name}) failed");
        }
        let n = json.lines().filter(|l| !l.is_empty()).count();
        let first = out.lines().next().unwrap_or("");
        let parses = json
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok());
        if !out.starts_with(&format!("trace {id}: {n} lines from ")) || !parses {
            bail!("scripts/trace {id} --json printed {n} lines, the table says: {first}");
        }
        say::log(&format!("scripts/trace {name}: {first}"));
    }
    let (code, _) = output(trace(ctx, &["not-a-trace-id", "--dir", &dir]), false)?;
    if code != Some(64) {
        bail!("scripts/trace with a malformed id exited {code:?}, not 64");
    }
    let (code, _) = output(trace(ctx, &[&random_hex(16), "--dir", &dir]), false)?;
    if code != Some(1) {
        bail!("scripts/trace with an unknown id exited {code:?}, not 1");
    }
    let stories = list.lines().filter(|l| !l.is_empty()).count();
    say::log(&format!(
        "trace ids: every line of the run checked; scripts/trace told {stories} stories"
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lines_are_matched_by_part() {
        let line = "+0 12:00:01.250   3.1  auth-proxy  GET /api/cart 200";
        assert!(line_from(line, "auth-proxy"));
        assert!(!line_from(line, "auth"));
        assert!(!line_from(line, "nginx"));
        assert!(!line_from("trace abc: 5 lines from", "nginx"));
        assert!(line_from("-> 1.5 0 nginx x", "nginx"));
    }
}

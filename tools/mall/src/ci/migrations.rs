//! Expand/contract: while blue and green run side by side on one database, a migration may
//! only add (tables, columns, indexes, constraints). A step that drops, renames, truncates
//! or changes a column is a *contract* step and must say so in its first ten lines:
//!     -- contract: <why every running version no longer needs it>
//! (docs/deploy.md "Migrations").

use std::path::Path;

use anyhow::bail;

use super::ctx::Ctx;
use crate::say;

/// The file's statements, upper-cased, with comments, string literals and quoted
/// identifiers emptied (so `-- don't drop` or a column named `drop_reason` is no DROP).
pub fn statements(sql: &str) -> Vec<String> {
    let joined: String = sql
        .lines()
        .map(|l| format!("{} ", strip_line_comment(l)))
        .collect();
    // Left to right; an unclosed comment or quote is left as it is (it hides nothing).
    let mut out = String::new();
    let mut rest = joined.as_str();
    while let Some(c) = rest.chars().next() {
        let (open, close) = match c {
            '/' if rest.starts_with("/*") => ("/*", "*/"),
            '\'' => ("'", "'"),
            '"' => ("\"", "\""),
            '`' => ("`", "`"),
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
                continue;
            }
        };
        match rest[open.len()..].find(close) {
            Some(end) => {
                out.push_str(if open == "/*" { " " } else { open });
                if open != "/*" {
                    out.push_str(close);
                }
                rest = &rest[open.len() + end + close.len()..];
            }
            None => {
                out.push_str(rest);
                rest = "";
            }
        }
    }
    out.split(';').map(str::to_uppercase).collect()
}

/// A `-- ` comment (or a `--` at the end) taken off the line.
fn strip_line_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for i in 0..bytes.len().saturating_sub(1) {
        if &bytes[i..i + 2] == b"--" {
            match bytes.get(i + 2) {
                None => return &line[..i],
                Some(b) if b.is_ascii_whitespace() => return &line[..i],
                _ => {}
            }
        }
    }
    line
}

fn words(statement: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in statement
        .char_indices()
        .chain(std::iter::once((statement.len(), ' ')))
    {
        let word = c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &statement[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// A statement takes something away: DROP, RENAME, TRUNCATE, or an ALTER TABLE that
/// CHANGEs or MODIFYs a column.
pub fn destructive(statement: &str) -> bool {
    let w = words(statement);
    if w.iter()
        .any(|(_, x)| matches!(*x, "DROP" | "RENAME" | "TRUNCATE"))
    {
        return true;
    }
    let spaced = |a: &(usize, &str), b: &(usize, &str)| {
        let gap = &statement[a.0 + a.1.len()..b.0];
        !gap.is_empty() && gap.chars().all(char::is_whitespace)
    };
    w.iter().enumerate().any(|(i, a)| {
        if a.1 != "ALTER" {
            return false;
        }
        let mut j = i + 1;
        if w.get(j)
            .is_some_and(|b| matches!(b.1, "ONLINE" | "IGNORE") && spaced(a, b))
        {
            j += 1;
        }
        let Some(table) = w.get(j).filter(|t| t.1 == "TABLE" && spaced(&w[j - 1], t)) else {
            return false;
        };
        // `.*` after TABLE's word boundary: CHANGE or MODIFY anywhere later.
        w[j..]
            .iter()
            .any(|x| x.0 > table.0 && matches!(x.1, "CHANGE" | "MODIFY"))
    })
}

/// The marker comment in the first ten lines.
pub fn is_contract_step(sql: &str) -> bool {
    sql.lines().take(10).any(|l| {
        l.strip_prefix("--").is_some_and(|rest| {
            let rest = rest.trim_start();
            rest.get(..9)
                .is_some_and(|m| m.eq_ignore_ascii_case("contract:"))
                && rest[9..].trim_start().chars().next().is_some()
        })
    })
}

/// Checks every services/*/migrations/*.sql under `root`; the number of files.
pub fn check_in(root: &Path) -> anyhow::Result<usize> {
    let mut files: Vec<_> = std::fs::read_dir(root.join("services"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path().join("migrations"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|d| d.flatten().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut bad_files = 0;
    for file in &files {
        let rel = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        let sql = std::fs::read_to_string(file)?;
        let bad: Vec<String> = statements(&sql)
            .into_iter()
            .filter(|s| destructive(s))
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if bad.is_empty() {
            continue;
        }
        if is_contract_step(&sql) {
            say::log(&format!("contract step (marked): {rel}"));
            continue;
        }
        say::warn(&format!(
            "{rel} takes something away, which the other slot may still use:"
        ));
        bad.iter()
            .for_each(|s| eprintln!("    {}", s.chars().take(156).collect::<String>()));
        say::warn("  split it: expand now (add), contract in a later release marked '-- contract: <why>' (docs/deploy.md)");
        bad_files += 1;
    }
    if bad_files > 0 {
        bail!("{bad_files} migration(s) take something away unmarked");
    }
    Ok(files.len())
}

pub fn check(ctx: &mut Ctx) -> anyhow::Result<()> {
    let n = check_in(&ctx.root)?;
    say::log(&format!(
        "migrations: {n} files, each only adds or is a marked contract step"
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(sql: &str) -> bool {
        statements(sql).iter().any(|s| destructive(s))
    }

    #[test]
    fn additive_steps_pass_even_with_words_in_comments_strings_and_names() {
        let sql = "-- Additive only; we don't drop anything here.\n\
            CREATE TABLE IF NOT EXISTS t (id BIGINT PRIMARY KEY, drop_reason VARCHAR(20) DEFAULT 'drop');\n\
            ALTER TABLE t ADD COLUMN `rename` INT NULL, ADD INDEX ix_t_rename (`rename`);\n\
            /* DROP TABLE t; (an example in a comment) */\n";
        assert!(!bad(sql));
    }

    #[test]
    fn drops_renames_truncates_changes_and_modifies_are_caught() {
        for sql in [
            "ALTER TABLE t\n  DROP COLUMN c;",
            "ALTER TABLE t CHANGE c d INT;",
            "alter online table t modify c BIGINT;",
            "RENAME TABLE a TO b;",
            "truncate t;",
            "ALTER IGNORE TABLE t ADD x INT, MODIFY y INT;",
            "drop index ix on t; -- gone",
            "CREATE TABLE a (x INT);--\nDROP TABLE b;",
        ] {
            assert!(bad(sql), "{sql}");
        }
        assert!(!bad(
            "ALTER TABLE t ADD COLUMN changed_at INT, ADD modified INT;"
        ));
        assert!(!bad("SELECT 'a;DROP' FROM t; -- DROP"));
        // An unclosed comment or quote hides nothing after it.
        assert!(bad("SELECT 1; /* oops\nDROP TABLE t;"));
        assert!(bad("SELECT 'oops; DROP TABLE t;"));
    }

    #[test]
    fn only_a_marker_with_a_reason_in_the_first_lines_makes_a_contract_step() {
        assert!(is_contract_step("-- contract: no running version reads c since 0001 (expand)\nALTER TABLE t DROP COLUMN c;"));
        assert!(is_contract_step("--CONTRACT:why\nDROP TABLE t;"));
        assert!(!is_contract_step("-- contract:\nDROP TABLE t;"));
        assert!(!is_contract_step(&format!(
            "{}-- contract: late\n",
            "--\n".repeat(10)
        )));
    }

    #[test]
    fn the_checker_refuses_an_unmarked_drop_in_a_tree_and_passes_the_repository() {
        let dir = std::env::temp_dir().join(format!(
            "mall-migrations-{}",
            super::super::host::random_hex(4)
        ));
        let m = dir.join("services/b/migrations");
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(m.join("0002_drop.sql"), "ALTER TABLE t\n  DROP COLUMN c;\n").unwrap();
        assert!(check_in(&dir).is_err());
        std::fs::write(
            m.join("0002_drop.sql"),
            "-- contract: unused since 0001\nALTER TABLE t DROP COLUMN c;\n",
        )
        .unwrap();
        assert_eq!(check_in(&dir).unwrap(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        assert!(check_in(&root).unwrap() > 0);
    }
}

//! Running commands, and printing them instead under `--dry-run`: one `+ <command>` line,
//! quoted as bash's `printf %q` quotes, so a printed line can be pasted into a shell.

use std::os::fd::AsFd;
use std::process::{Command, Stdio};

use anyhow::Context;

/// A command line: the program and its arguments.
pub type Argv = Vec<String>;

/// `words` as one line of shell words.
pub fn quote_line(words: &[String]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// One word as bash's `printf %q` writes it.
pub fn quote(word: &str) -> String {
    if word.is_empty() {
        return "''".into();
    }
    if word.chars().any(|c| c.is_control()) {
        let inner: String = word
            .chars()
            .map(|c| match c {
                '\n' => "\\n".into(),
                '\t' => "\\t".into(),
                '\r' => "\\r".into(),
                '\'' => "\\'".into(),
                '\\' => "\\\\".into(),
                c if c.is_control() => format!("\\{:03o}", c as u32),
                c => c.to_string(),
            })
            .collect();
        return format!("$'{inner}'");
    }
    let mut out = String::with_capacity(word.len() + 8);
    for (i, c) in word.chars().enumerate() {
        let special = " !\"$&'()*,;<>?[\\]^`{|}".contains(c) || (i == 0 && (c == '#' || c == '~'));
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Owned words from string slices.
pub fn argv(words: &[&str]) -> Argv {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// Runs commands that change something, or (dry run) prints them.
#[derive(Clone, Copy, Debug)]
pub struct Runner {
    pub dry_run: bool,
}

impl Runner {
    /// Prints a dry-run line: `+ <what>`.
    pub fn show(&self, what: &str) {
        println!("+ {what}");
    }

    /// Runs the command (stdin from /dev/null, its output on our stderr) and fails unless
    /// it exits 0; in a dry run only prints it.
    pub fn act(&self, cmd: &[String]) -> anyhow::Result<()> {
        if self.dry_run {
            self.show(&quote_line(cmd));
            return Ok(());
        }
        if status(cmd)? {
            Ok(())
        } else {
            anyhow::bail!("`{}` failed", quote_line(cmd))
        }
    }
}

/// Runs a command with its output on our stderr; true when it exited 0.
pub fn status(cmd: &[String]) -> anyhow::Result<bool> {
    let (program, args) = cmd.split_first().context("an empty command")?;
    let mut command = Command::new(program);
    command.args(args);
    status_of(command)
}

/// Runs a prepared command (stdin from /dev/null, stdout on our stderr); true on exit 0.
pub fn status_of(mut command: Command) -> anyhow::Result<bool> {
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .context("while duplicating stderr")?;
    let program = command.get_program().to_string_lossy().into_owned();
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(stderr))
        .status()
        .with_context(|| format!("while running {program}"))?;
    Ok(status.success())
}

/// Runs a command, stderr discarded; its stdout when it exited 0, else `None`.
pub fn read(cmd: &[String]) -> Option<String> {
    let (program, args) = cmd.split_first()?;
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// True when `program` is on the PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// The value of one header in an HTTP header block (case-insensitive name).
pub fn header_value(block: &str, name: &str) -> Option<String> {
    block.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_matches_bash_printf_q() {
        assert_eq!(quote("product-green"), "product-green");
        assert_eq!(
            quote("^upstream product_green {"),
            "\\^upstream\\ product_green\\ \\{"
        );
        assert_eq!(
            quote(r#"mv -f "/e/.$1.green.tmp" "/e/$1.green""#),
            r#"mv\ -f\ \"/e/.\$1.green.tmp\"\ \"/e/\$1.green\""#
        );
        assert_eq!(quote("a,b=c:d@e/f~g"), "a\\,b=c:d@e/f~g");
        assert_eq!(quote("#x"), "\\#x");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a\nb"), "$'a\\nb'");
    }

    #[test]
    fn header_values_are_found_case_insensitively() {
        let block = "HTTP/1.1 200 OK\r\nX-Served-By: product-blue@v1\r\n\r\n";
        assert_eq!(
            header_value(block, "x-served-by").as_deref(),
            Some("product-blue@v1")
        );
        assert_eq!(header_value(block, "x-trace-id"), None);
    }
}

//! Step bookkeeping: the `==> [elapsed] step` progress lines and the summary at the end, in
//! scripts/test's format (step, pass/FAIL/skip, seconds), on stderr.

use std::time::Instant;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass(u64),
    Fail(u64),
    Skip(String),
}

pub struct Report {
    start: Instant,
    /// In the order the steps finished (the steps on the e2e stack before e2e itself).
    pub results: Vec<(String, Outcome)>,
}

impl Default for Report {
    fn default() -> Self {
        Self::new()
    }
}

impl Report {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            results: Vec::new(),
        }
    }

    pub fn failed(&self) -> bool {
        self.results
            .iter()
            .any(|(_, o)| matches!(o, Outcome::Fail(_)))
    }

    pub fn elapsed(&self) -> String {
        elapsed(self.start.elapsed().as_secs())
    }

    pub fn begin(&self, name: &str) {
        eprintln!("\n==> [{}] {name}", self.elapsed());
    }

    /// Records a finished step and prints its end line.
    pub fn end(&mut self, name: &str, began: Instant, error: Option<&anyhow::Error>) {
        let secs = began.elapsed().as_secs();
        match error {
            None => {
                eprintln!("==> [{}] {name}: pass ({secs}s)", self.elapsed());
                self.results.push((name.to_owned(), Outcome::Pass(secs)));
            }
            Some(err) => {
                eprintln!("==> [{}] {name}: FAILED ({err:#}, {secs}s)", self.elapsed());
                self.results.push((name.to_owned(), Outcome::Fail(secs)));
            }
        }
    }

    pub fn skip(&mut self, name: &str, why: &str) {
        self.results
            .push((name.to_owned(), Outcome::Skip(why.to_owned())));
    }

    pub fn summary(&self) -> String {
        let mut out = format!("\n==> summary after {}\n", self.elapsed());
        for (name, outcome) in &self.results {
            out.push_str(&format!("    {}\n", line(name, outcome)));
        }
        out.push_str(if self.failed() {
            "==> FAILED\n"
        } else {
            "==> all passed\n"
        });
        out
    }
}

/// `3m07s`.
pub fn elapsed(secs: u64) -> String {
    format!("{}m{:02}s", secs / 60, secs % 60)
}

/// One summary line: `clippy      pass    41s`.
pub fn line(name: &str, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Pass(s) => format!("{name:<11} pass  {s:>4}s"),
        Outcome::Fail(s) => format!("{name:<11} FAIL  {s:>4}s"),
        Outcome::Skip(why) => format!("{name:<11} skip  ({why})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_scripts_tests() {
        assert_eq!(line("fmt", &Outcome::Pass(3)), "fmt         pass     3s");
        assert_eq!(
            line("compose-e2e", &Outcome::Fail(1234)),
            "compose-e2e FAIL  1234s"
        );
        assert_eq!(
            line("e2e", &Outcome::Skip("--no-e2e".into())),
            "e2e         skip  (--no-e2e)"
        );
        assert_eq!(elapsed(187), "3m07s");
        assert_eq!(elapsed(0), "0m00s");
    }

    #[test]
    fn the_summary_says_failed_when_one_step_failed() {
        let mut r = Report::new();
        r.skip("compose", "why");
        assert!(r
            .summary()
            .ends_with("    compose     skip  (why)\n==> all passed\n"));
        r.end("fmt", Instant::now(), Some(&anyhow::anyhow!("exit 1")));
        assert!(r.failed());
        assert!(r
            .summary()
            .ends_with("    fmt         FAIL     0s\n==> FAILED\n"));
    }
}

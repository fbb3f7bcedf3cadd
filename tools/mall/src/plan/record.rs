//! A part's record (`state/<part>.state`: `key=value` lines) and how it is made to agree
//! with what runs. Pure: reading and writing the file is `bookkeeping::state`.

use std::collections::BTreeMap;

use crate::parts::Slot;

/// Keys: part, live (slot), since, by, action, and per slot `<slot>_version`,
/// `<slot>_artifact` (local: the binary's path; compose: the image), `<slot>_env` (extra
/// variables of a local slot, space-separated `VAR=value`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub values: BTreeMap<String, String>,
}

impl Record {
    /// A value, empty when unset (as the bash record reader had it).
    pub fn get(&self, key: &str) -> &str {
        self.values.get(key).map(String::as_str).unwrap_or("")
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_owned(), value.into());
    }

    pub fn slot(&self, slot: Slot, what: &str) -> &str {
        self.get(&format!("{slot}_{what}"))
    }

    pub fn set_slot(&mut self, slot: Slot, what: &str, value: impl Into<String>) {
        self.set(&format!("{slot}_{what}"), value);
    }

    /// The recorded live slot, if any.
    pub fn live(&self) -> Option<Slot> {
        Slot::parse(self.get("live"))
    }

    /// Parses the file's text: `key=value` lines; comments and other lines are skipped.
    pub fn parse(text: &str) -> Self {
        let values = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Self { values }
    }

    /// The file's text, keys sorted.
    pub fn render(&self, part: &str) -> String {
        let mut out = format!(
            "# scripts/blue-green state of {part}; written atomically, do not edit by hand.\n"
        );
        for (key, value) in &self.values {
            out.push_str(&format!("{key}={value}\n"));
        }
        out
    }
}

/// What `reconcile` decided: the live version and the record to keep.
#[derive(Debug, PartialEq, Eq)]
pub struct Reconciled {
    pub live_version: String,
    pub record: Record,
    pub warnings: Vec<String>,
}

/// Makes the record agree with what runs: the live slot from nginx's marker, its version
/// from `X-Served-By` through nginx (`seen`). When the record disagrees (the stack was
/// restarted, a deploy was killed half-way, someone switched by hand), the live slot's
/// entry is replaced by what runs, with a warning; the idle slot's entry, the rollback
/// target, is kept.
pub fn reconcile(
    part: &str,
    record: &Record,
    live: Slot,
    seen: Option<&str>,
    dry_run: bool,
) -> Reconciled {
    let mut warnings = Vec::new();
    let prefix = format!("{part}-{live}@");
    let live_version = match seen.and_then(|s| s.strip_prefix(&prefix)) {
        Some(version) => version.to_owned(),
        None => {
            if !dry_run {
                warnings.push(format!(
                    "nginx's {part} traffic is not answered by {part}-{live} (got: {}); the live slot is not healthy, continuing so a new version can replace it",
                    seen.unwrap_or("no answer")
                ));
            }
            match record.slot(live, "version") {
                "" => "unknown".to_owned(),
                v => v.to_owned(),
            }
        }
    };
    let mut out = record.clone();
    if record.get("live") != live.to_string() || record.slot(live, "version") != live_version {
        if let Some(was) = record.live() {
            warnings.push(format!(
                "the record says {part} is {was}@{}, but {live}@{live_version} is live; recording what runs",
                record.slot(was, "version")
            ));
        }
        out.set("part", part);
        out.set("live", live.to_string());
        out.set("since", "-");
        out.set("by", "(observed)");
        out.set("action", "observed");
        if record.slot(live, "version") != live_version {
            out.set_slot(live, "version", live_version.clone());
            out.set_slot(live, "env", "");
        }
    }
    Reconciled {
        live_version,
        record: out,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(lines: &[&str]) -> Record {
        Record::parse(&lines.join("\n"))
    }

    #[test]
    fn parse_and_render_round_trip_sorted() {
        let r = record(&["# comment", "live=green", "blue_version=1", "junk"]);
        assert_eq!(r.get("live"), "green");
        assert_eq!(r.get("missing"), "");
        assert_eq!(
            r.render("product"),
            "# scripts/blue-green state of product; written atomically, do not edit by hand.\nblue_version=1\nlive=green\n"
        );
    }

    #[test]
    fn an_agreeing_record_is_kept_as_it_is() {
        let r = record(&["part=product", "live=blue", "blue_version=v1", "by=ci"]);
        let got = reconcile("product", &r, Slot::Blue, Some("product-blue@v1"), false);
        assert_eq!(got.live_version, "v1");
        assert_eq!(got.record, r);
        assert!(got.warnings.is_empty());
    }

    #[test]
    fn a_stale_record_takes_what_runs_and_keeps_the_rollback_target() {
        let r = record(&[
            "live=green",
            "green_version=v2",
            "blue_version=v1",
            "blue_env=A=b",
        ]);
        let got = reconcile("product", &r, Slot::Blue, Some("product-blue@v3"), false);
        assert_eq!(got.live_version, "v3");
        assert_eq!(got.record.get("live"), "blue");
        assert_eq!(got.record.get("by"), "(observed)");
        assert_eq!(got.record.slot(Slot::Blue, "version"), "v3");
        assert_eq!(got.record.slot(Slot::Blue, "env"), "");
        assert_eq!(got.record.slot(Slot::Green, "version"), "v2");
        assert_eq!(got.warnings.len(), 1);
        assert!(got.warnings[0].contains("the record says product is green@v2"));
    }

    #[test]
    fn no_answer_through_nginx_falls_back_to_the_record() {
        let r = record(&["live=blue", "blue_version=v1"]);
        let got = reconcile("cart", &r, Slot::Blue, None, false);
        assert_eq!(got.live_version, "v1");
        assert!(got.warnings[0].contains("not healthy"));
        let dry = reconcile("cart", &Record::default(), Slot::Blue, None, true);
        assert_eq!(dry.live_version, "unknown");
        assert!(dry.warnings.is_empty());
    }
}

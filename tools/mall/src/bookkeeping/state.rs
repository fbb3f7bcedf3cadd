//! `<state>/state/<part>.state`: the part's record, read and written atomically (mode 600:
//! a slot's extra variables may hold a secret).

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::plan::Record;

pub fn file(dir: &Path, part: &str) -> PathBuf {
    dir.join("state").join(format!("{part}.state"))
}

/// The part's record; empty when there is none.
pub fn load(dir: &Path, part: &str) -> anyhow::Result<Record> {
    let path = file(dir, part);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Record::parse(&text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
        Err(err) => Err(err).with_context(|| format!("while reading {}", path.display())),
    }
}

pub fn save(dir: &Path, part: &str, record: &Record) -> anyhow::Result<()> {
    super::write_atomically(&file(dir, part), &record.render(part), 0o600)
}

use std::collections::HashSet;

use super::*;

/// A host where the listed directories exist and those in `logs` hold *.log files.
struct Fake {
    dirs: HashSet<PathBuf>,
    logs: HashSet<PathBuf>,
    compose: bool,
}

impl Fake {
    fn new(dirs: &[&str], logs: &[&str], compose: bool) -> Self {
        let set = |v: &[&str]| v.iter().map(PathBuf::from).collect();
        Self {
            dirs: set(dirs),
            logs: set(logs),
            compose,
        }
    }
}

impl Probe for Fake {
    fn is_dir(&self, dir: &Path) -> bool {
        self.dirs.contains(dir)
    }
    fn has_logs(&self, dir: &Path) -> bool {
        self.logs.contains(dir)
    }
    fn compose_running(&self) -> bool {
        self.compose
    }
}

const VAR_LOG: &str = "/r/var/log";

fn pick(choice: Choice, host: &Fake) -> Result<Source, String> {
    select(&choice, Path::new(VAR_LOG), host)
}

#[test]
fn auto_prefers_local_logs_then_a_running_compose_project() {
    let both = Fake::new(&[VAR_LOG], &[VAR_LOG], true);
    assert_eq!(pick(Choice::Auto, &both), Ok(Source::Dir(VAR_LOG.into())));
    let empty_local = Fake::new(&[VAR_LOG], &[], true);
    assert_eq!(pick(Choice::Auto, &empty_local), Ok(Source::Compose));
    let nothing = Fake::new(&[VAR_LOG], &[], false);
    let msg = pick(Choice::Auto, &nothing).expect_err("no logs");
    assert!(
        msg.contains("nothing in /r/var/log and no running compose project"),
        "{msg}"
    );
}

#[test]
fn a_named_source_is_used_or_refused_without_falling_back() {
    let compose_only = Fake::new(&[], &[], true);
    let msg = pick(Choice::Local, &compose_only).expect_err("no local logs");
    assert_eq!(msg, "no log directory /r/var/log");
    let idle = Fake::new(&[], &[], false);
    assert_eq!(pick(Choice::Compose, &idle), Ok(Source::Compose));
    let copied = Fake::new(&["/tmp/copy", "/tmp/empty"], &["/tmp/copy"], false);
    assert_eq!(
        pick(Choice::Dir("/tmp/copy".into()), &copied),
        Ok(Source::Dir("/tmp/copy".into()))
    );
    let msg = pick(Choice::Dir("/tmp/empty".into()), &copied).expect_err("empty");
    assert_eq!(msg, "no *.log files in /tmp/empty");
}

#[test]
fn mall_var_is_relative_to_the_root() {
    let root = Path::new("/repo");
    assert_eq!(var_log(root, None), PathBuf::from("/repo/var/log"));
    assert_eq!(var_log(root, Some("")), PathBuf::from("/repo/var/log"));
    assert_eq!(
        var_log(root, Some("tmp/v")),
        PathBuf::from("/repo/tmp/v/log")
    );
    assert_eq!(var_log(root, Some("/srv/v")), PathBuf::from("/srv/v/log"));
}

#[test]
fn log_names() {
    for ok in ["user-blue.log", "access.log", "access.log.1", "x.log.12"] {
        assert!(is_log_name(ok), "{ok}");
    }
    for no in [
        ".log",
        "access.log.gz",
        "access.log.1.gz",
        "notes.txt",
        "x.logs",
        "x.log.",
    ] {
        assert!(!is_log_name(no), "{no}");
    }
    for gz in [
        "access.log.2.gz",
        "access.log.gz",
        "order-blue.log-20261121.gz",
    ] {
        assert!(is_gz_log(gz), "{gz}");
    }
    for no in ["backup.tar.gz", ".log.gz", "access.log"] {
        assert!(!is_gz_log(no), "{no}");
    }
}

#[test]
fn a_directory_is_listed_one_level_down_and_by_age() {
    let dir = std::env::temp_dir().join(format!("mall-trace-list-{}", std::process::id()));
    for d in ["nginx/old", "copy/nginx", "other/deep"] {
        std::fs::create_dir_all(dir.join(d)).expect("mkdir");
    }
    for f in [
        "a.log",
        "a.log.1",
        "a.log.2.gz",
        "notes.txt",
        "nginx/access.log",
        "nginx/old/x.log",
        "copy/nginx/access.log",
        "other/deep/y.log",
    ] {
        std::fs::write(dir.join(f), "{}\n").expect("write");
    }
    let files = list(&dir, None);
    let names = |v: &[PathBuf]| -> Vec<String> {
        v.iter()
            .map(|p| p.strip_prefix(&dir).unwrap_or(p).display().to_string())
            .collect()
    };
    assert_eq!(
        names(&files.plain),
        ["a.log", "a.log.1", "nginx/access.log"]
    );
    assert_eq!(names(&files.gz), ["a.log.2.gz"]);
    let host = Host {
        compose_running: || false,
    };
    assert!(host.has_logs(&dir) && host.has_logs(&dir.join("copy")));
    assert!(!host.has_logs(&dir.join("other")) && !host.has_logs(&dir.join("missing")));
    let future = list(&dir, Some(i64::MAX));
    assert_eq!(
        (future.plain.len(), future.gz.len(), future.skipped),
        (0, 0, 4)
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

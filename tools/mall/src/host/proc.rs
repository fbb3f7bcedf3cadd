//! Processes by their recorded pid: alive, running the expected executable (so a recycled
//! pid is never mistaken for one of ours), stopped with TERM and, after a bound, KILL.

use std::path::Path;
use std::time::Duration;

use super::wait_for;
use crate::say;
use crate::shell::{self, argv};

/// The process exists and is not a zombie.
pub fn pid_alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    matches!(state, Some(s) if s != "Z")
}

/// The pid is alive and runs that executable (comm is cut at 15 characters).
pub fn pid_runs(pid: u32, name: &str) -> bool {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let short: String = name.chars().take(15).collect();
    pid_alive(pid) && comm.trim_end() == short
}

/// The pid in a pid file.
pub fn read_pid(file: &Path) -> Option<u32> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

fn signal(pid: u32, sig: &str) -> bool {
    shell::read(&argv(&["kill", &format!("-{sig}"), &pid.to_string()])).is_some()
}

/// TERM, up to `grace` seconds for it to exit, then KILL; nothing when the pid does not
/// run `name`.
pub fn stop_pid(pid: u32, name: &str, grace: u64) -> anyhow::Result<()> {
    if !pid_runs(pid, name) || !signal(pid, "TERM") {
        return Ok(());
    }
    if !wait_for(grace, &format!("{name} (pid {pid}) to exit"), || {
        Ok(!pid_alive(pid))
    })? {
        say::warn(&format!(
            "{name} (pid {pid}) ignored SIGTERM for {grace}s; sending SIGKILL"
        ));
        signal(pid, "KILL");
        wait_for(5, &format!("{name} (pid {pid}) to die"), || {
            Ok(!pid_alive(pid))
        })?;
    }
    Ok(())
}

/// Waits (at most `limit`) until the pid runs `name`: a process started through setsid
/// execs the binary a moment later.
pub fn wait_exec(pid: u32, name: &str, limit: Duration) {
    let deadline = std::time::Instant::now() + limit;
    while !pid_runs(pid, name) && pid_alive(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pids of a process's children (nginx's workers), from /proc.
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_and_a_wrong_name_does_not() {
        let me = std::process::id();
        assert!(pid_alive(me));
        assert!(!pid_runs(me, "surely-not-this-binary"));
        assert!(!pid_alive(u32::MAX));
    }
}

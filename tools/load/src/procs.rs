//! CPU time and resident memory of the stack's processes during a run, from /proc.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Serialize;

/// A named group of processes (nginx's workers, one service, MariaDB, ...).
#[derive(Debug, Clone)]
pub struct Group {
    pub label: String,
    pub pids: Vec<u32>,
}

/// `LABEL=PID[,PID...]`
pub fn parse_pids(spec: &str) -> Result<Group> {
    let (label, pids) = spec
        .split_once('=')
        .context("expected LABEL=PID[,PID...]")?;
    let pids = pids
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.trim()
                .parse::<u32>()
                .with_context(|| format!("{p:?} is not a pid"))
        })
        .collect::<Result<Vec<_>>>()?;
    if label.is_empty() || pids.is_empty() {
        bail!("expected LABEL=PID[,PID...], got {spec:?}");
    }
    Ok(Group {
        label: label.to_string(),
        pids,
    })
}

/// `LABEL=NAME[,NAME...]`: every process whose command name (/proc/PID/comm) is one of
/// the names, found now (for the host's MariaDB and Redis).
pub fn parse_comm(spec: &str) -> Result<Group> {
    let (label, names) = spec
        .split_once('=')
        .context("expected LABEL=NAME[,NAME...]")?;
    let names: Vec<&str> = names.split(',').filter(|n| !n.is_empty()).collect();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .context("reading /proc")?
        .flatten()
    {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) {
            if names.contains(&comm.trim_end()) {
                pids.push(pid);
            }
        }
    }
    Ok(Group {
        label: label.to_string(),
        pids,
    })
}

fn ticks_per_second() -> f64 {
    // The kernel's USER_HZ is 100 on every Linux architecture we run on.
    100.0
}

/// utime + stime of a process in seconds (0 when it is gone).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name is in parentheses and may hold spaces: count fields after it.
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3 of the whole line, utime 14, stime 15.
    let get = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (get(14) + get(15)) / ticks_per_second()
}

/// Resident memory in bytes (0 when it is gone).
fn rss_bytes(pid: u32) -> u64 {
    let Ok(statm) = std::fs::read_to_string(format!("/proc/{pid}/statm")) else {
        return 0;
    };
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Busy and total CPU seconds of the whole machine (all cores), from /proc/stat.
fn machine_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return (0.0, 0.0);
    };
    let Some(line) = stat.lines().next() else {
        return (0.0, 0.0);
    };
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: f64 = v.iter().sum();
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    (
        (total - idle) / ticks_per_second(),
        total / ticks_per_second(),
    )
}

#[derive(Debug, Clone)]
struct Snapshot {
    cpu: Vec<f64>,
    machine_busy: f64,
    machine_total: f64,
}

/// Samples the groups while a run lasts: CPU at the start and end, RSS every sample.
pub struct Sampler {
    groups: Vec<Group>,
    start: Snapshot,
    started: Instant,
    rss_sum: Vec<f64>,
    rss_max: Vec<u64>,
    samples: u32,
}

fn snapshot(groups: &[Group]) -> Snapshot {
    let (machine_busy, machine_total) = machine_seconds();
    Snapshot {
        cpu: groups
            .iter()
            .map(|g| g.pids.iter().map(|&p| cpu_seconds(p)).sum())
            .collect(),
        machine_busy,
        machine_total,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcUsage {
    pub pids: Vec<u32>,
    /// CPU time over the run, seconds.
    pub cpu_seconds: f64,
    /// CPU time over the run / wall time, in % of one core.
    pub cpu_pct: f64,
    /// CPU time per completed request, µs.
    pub cpu_us_per_request: f64,
    pub rss_mb_avg: f64,
    pub rss_mb_max: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    pub seconds: f64,
    pub processes: BTreeMap<String, ProcUsage>,
    /// The whole machine: busy % of all cores.
    pub machine_busy_pct: f64,
    /// The whole machine's busy and total CPU time over the run, seconds (all cores).
    pub machine_busy_seconds: f64,
    pub machine_total_seconds: f64,
    pub cores: f64,
    /// Busy time that none of the listed processes account for (other work on the host), %
    /// of the machine's busy time.
    pub other_pct_of_busy: f64,
}

impl Sampler {
    pub fn start(groups: Vec<Group>) -> Self {
        let n = groups.len();
        let start = snapshot(&groups);
        let mut s = Sampler {
            groups,
            start,
            started: Instant::now(),
            rss_sum: vec![0.0; n],
            rss_max: vec![0; n],
            samples: 0,
        };
        s.sample();
        s
    }

    pub fn sample(&mut self) {
        for (i, g) in self.groups.iter().enumerate() {
            let rss: u64 = g.pids.iter().map(|&p| rss_bytes(p)).sum();
            self.rss_sum[i] += rss as f64;
            self.rss_max[i] = self.rss_max[i].max(rss);
        }
        self.samples += 1;
    }

    pub fn finish(mut self) -> Usage {
        self.sample();
        let end = snapshot(&self.groups);
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        let mb = |b: f64| b / (1024.0 * 1024.0);
        let mut processes = BTreeMap::new();
        let mut accounted = 0.0;
        for (i, g) in self.groups.iter().enumerate() {
            let cpu = (end.cpu[i] - self.start.cpu[i]).max(0.0);
            accounted += cpu;
            processes.insert(
                g.label.clone(),
                ProcUsage {
                    pids: g.pids.clone(),
                    cpu_seconds: cpu,
                    cpu_pct: cpu * 100.0 / seconds,
                    cpu_us_per_request: 0.0,
                    rss_mb_avg: mb(self.rss_sum[i] / f64::from(self.samples.max(1))),
                    rss_mb_max: mb(self.rss_max[i] as f64),
                },
            );
        }
        let busy = (end.machine_busy - self.start.machine_busy).max(0.0);
        let total = (end.machine_total - self.start.machine_total).max(1e-3);
        Usage {
            seconds,
            processes,
            machine_busy_pct: busy * 100.0 / total,
            machine_busy_seconds: busy,
            machine_total_seconds: total,
            cores: total / seconds,
            other_pct_of_busy: if busy > 0.0 {
                ((busy - accounted).max(0.0)) * 100.0 / busy
            } else {
                0.0
            },
        }
    }
}

impl Usage {
    /// Fills in the CPU time per request once the run's request count is known.
    pub fn per_request(&mut self, requests: u64) {
        for p in self.processes.values_mut() {
            p.cpu_us_per_request = if requests > 0 {
                p.cpu_seconds * 1e6 / requests as f64
            } else {
                0.0
            };
        }
    }
}

/// The group of this process (the load generator itself).
pub fn own_group() -> Group {
    Group {
        label: "load generator".into(),
        pids: vec![std::process::id()],
    }
}

/// Sleeps in steps and samples until `until`.
pub async fn sample_until(sampler: &mut Sampler, until: Instant) {
    while Instant::now() < until {
        let left = until.saturating_duration_since(Instant::now());
        tokio::time::sleep(left.min(Duration::from_millis(500))).await;
        sampler.sample();
    }
}

#[cfg(test)]
#[path = "procs_tests.rs"]
mod tests;

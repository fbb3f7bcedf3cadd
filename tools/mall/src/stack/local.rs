//! The local runtime of the stack: processes on loopback under MALL_VAR (docs/runtime.md).
//! `up` is up.rs; `down`, `status`, `logs` and `restart` are here.

use std::path::PathBuf;
use std::time::Duration;

use super::config::StackConfig;
use super::launch::{launch_part, recorded, stop_instances};
use super::parts::{binary_of, instance, split_instance, StackPart};
use super::Stack;
use crate::host::{self, proc};
use crate::runtime::http;
use crate::{say, Error};

pub struct LocalStack {
    pub cfg: StackConfig,
}

/// One line of `status`: instance, pid, port, running or not, ready or not (with the
/// status code, 000 when nothing answers).
pub fn status_line(inst: &str, pid: &str, port: Option<u16>, running: bool, code: u16) -> String {
    let port = port.map_or_else(|| "?".to_owned(), |p| p.to_string());
    let state = if running { "running" } else { "stopped" };
    let ready = if code == 200 {
        "ready".to_owned()
    } else {
        format!("not ready ({code:03})")
    };
    format!("{inst:<20} {pid:<8} {port:<6} {state:<8} {ready}")
}

/// The log files `logs [part]` follows: all, nginx's, or those of one part's instances.
pub fn log_files(dir: &std::path::Path, part: Option<&str>) -> Vec<PathBuf> {
    let list = |d: PathBuf, prefix: &str| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .map(|it| {
                it.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".log"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    };
    match part {
        None => [list(dir.to_owned(), ""), list(dir.join("nginx"), "")].concat(),
        Some("nginx") => list(dir.join("nginx"), ""),
        Some(part) => list(dir.to_owned(), part),
    }
}

impl Stack for LocalStack {
    fn up(&mut self, build: bool) -> Result<(), Error> {
        super::up::up(&mut self.cfg, build)
    }

    fn down(&mut self, _volumes: bool) -> Result<(), Error> {
        let instances = recorded(&self.cfg);
        if instances.is_empty() {
            say::log(&format!(
                "nothing to stop (no pid files in {})",
                self.cfg.run_dir().display()
            ));
            return Ok(());
        }
        stop_instances(&self.cfg, &instances)?;
        say::log(&format!("stopped: {}", instances.join(" ")));
        Ok(())
    }

    fn status(&mut self) -> Result<(), Error> {
        let cfg = &self.cfg;
        println!(
            "{:<20} {:<8} {:<6} {:<8} READY",
            "PART", "PID", "PORT", "STATE"
        );
        let instances = recorded(cfg);
        if instances.is_empty() {
            println!(
                "(nothing started: no pid files in {})",
                cfg.run_dir().display()
            );
        }
        for inst in instances {
            let file = cfg.pid_file(&inst);
            let pid_text = std::fs::read_to_string(&file)
                .unwrap_or_default()
                .trim()
                .to_owned();
            let (name, slot) = split_instance(&inst);
            let port = cfg.port_of(name, slot);
            let running = proc::read_pid(&file)
                .zip(binary_of(name))
                .is_some_and(|(pid, bin)| proc::pid_runs(pid, bin));
            let path = if name == "nginx" {
                "/"
            } else {
                StackPart::find(name).map_or("/ready", |p| p.ready)
            };
            let code = port
                .and_then(|p| http::get(p, path, Duration::from_secs(2)))
                .map_or(0, |s| s.0);
            println!("{}", status_line(&inst, &pid_text, port, running, code));
        }
        Ok(())
    }

    fn logs(&mut self, part: Option<&str>) -> Result<(), Error> {
        let files = log_files(&self.cfg.log_dir(), part);
        if files.is_empty() {
            return Err(Error::Failed(format!(
                "no logs for {} in {}",
                part.unwrap_or("any part"),
                self.cfg.log_dir().display()
            )));
        }
        use std::os::unix::process::CommandExt;
        let err = std::process::Command::new("tail")
            .args(["-n", "50", "-F"])
            .args(&files)
            .exec();
        Err(Error::Failed(format!("could not run tail: {err}")))
    }

    fn restart(&mut self, name: &str) -> Result<(), Error> {
        let cfg = &self.cfg;
        let part = StackPart::service(name)
            .ok_or_else(|| Error::Usage(format!("unknown service: {name}")))?;
        let slot = part.up_slot();
        let inst = instance(part.name, slot);
        stop_instances(cfg, std::slice::from_ref(&inst))?;
        let port = part.port(cfg.port_base, slot);
        let pid = launch_part(cfg, part, slot, port, &cfg.bin_dir.join(part.binary), &[])?;
        say::log(&format!("started {inst} (pid {pid}) on 127.0.0.1:{port}"));
        let ready = host::wait_for(cfg.ready_timeout_s, &format!("{inst} to be ready"), || {
            if !proc::pid_alive(pid) {
                anyhow::bail!(
                    "{inst} did not start; see {}",
                    cfg.log_file(&inst).display()
                );
            }
            Ok(http::get(port, part.ready, Duration::from_secs(2)).is_some_and(|s| s.0 == 200))
        })?;
        if !ready {
            return Err(Error::Failed(format!(
                "{inst} did not become ready in {}s; see {}",
                cfg.ready_timeout_s,
                cfg.log_file(&inst).display()
            )));
        }
        say::log(&format!("{inst} is ready"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_line_up_like_scripts_devs() {
        assert_eq!(
            status_line("user-blue", "4242", Some(8101), true, 200),
            "user-blue            4242     8101   running  ready"
        );
        assert_eq!(
            status_line("gateway-sim", "7", None, false, 0),
            "gateway-sim          7        ?      stopped  not ready (000)"
        );
    }

    #[test]
    fn logs_of_one_part_are_its_instances() {
        let dir = std::env::temp_dir().join(format!("mall-logs-{}", host::random_hex(4)));
        std::fs::create_dir_all(dir.join("nginx")).unwrap();
        for f in [
            "user-blue.log",
            "user-green.log",
            "cart-blue.log",
            "nginx/access.log",
        ] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let names = |part| {
            log_files(&dir, part)
                .iter()
                .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(Some("user")), ["user-blue.log", "user-green.log"]);
        assert_eq!(names(Some("nginx")), ["nginx/access.log"]);
        assert_eq!(names(None).len(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

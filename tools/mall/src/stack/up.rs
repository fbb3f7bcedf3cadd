//! `up` on the local runtime: prerequisites (installed and started when missing), the
//! build, databases with least-privilege users, every part started on its port, nginx
//! rendered and started, everything waited for; a failure half-way stops what was started.

use std::time::Duration;

use anyhow::bail;

use super::config::StackConfig;
use super::launch::{launch_part, stop_instances};
use super::parts::{instance, sidecars, split_instance, StackPart};
use super::secrets::secret;
use crate::host::{self, packages::ensure_packages, proc};
use crate::runtime::http;
use crate::{say, signal, Error};

/// One process `up` starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub part: &'static StackPart,
    pub slot: Option<&'static str>,
    pub port: u16,
}

impl Planned {
    pub fn instance(&self) -> String {
        instance(self.part.name, self.slot)
    }
}

/// The parts to start: the sidecars, then MALL_SERVICES' whose binary is built (`built`
/// says); a required one not built, or an unknown name, is an error.
pub fn plan(cfg: &StackConfig, built: &dyn Fn(&str) -> bool) -> Result<Vec<Planned>, Error> {
    let at = |part: &'static StackPart| Planned {
        part,
        slot: part.up_slot(),
        port: part.port(cfg.port_base, part.up_slot()),
    };
    let mut out: Vec<Planned> = sidecars().map(at).collect();
    for want in &cfg.services {
        let part = StackPart::service(want).ok_or_else(|| {
            Error::Usage(format!(
                "MALL_SERVICES names {want}, which is not a part in mall.toml"
            ))
        })?;
        if built(part.binary) {
            out.push(at(part));
        } else if part.required {
            return Err(Error::Failed(format!(
                "{}/{} is missing; build it (cargo build --workspace --bins) or drop --no-build",
                cfg.bin_dir.display(),
                part.binary
            )));
        } else {
            say::log(&format!(
                "skipping {want}: {}/{} is not built yet",
                cfg.bin_dir.display(),
                part.binary
            ));
        }
    }
    for side in sidecars() {
        if !built(side.binary) {
            return Err(Error::Failed(format!(
                "{}/{} is missing; build it first",
                cfg.bin_dir.display(),
                side.binary
            )));
        }
    }
    Ok(out)
}

pub fn build_workspace(cfg: &StackConfig) -> anyhow::Result<()> {
    let mut args = vec!["build", "--workspace", "--bins"];
    if cfg.profile == "release" {
        args.push("--release");
    }
    say::log(&format!("building: cargo {}", args.join(" ")));
    let mut cmd = std::process::Command::new("cargo");
    cmd.args(&args).current_dir(&cfg.root);
    if !crate::shell::status_of(cmd)? {
        bail!("the build failed");
    }
    Ok(())
}

fn prepare_dirs(cfg: &StackConfig) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for dir in [
        cfg.run_dir(),
        cfg.log_dir().join("nginx"),
        cfg.nginx_dir(),
        cfg.keys_dir(),
        cfg.secrets_dir(),
    ] {
        std::fs::create_dir_all(&dir)?;
    }
    for dir in [cfg.secrets_dir(), cfg.var.join("keys")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Refuses while a recorded process still runs; forgets stale pid files.
fn refuse_if_running(cfg: &StackConfig) -> anyhow::Result<()> {
    for inst in super::launch::recorded(cfg) {
        let file = cfg.pid_file(&inst);
        let (name, _) = split_instance(&inst);
        let binary = super::parts::binary_of(name).unwrap_or("?");
        if let Some(pid) = proc::read_pid(&file).filter(|p| proc::pid_runs(*p, binary)) {
            bail!("{inst} is already running (pid {pid}); see scripts/dev status, or scripts/dev down");
        }
        std::fs::remove_file(&file).ok();
    }
    Ok(())
}

fn check_port_free(port: u16, what: &str) -> anyhow::Result<()> {
    if http::port_in_use(port) {
        bail!("port {port} (for {what}) is already in use; stop what holds it or choose MALL_PORT_BASE/MALL_HTTP_PORT");
    }
    Ok(())
}

/// True when every planned instance answers 200 on its ready path; an error at once when
/// one has exited (the end of its log shown).
fn all_ready(cfg: &StackConfig, planned: &[Planned], pids: &[u32]) -> anyhow::Result<bool> {
    signal::check()?;
    for (p, pid) in planned.iter().zip(pids) {
        let inst = p.instance();
        if !proc::pid_alive(*pid) {
            say::warn(&format!(
                "{inst} exited during start-up; the end of {}:",
                cfg.log_file(&inst).display()
            ));
            let text = std::fs::read_to_string(cfg.log_file(&inst)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("{}", lines[lines.len().saturating_sub(20)..].join("\n"));
            bail!("{inst} did not start");
        }
        let status = http::get(p.port, p.part.ready, Duration::from_secs(2)).map_or(0, |s| s.0);
        if status != 200 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The whole `up`; prints the URL and the admin login.
pub fn up(cfg: &mut StackConfig, build_first: bool) -> Result<(), Error> {
    ensure_packages(&["curl:curl", "nginx:nginx", "setsid:util-linux"])?;
    host::data::ensure_databases(&mut cfg.mysql, &cfg.redis_url)?;
    if build_first {
        build_workspace(cfg)?;
    }
    prepare_dirs(cfg)?;
    refuse_if_running(cfg)?;
    let planned = plan(cfg, &|bin| super::executable(&cfg.bin_dir.join(bin)))?;
    check_port_free(cfg.http_port, "nginx")?;
    check_port_free(cfg.internal_port, "nginx (internal listener)")?;
    for p in &planned {
        check_port_free(p.port, p.part.name)?;
    }
    for p in &planned {
        if let Some((db, user)) = cfg.database(p.part) {
            let password = secret(cfg, &format!("db-{}-password", p.part.name))?;
            cfg.mysql.ensure_service_db(&db, &user, &password)?;
            say::log(&format!("database {db} ready for user {user}"));
        }
    }
    let admin_password = secret(cfg, "admin-password")?;
    signal::watch();
    let mut started: Vec<String> = Vec::new();
    let result = start_all(cfg, &planned, &mut started);
    if let Err(err) = result {
        if !started.is_empty() {
            say::warn(&format!(
                "start-up failed; stopping what was started (logs stay in {})",
                cfg.log_dir().display()
            ));
            started.reverse();
            if let Err(e) = stop_instances(cfg, &started) {
                say::warn(&format!("{e:#}"));
            }
        }
        return Err(err);
    }
    let log_dir = cfg.log_dir().display().to_string();
    println!("\nThe mall is up: http://127.0.0.1:{}/", cfg.http_port);
    println!("  admin login: {} / {admin_password}", cfg.admin_email);
    println!(
        "               (password in {}/admin-password)",
        cfg.secrets_dir().display()
    );
    println!("  logs:        {log_dir}/ (scripts/dev logs [part])");
    println!("  stop:        {}scripts/dev down", cfg.stop_hint());
    Ok(())
}

fn start_all(
    cfg: &StackConfig,
    planned: &[Planned],
    started: &mut Vec<String>,
) -> Result<(), Error> {
    let mut pids = Vec::new();
    for p in planned {
        signal::check()?;
        let pid = launch_part(
            cfg,
            p.part,
            p.slot,
            p.port,
            &cfg.bin_dir.join(p.part.binary),
            &[],
        )?;
        started.push(p.instance());
        pids.push(pid);
        say::log(&format!(
            "started {} (pid {pid}) on 127.0.0.1:{}",
            p.instance(),
            p.port
        ));
    }
    super::nginx::write_config(cfg)?;
    let nginx = super::nginx::start(cfg)?;
    crate::bookkeeping::write_atomically(&cfg.pid_file("nginx"), &format!("{nginx}\n"), 0o644)?;
    started.push("nginx".into());
    say::log(&format!(
        "started nginx (pid {nginx}) on 127.0.0.1:{}",
        cfg.http_port
    ));
    if !host::wait_for(cfg.ready_timeout_s, "every part to be ready", || {
        all_ready(cfg, planned, &pids)
    })? {
        return Err(Error::Failed(format!(
            "not every part became ready in {}s; see scripts/dev status and {}",
            cfg.ready_timeout_s,
            cfg.log_dir().display()
        )));
    }
    let names: Vec<String> = planned.iter().map(Planned::instance).collect();
    say::log(&format!("every part is ready: {}", names.join(" ")));
    let nginx_ready = || -> anyhow::Result<bool> {
        signal::check()?;
        if !proc::pid_alive(nginx) {
            bail!(
                "nginx exited during start-up; see {}/nginx/error.log",
                cfg.log_dir().display()
            );
        }
        let ok = |path| {
            http::get(cfg.http_port, path, Duration::from_secs(2)).is_some_and(|s| s.0 == 200)
        };
        Ok(ok("/") && ok("/.well-known/jwks.json"))
    };
    if !host::wait_for(30, "nginx", nginx_ready)? {
        return Err(Error::Failed(format!(
            "nginx did not answer; see {}/nginx/error.log",
            cfg.log_dir().display()
        )));
    }
    Ok(())
}

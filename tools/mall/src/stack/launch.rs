//! One process of the stack started into a slot (its own session, output appended to
//! `log/<instance>.log`, pid recorded in `run/<instance>.pid`) with the environment
//! docs/runtime.md gives the part, and recorded processes stopped. `scripts/dev`'s `up`,
//! `restart` and `down` and the local blue/green runtime all start and stop through here,
//! so a part's environment is written down once.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context;

use super::config::StackConfig;
use super::parts::{binary_of, instance, split_instance, StackPart};
use crate::host::proc::{pid_runs, read_pid, stop_pid};
use crate::say;

/// The environment of one part's process, in order (later pairs win): the common
/// variables, its database URL (with the password given), then the part's own.
pub fn part_env(
    cfg: &StackConfig,
    part: &StackPart,
    slot: Option<&str>,
    port: u16,
    db_password: Option<&str>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| env.push((k.to_owned(), v));
    set("LISTEN_ADDR", format!("127.0.0.1:{port}"));
    set("REDIS_URL", cfg.redis_url.clone());
    set("REDIS_PREFIX", cfg.redis_prefix.clone());
    set("RUST_LOG", cfg.rust_log.clone());
    // tokio's own variable: one worker thread per part by default (every part shares this
    // host's cores; measured cheaper and faster, docs/performance.md "Shopper mix").
    set("TOKIO_WORKER_THREADS", cfg.worker_threads.clone());
    if let Some(slot) = slot {
        set("SLOT_COLOR", slot.to_owned());
    }
    if let (Some((db, user)), Some(password)) = (cfg.database(part), db_password) {
        let m = &cfg.mysql;
        set(
            "DATABASE_URL",
            format!("mysql://{user}:{password}@{}:{}/{db}", m.host, m.port),
        );
    }
    let port_of = |name: &str, slot: Option<&str>| cfg.port_of(name, slot).unwrap_or(0);
    // Calls between services go to the callee's two slots directly, the live one read per
    // call from nginx's switch markers (docs/runtime.md "Internal calls").
    for callee in part.calls {
        let (b, g) = (
            port_of(callee, Some("blue")),
            port_of(callee, Some("green")),
        );
        let var = format!("{}_URL", callee.to_uppercase().replace('-', "_"));
        set(&var, format!("http://127.0.0.1:{b},http://127.0.0.1:{g}"));
    }
    if !part.calls.is_empty() {
        let markers = cfg.nginx_dir().join("upstreams");
        set("SLOT_MARKERS", markers.display().to_string());
    }
    match part.name {
        "auth-proxy" => {
            let (b, g) = (
                port_of("user", Some("blue")),
                port_of("user", Some("green")),
            );
            set(
                "AUTH_JWKS_URLS",
                format!("http://127.0.0.1:{b}/.well-known/jwks.json,http://127.0.0.1:{g}/.well-known/jwks.json"),
            );
            // mimalloc commits its arena as it is used, not at once: with it eager,
            // transparent huge pages made 8 MB of an idle sidecar resident
            // (docs/auth-proxy.md "Memory").
            set("MIMALLOC_ARENA_EAGER_COMMIT", "0".into());
            set(
                "AUTH_POLICY_FILE",
                cfg.root
                    .join("auth-proxy/policy.toml")
                    .display()
                    .to_string(),
            );
        }
        "product" => set("SEED_DEMO_CATALOG", "true".into()),
        "payment" => set(
            "GATEWAY_URL",
            format!("http://127.0.0.1:{}", port_of("gateway-sim", None)),
        ),
        "user" => {
            set("JWT_KEYS_DIR", cfg.keys_dir().display().to_string());
            set("JWT_GENERATE_KEY", "true".into());
            set("BOOTSTRAP_ADMIN_EMAIL", cfg.admin_email.clone());
            let file = cfg.secrets_dir().join("admin-password");
            set("BOOTSTRAP_ADMIN_PASSWORD_FILE", file.display().to_string());
        }
        _ => {}
    }
    env
}

/// Starts `exe` as the part's process in `slot` (through setsid: Ctrl-C in the terminal
/// that started it does not reach it); `extra` (VAR=value) comes last and so overrides.
/// Returns the pid, recorded in the pid file.
pub fn launch_part(
    cfg: &StackConfig,
    part: &StackPart,
    slot: Option<&str>,
    port: u16,
    exe: &Path,
    extra: &[String],
) -> anyhow::Result<u32> {
    let inst = instance(part.name, slot);
    let password = match part.database {
        Some(_) => Some(super::secrets::secret(
            cfg,
            &format!("db-{}-password", part.name),
        )?),
        None => None,
    };
    let log_path = cfg.log_file(&inst);
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("while opening {}", log_path.display()))?;
    let mut cmd = Command::new("setsid");
    cmd.arg(exe)
        .current_dir(&cfg.root)
        .envs(part_env(cfg, part, slot, port, password.as_deref()))
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("while duplicating the log file")?)
        .stderr(log);
    for pair in extra {
        if let Some((k, v)) = pair.split_once('=') {
            cmd.env(k, v);
        }
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("while starting {} (setsid {})", inst, exe.display()))?;
    let pid = child.id();
    let file = cfg.pid_file(&inst);
    crate::bookkeeping::write_atomically(&file, &format!("{pid}\n"), 0o644)?;
    Ok(pid)
}

/// Stops recorded instances: TERM, wait MALL_STOP_TIMEOUT, KILL; only pids that still run
/// the expected executable. Each pid file is removed.
pub fn stop_instances(cfg: &StackConfig, instances: &[String]) -> anyhow::Result<()> {
    for inst in instances {
        let file = cfg.pid_file(inst);
        let Some(pid) = read_pid(&file) else {
            if file.exists() {
                std::fs::remove_file(&file).ok();
            }
            continue;
        };
        let (name, _) = split_instance(inst);
        let binary = binary_of(name);
        match binary {
            Some(binary) if pid_runs(pid, binary) => {
                say::log(&format!("stopping {inst} (pid {pid})"));
                stop_pid(pid, binary, cfg.stop_timeout_s)?;
            }
            _ => say::log(&format!(
                "{inst}: pid {pid} no longer runs {}; forgetting it",
                binary.unwrap_or("its binary")
            )),
        }
        std::fs::remove_file(&file).ok();
    }
    Ok(())
}

/// The instances recorded in run/, nginx first (so nothing new reaches a stopping part).
pub fn recorded(cfg: &StackConfig) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cfg.run_dir())
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.file_name()
                        .to_str()
                        .and_then(|n| n.strip_suffix(".pid"))
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    if let Some(i) = names.iter().position(|n| n == "nginx") {
        let nginx = names.remove(i);
        names.insert(0, nginx);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg() -> StackConfig {
        let map: HashMap<&str, &str> = [("MALL_PORT_BASE", "18100"), ("MALL_HTTP_PORT", "18080")]
            .into_iter()
            .collect();
        StackConfig::from_env(Path::new("/repo"), &|k| map.get(k).map(|v| (*v).to_owned())).unwrap()
    }

    fn get<'a>(env: &'a [(String, String)], k: &str) -> Option<&'a str> {
        env.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_service_gets_its_database_and_its_callees_slots() {
        let c = cfg();
        let order = StackPart::find("order").unwrap();
        let env = part_env(&c, order, Some("green"), 18204, Some("pw"));
        assert_eq!(get(&env, "LISTEN_ADDR"), Some("127.0.0.1:18204"));
        assert_eq!(get(&env, "SLOT_COLOR"), Some("green"));
        assert_eq!(
            get(&env, "DATABASE_URL"),
            Some("mysql://order_svc:pw@127.0.0.1:3306/order_db")
        );
        assert_eq!(
            get(&env, "CART_URL"),
            Some("http://127.0.0.1:18103,http://127.0.0.1:18203")
        );
        let markers = c.nginx_dir().join("upstreams");
        assert_eq!(get(&env, "SLOT_MARKERS"), markers.to_str());
        assert_eq!(get(&env, "TOKIO_WORKER_THREADS"), Some("1"));
    }

    #[test]
    fn the_sidecar_reads_both_user_slots_and_payment_the_simulator() {
        let c = cfg();
        let auth = part_env(
            &c,
            StackPart::find("auth-proxy").unwrap(),
            Some("blue"),
            18100,
            None,
        );
        assert_eq!(
            get(&auth, "AUTH_JWKS_URLS"),
            Some("http://127.0.0.1:18101/.well-known/jwks.json,http://127.0.0.1:18201/.well-known/jwks.json")
        );
        assert_eq!(get(&auth, "DATABASE_URL"), None);
        assert_eq!(get(&auth, "MIMALLOC_ARENA_EAGER_COMMIT"), Some("0"));
        let pay = part_env(
            &c,
            StackPart::find("payment").unwrap(),
            Some("blue"),
            18105,
            Some("x"),
        );
        assert_eq!(get(&pay, "GATEWAY_URL"), Some("http://127.0.0.1:18109"));
        let sim = part_env(
            &c,
            StackPart::find("gateway-sim").unwrap(),
            None,
            18109,
            None,
        );
        assert_eq!(get(&sim, "SLOT_COLOR"), None);
    }
}

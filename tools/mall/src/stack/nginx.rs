//! nginx for the local stack: nginx/nginx.conf.template rendered under `$MALL_VAR/nginx`
//! (only the MALL_* template variables substituted, so nginx's own `$variables` stay),
//! the snippets copied, each part's slot upstreams and select.inc written, the config
//! checked with `nginx -t`, and nginx started with its error log through
//! nginx/error-log-filter.awk (docs/runtime.md "nginx files").

use std::fs::OpenOptions;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use super::config::StackConfig;
use super::parts::upstream_parts;
use crate::bookkeeping::write_atomically;
use crate::shell::{self, argv};

/// The template's variables (nginx/nginx.conf.template's header lists the same): the
/// edge image's list, so both runtimes render the one template alike.
pub const TEMPLATE_VARS: [&str; 11] = mall_edge::VARS;

/// How long an nginx worker may go on routing by a marker it looked up earlier: the
/// template's `open_file_cache_valid`. A switch waits this long (and 200 ms more) after
/// writing a marker; the services' own look at it is fresher (`mall_contracts::client::
/// MARKER_CACHE`, 500 ms).
pub const MARKER_CACHE: std::time::Duration = std::time::Duration::from_secs(1);

/// The template's values for the local stack; `user` is "<user> <group>".
pub fn template_values(cfg: &StackConfig, user: &str) -> Vec<(&'static str, String)> {
    let (dir, logs) = (cfg.nginx_dir(), cfg.log_dir().join("nginx"));
    let values = [
        user.to_owned(),
        dir.join("nginx.pid").display().to_string(),
        logs.display().to_string(),
        dir.join("temp").display().to_string(),
        format!("127.0.0.1:{}", cfg.http_port),
        format!("127.0.0.1:{}", cfg.internal_port),
        cfg.root.join("web").display().to_string(),
        cfg.login_rate.clone(),
        cfg.login_burst.clone(),
        cfg.trusted_proxy_cidr.clone(),
        "stderr".to_owned(),
    ];
    TEMPLATE_VARS.into_iter().zip(values).collect()
}

/// envsubst with a list: `${VAR}` and `$VAR` of the listed variables replaced, every other
/// `$` left as it is (the edge image's renderer, `mall_edge::substitute`).
pub fn render(template: &str, values: &[(&str, String)]) -> String {
    mall_edge::substitute(template, &|name| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    })
}

/// upstreams/<part>.conf: one upstream per slot on loopback, never changed by a switch.
pub fn slot_upstreams(part: &str, blue: &str, green: &str) -> String {
    let name = part.replace('-', "_");
    let mut out = format!(
        "# The slots of {part}. Written by the mall's scripts; the live one is chosen per request\n\
         # (upstreams/select.inc, marker {part}.green). Do not edit by hand.\n"
    );
    for (slot, addr) in [("blue", blue), ("green", green)] {
        out += &format!(
            "upstream {name}_{slot} {{\n    server {addr};\n    keepalive 32;\n    keepalive_timeout 60s;\n}}\n"
        );
    }
    out
}

/// upstreams/select.inc: per request, `$<part>_up` is the green upstream while the marker
/// `<markers>/<part>.green` exists, else the blue one.
pub fn select(markers: &str) -> String {
    let mut out = format!(
        "# Per request, the live slot of every part: its .green marker in {markers}, else blue.\n\
         # Written by the mall's scripts; do not edit by hand.\n"
    );
    for part in upstream_parts() {
        let n = part.name.replace('-', "_");
        out += &format!(
            "set ${n}_up {n}_blue;\nif (-f {markers}/{}.green) {{\n    set ${n}_up {n}_green;\n}}\n",
            part.name
        );
    }
    out
}

/// The invoking user and group (MALL_NGINX_USER overrides).
fn nginx_user(cfg: &StackConfig) -> String {
    cfg.nginx_user.clone().unwrap_or_else(|| {
        let id = |flag: &str| {
            shell::read(&argv(&["id", flag])).map_or_else(|| "root".into(), |s| s.trim().to_owned())
        };
        format!("{} {}", id("-un"), id("-gn"))
    })
}

/// nginx.conf, the snippets, the upstreams (blue live: no markers) and select.inc, then
/// `nginx -t`.
pub fn write_config(cfg: &StackConfig) -> anyhow::Result<()> {
    let dir = cfg.nginx_dir();
    let template_file = cfg.root.join("nginx/nginx.conf.template");
    let template = std::fs::read_to_string(&template_file)
        .with_context(|| format!("while reading {}", template_file.display()))?;
    std::fs::create_dir_all(dir.join("temp")).context("while creating nginx's temp dir")?;
    let conf = render(&template, &template_values(cfg, &nginx_user(cfg)));
    write_atomically(&dir.join("nginx.conf"), &conf, 0o644)?;
    let snippets = dir.join("snippets");
    std::fs::create_dir_all(&snippets).context("while creating snippets/")?;
    for entry in std::fs::read_dir(&snippets)?.flatten() {
        if entry.path().extension().is_some_and(|e| e == "conf") {
            std::fs::remove_file(entry.path()).ok();
        }
    }
    for entry in std::fs::read_dir(cfg.root.join("nginx/snippets"))?.flatten() {
        if entry.path().extension().is_some_and(|e| e == "conf") {
            std::fs::copy(entry.path(), snippets.join(entry.file_name()))
                .with_context(|| format!("while copying {}", entry.path().display()))?;
        }
    }
    let up = dir.join("upstreams");
    for part in upstream_parts() {
        let addr = |slot| format!("127.0.0.1:{}", part.port(cfg.port_base, Some(slot)));
        let text = slot_upstreams(part.name, &addr("blue"), &addr("green"));
        write_atomically(&up.join(format!("{}.conf", part.name)), &text, 0o644)?;
        let marker = up.join(format!("{}.green", part.name));
        if marker.exists() {
            std::fs::remove_file(&marker).ok();
        }
    }
    write_atomically(
        &up.join("select.inc"),
        &select(&up.display().to_string()),
        0o644,
    )?;
    let error_log = cfg.log_dir().join("nginx/error.log");
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&error_log)?;
    let ok = nginx(cfg)
        .args(["-t", "-q"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .context("while running nginx -t (is nginx installed?)")?
        .success();
    if !ok {
        bail!(
            "nginx rejected the rendered config; see {}",
            error_log.display()
        );
    }
    Ok(())
}

/// `nginx -p <dir>/ -c <dir>/nginx.conf`, in UTC.
fn nginx(cfg: &StackConfig) -> Command {
    let dir = cfg.nginx_dir();
    let mut cmd = Command::new("nginx");
    cmd.env("TZ", "UTC")
        .arg("-p")
        .arg(format!("{}/", dir.display()))
        .arg("-c")
        .arg(dir.join("nginx.conf"));
    cmd
}

/// Starts nginx in the foreground of its own session, its stderr through the error-log
/// filter (mawk told to read by line) into log/nginx/error.log; returns its pid.
pub fn start(cfg: &StackConfig) -> anyhow::Result<u32> {
    let error_log = cfg.log_dir().join("nginx/error.log");
    let open = || {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&error_log)
    };
    let mut awk = Command::new("setsid");
    awk.arg("awk");
    let version = Command::new("awk").args(["-W", "version"]).output();
    if version.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("mawk")) {
        awk.args(["-W", "interactive"]);
    }
    let filter = awk
        .arg("-f")
        .arg(cfg.root.join("nginx/error-log-filter.awk"))
        .stdin(Stdio::piped())
        .stdout(open()?)
        .stderr(open()?)
        .spawn()
        .context("while starting the error-log filter (awk)")?;
    let pipe = filter.stdin.context("the filter has no stdin")?;
    let mut cmd = Command::new("setsid");
    cmd.env("TZ", "UTC").arg("nginx");
    let args: Vec<String> = nginx(cfg)
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let child = cmd
        .args(args)
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .stdout(open()?)
        .stderr(Stdio::from(pipe))
        .spawn()
        .context("while starting nginx")?;
    Ok(child.id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_variables_are_substituted() {
        let values = [
            ("MALL_LOGIN_RATE", "x".to_owned()),
            ("MALL_LOGIN_BURST", "y".to_owned()),
        ];
        let text =
            "a ${MALL_LOGIN_RATE}; b $MALL_LOGIN_BURST; c $MALL_LOGIN_BURSTS $host ${MALL_NOPE} $";
        assert_eq!(
            render(text, &values),
            "a x; b y; c $MALL_LOGIN_BURSTS $host ${MALL_NOPE} $"
        );
    }

    #[test]
    fn upstreams_and_select_are_scripts_devs() {
        let up = slot_upstreams("auth-proxy", "127.0.0.1:1", "127.0.0.1:2");
        assert!(
            up.contains("upstream auth_proxy_blue {\n    server 127.0.0.1:1;\n    keepalive 32;\n")
        );
        assert!(up.contains("upstream auth_proxy_green {\n    server 127.0.0.1:2;"));
        let sel = select("/v/nginx/upstreams");
        assert!(sel.contains("set $user_up user_blue;\nif (-f /v/nginx/upstreams/user.green) {\n    set $user_up user_green;\n}\n"));
        assert!(!sel.contains("gateway"));
    }

    #[test]
    fn the_switch_waits_as_long_as_nginx_caches_a_marker() {
        let template = include_str!("../../../../nginx/nginx.conf.template");
        let valid = format!("open_file_cache_valid {}s;", MARKER_CACHE.as_secs());
        assert_eq!(template.matches(&valid).count(), 1, "{valid}");
        assert!(template.contains("open_file_cache_errors on;"));
        assert_eq!(template.matches("open_file_cache").count(), 3);
    }

    #[test]
    fn every_template_variable_has_a_value() {
        let env = |_: &str| None;
        let cfg = StackConfig::from_env(std::path::Path::new("/r"), &env).unwrap();
        let values = template_values(&cfg, "u g");
        assert_eq!(values.len(), TEMPLATE_VARS.len());
        assert!(values.contains(&("MALL_NGINX_LISTEN", "127.0.0.1:8080".into())));
        assert!(values.contains(&("MALL_NGINX_TEMP_DIR", "/r/var/nginx/temp".into())));
    }
}

//! The built binary as a child process: exit 64 on bad config, SIGHUP reloads the
//! policy, SIGTERM exits 0, and its JSON log lines carry the trace id and never a token.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::{metric, random_hex, wait_until, TestKey};

const BIN: &str = env!("CARGO_BIN_EXE_auth-proxy");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn command(port: u16, policy: &Path, key_file: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("AUTH_KEY_FILES", key_file)
        .env("AUTH_POLICY_FILE", policy)
        .env("REDIS_URL", mall_testkit::redis_url())
        .env(
            "REDIS_PREFIX",
            format!("test:auth-proxy:{}:", random_hex(8)),
        )
        .env("SLOT_COLOR", "green")
        .env("SERVICE_VERSION", "9.9.9-test")
        .env("RUST_LOG", "info");
    cmd
}

struct Fixture {
    dir: PathBuf,
    policy: PathBuf,
    key_file: PathBuf,
    key: TestKey,
}

impl Fixture {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("auth-proxy-proc-{}", random_hex(6)));
        std::fs::create_dir_all(&dir).expect("dir");
        let key = TestKey::generate("proc-key");
        let key_file = dir.join("proc-key.pem");
        std::fs::write(&key_file, key.public_pem()).expect("pem");
        let policy = dir.join("policy.toml");
        Self {
            dir,
            policy,
            key_file,
            key,
        }
    }

    fn write_policy(&self, public_path: &str) {
        let text = format!(
            "[[rule]]\nmethods = [\"GET\"]\npath = \"{public_path}\"\naccess = \"public\"\n\n\
             [[rule]]\nmethods = [\"GET\"]\npath = \"/private\"\naccess = \"authenticated\"\n"
        );
        std::fs::write(&self.policy, text).expect("policy");
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
}

async fn status(client: &reqwest::Client, port: u16, uri: &str, token: Option<&str>) -> u16 {
    let mut req = client
        .get(format!("http://127.0.0.1:{port}/auth"))
        .header("X-Original-Method", "GET")
        .header("X-Original-URI", uri);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    match req.send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

async fn metrics_of(client: &reqwest::Client, port: u16) -> String {
    match client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
    {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Kills the child (SIGKILL) when dropped unless it was seen to exit: a failing assertion
/// must not leave the binary running after the test.
struct KillOnDrop(Option<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_sigterm_exits_zero_and_logs_never_hold_tokens() {
    let fx = Fixture::new();
    fx.write_policy("/one");
    let port = free_port();
    let mut child = command(port, &fx.policy, &fx.key_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut running = KillOnDrop(Some(child.id()));
    let client = reqwest::Client::new();
    let up = wait_until(Duration::from_secs(10), || async {
        status(&client, port, "/one", None).await == 200
    })
    .await;
    assert!(up.is_some(), "the binary did not come up");

    // Served-by and keys from the static file.
    let health = client
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(
        health.headers()["x-served-by"],
        "auth-proxy-green@9.9.9-test"
    );
    let good = fx.key.token("31", &["customer"]);
    let forged = TestKey::generate("proc-key").token("31", &["admin"]);
    assert_eq!(status(&client, port, "/private", Some(&good)).await, 200);
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let denied = client
        .get(format!("http://127.0.0.1:{port}/auth"))
        .header("X-Original-Method", "GET")
        .header("X-Original-URI", format!("/private?token={forged}"))
        .header("Authorization", format!("Bearer {forged}"))
        .header("X-Trace-Id", trace)
        .send()
        .await
        .expect("answer");
    assert_eq!(denied.status(), 401);

    // SIGHUP with a new policy: /two becomes public, /one is gone.
    fx.write_policy("/two");
    signal(&child, "HUP");
    let reloaded = wait_until(Duration::from_secs(5), || async {
        status(&client, port, "/two", None).await == 200
    })
    .await;
    assert!(reloaded.is_some(), "SIGHUP did not reload the policy");
    assert_eq!(status(&client, port, "/one", None).await, 403);

    // A broken file keeps the active policy: once the reload of it has been refused
    // (counted), /two is still public and /one still gone.
    std::fs::write(&fx.policy, "this is not toml [[[").expect("policy");
    signal(&child, "HUP");
    let refused = wait_until(Duration::from_secs(5), || async {
        metric(
            &metrics_of(&client, port).await,
            "auth_policy_reload_errors_total",
        ) == Some(1.0)
    })
    .await;
    assert!(
        refused.is_some(),
        "the broken policy's reload was never refused"
    );
    assert_eq!(status(&client, port, "/two", None).await, 200);
    assert_eq!(status(&client, port, "/one", None).await, 403);

    signal(&child, "TERM");
    let exit = tokio::task::spawn_blocking(move || {
        let s = wait_exit(&mut child, Duration::from_secs(5));
        (s, child)
    })
    .await
    .expect("join");
    let (exit, mut child) = exit;
    if exit.is_some() {
        running.0 = None;
    }
    assert_eq!(exit.map(|s| s.code()), Some(Some(0)), "SIGTERM exits 0");

    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read stdout");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for token in [&good, &forged] {
        let signature = token.rsplit('.').next().expect("signature");
        assert!(!out.contains(signature), "a token reached the log");
        let payload = token.split('.').nth(1).expect("payload");
        assert!(!out.contains(payload), "a token payload reached the log");
    }
    let decision = lines
        .iter()
        .find(|l| l["msg"] == "auth decision" && l["trace_id"] == trace)
        .unwrap_or_else(|| panic!("no decision line with the trace id in:\n{out}"));
    assert_eq!(decision["level"], "INFO");
    assert_eq!(decision["service"], "auth-proxy");
    assert_eq!(decision["color"], "green");
    assert_eq!(decision["version"], "9.9.9-test");
    assert_eq!(decision["code"], "unauthorized");
    assert_eq!(decision["route"], "/private");
    assert!(lines
        .iter()
        .any(|l| l["msg"] == "policy reload refused; keeping the active policy"));
}

#[test]
fn bad_configuration_exits_64_with_one_line() {
    let fx = Fixture::new();
    fx.write_policy("/one");
    for (var, value) in [
        ("AUTH_LEEWAY_SECS", "1000"),
        ("AUTH_LEEWAY_SECS", "soon"),
        ("SLOT_COLOR", "purple"),
        ("AUTH_JWKS_URLS", "ftp://example/jwks"),
    ] {
        let out = command(free_port(), &fx.policy, &fx.key_file)
            .env(var, value)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(64), "{var}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{var}={value}: {stderr}"
        );
    }
}

#[test]
fn a_broken_policy_file_at_start_exits_64() {
    let fx = Fixture::new();
    std::fs::write(&fx.policy, "[[rule]]\npath = 1\n").expect("policy");

    let out = command(free_port(), &fx.policy, &fx.key_file)
        .output()
        .expect("run");

    assert_eq!(out.status.code(), Some(64));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr)
            .trim_end()
            .lines()
            .count(),
        1
    );
}

/// As every service (the runtime's `launch`): an address that cannot be bound is bad
/// configuration, exit 64 with one line on stderr, not a crash.
#[test]
fn an_address_in_use_exits_64_with_one_line() {
    let fx = Fixture::new();
    fx.write_policy("/one");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();

    let out = command(port, &fx.policy, &fx.key_file)
        .output()
        .expect("run");

    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot listen"), "{stderr}");
}

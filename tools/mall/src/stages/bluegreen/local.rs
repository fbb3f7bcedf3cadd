//! `mall stage bluegreen`: the zero-downtime test on a private local stack (scripts/dev up on
//! free ports, a temporary state directory, its own database and Redis prefixes; always
//! torn down, and its data dropped).

use std::path::PathBuf;

use super::{Bg, Hooks};
use crate::host::data::drop_stack_data;
use crate::parts::Part;
use crate::stages::host::{self, Ctx};
use crate::{say, Error};

struct Local {
    port_base: u16,
    internal: String,
}

impl Hooks for Local {
    fn slot_stopped(&self, bg: &Bg, part: &str, slot: &str) -> bool {
        let pid_file = bg.var.join(format!("run/{part}-{slot}.pid"));
        if pid_file.exists() {
            return false;
        }
        match Part::parse(part) {
            Ok(p) if part == "product" => {
                let offset = if slot == "green" { 100 } else { 0 };
                !crate::runtime::http::port_in_use(self.port_base + p.port_offset + offset)
            }
            _ => true,
        }
    }

    fn release_kept(&self, bg: &Bg, part: &str, version: &str) -> bool {
        let Ok(p) = Part::parse(part) else {
            return false;
        };
        let bin = bg
            .var
            .join(format!("releases/{part}/{version}/{}", p.binary));
        std::fs::metadata(&bin).is_ok_and(|m| {
            use std::os::unix::fs::PermissionsExt;
            m.is_file() && m.permissions().mode() & 0o111 != 0
        })
    }

    fn deploy_never_ready(&self, bg: &Bg) -> Result<bool, Error> {
        bg.bg(&[
            "deploy",
            "product",
            "never-ready",
            "--ready-timeout",
            "8",
            "--env",
            "DATABASE_URL=mysql://nobody:nothing@127.0.0.1:1/none",
        ])
    }

    fn slot_probe(&self, _bg: &Bg, part: &str) -> String {
        host::served_by(&format!("{}/_slot/{part}", self.internal), &[])
    }

    fn admin_password(&self, bg: &Bg) -> Result<String, Error> {
        let file = bg.var.join("secrets/admin-password");
        std::fs::read_to_string(&file)
            .map(|p| p.trim_end_matches('\n').to_owned())
            .map_err(|e| Error::Failed(format!("reading {}: {e}", file.display())))
    }
}

pub fn run(base: &Ctx) -> Result<(), Error> {
    let port_base = host::free_port_base()?;
    let http = port_base + 50;
    let dir = host::temp_dir("mall-bluegreen")?;
    let var = dir.join("var");
    let id = host::random_hex(4);
    let (db_prefix, redis_prefix) = (format!("bg_{id}_"), format!("bg:{id}:"));
    let mut ctx = base.clone();
    for (k, v) in [
        ("MALL_PORT_BASE", port_base.to_string()),
        ("MALL_HTTP_PORT", http.to_string()),
        ("MALL_INTERNAL_PORT", (port_base + 51).to_string()),
        ("MALL_VAR", var.display().to_string()),
        ("MALL_DB_PREFIX", db_prefix.clone()),
        ("REDIS_PREFIX", redis_prefix.clone()),
        // The parts the load touches; nothing here depends on the checkout services.
        ("MALL_SERVICES", "user product cart".into()),
        ("MALL_LOGIN_RATE", "100r/s".into()),
        ("MALL_LOGIN_BURST", "200".into()),
    ] {
        ctx.set(k, v);
    }
    ctx.remove("MALL_BG_STATE_DIR");
    ctx.remove("MALL_BG_RUNTIME");
    let url = format!("http://127.0.0.1:{http}");
    say::log(&format!(
        "blue/green stack: {url} ports {port_base}+, state {}, databases {db_prefix}*, Redis keys {redis_prefix}*",
        var.display()
    ));
    let hooks = Local {
        port_base,
        internal: format!("http://127.0.0.1:{}", port_base + 51),
    };
    let mut bg = Bg {
        ctx,
        dir: dir.clone(),
        url,
        state_dir: var.join("blue-green"),
        var,
        min_requests: min_requests(base),
        token: String::new(),
        p0: String::new(),
        a0: String::new(),
        product_id: String::new(),
        loads: vec![],
    };
    let result = bg
        .ctx
        .run(bg.ctx.script("scripts/dev", &["up", "--no-build"]))
        .and_then(|up| {
            if up {
                Ok(())
            } else {
                Err(Error::Failed("scripts/dev up failed".into()))
            }
        })
        .and_then(|()| bg.zero_downtime(&hooks));
    cleanup(&mut bg, result.is_err(), &db_prefix, &redis_prefix);
    result
}

/// MALL_BG_TEST_MIN_REQUESTS [5000]: the least requests on new connections that count.
pub fn min_requests(ctx: &Ctx) -> u64 {
    ctx.get("MALL_BG_TEST_MIN_REQUESTS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000)
}

fn cleanup(bg: &mut Bg, failed: bool, db_prefix: &str, redis_prefix: &str) {
    bg.loads.iter_mut().for_each(|l| l.kill());
    if failed {
        let mut logs: Vec<PathBuf> = std::fs::read_dir(bg.var.join("log"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "log"))
                    .collect()
            })
            .unwrap_or_default();
        logs.sort();
        logs.push(bg.var.join("log/nginx/error.log"));
        logs.push(bg.state_dir.join("audit.log"));
        for f in logs
            .iter()
            .filter(|f| std::fs::metadata(f).is_ok_and(|m| m.len() > 0))
        {
            eprintln!(
                "\n----- last lines of {} -----\n{}",
                f.display(),
                host::tail(f, 25)
            );
        }
    }
    // Clean-up runs even after an interrupt: a fresh context without the signal check.
    let down = crate::shell::status_of(bg.ctx.script("scripts/dev", &["down"]));
    if !matches!(down, Ok(true)) {
        say::warn("scripts/dev down failed");
    }
    let ctx = &bg.ctx;
    match ctx.vars.mysql() {
        Ok(mysql) => drop_stack_data(&mysql, db_prefix, &ctx.vars.redis_url(), redis_prefix),
        Err(e) => say::warn(&format!(
            "could not drop the stack's data ({db_prefix}*, {redis_prefix}*): {e}"
        )),
    }
    if failed {
        say::log(&format!(
            "kept the blue/green test's state for inspection: {}",
            bg.dir.display()
        ));
    } else {
        let _ = std::fs::remove_dir_all(&bg.dir);
    }
}

//! The blue/green steps under load, each checked before and after through nginx.

use std::process::Stdio;

use anyhow::Context;

use super::{Bg, Hooks};
use crate::stages::host::wait_for;
use crate::{say, Error};

fn fail(what: &str) -> Error {
    Error::Failed(what.to_owned())
}

pub fn run(bg: &Bg, hooks: &dyn Hooks) -> Result<(), Error> {
    let products = format!("{}/api/products?size=1", bg.url);
    let cart = format!("{}/api/cart", bg.url);
    let me = format!("{}/api/users/me", bg.url);
    let p0 = format!("product-blue@{}", bg.p0);
    // 1. deploy product v2
    bg.expect_served("before deploy: product", &p0, &products, false)?;
    if !bg.bg(&["deploy", "product", "v2"])? {
        return Err(fail("deploy product v2 failed"));
    }
    bg.expect_served(
        "after deploy: product",
        "product-green@v2",
        &products,
        false,
    )?;
    if !hooks.slot_stopped(bg, "product", "blue") || !hooks.release_kept(bg, "product", &bg.p0) {
        return Err(fail("product-blue should be stopped, its release kept"));
    }
    // 2. rollback product
    if !bg.bg(&["rollback", "product"])? {
        return Err(fail("rollback product failed"));
    }
    bg.expect_served("after rollback: product", &p0, &products, false)?;
    if !hooks.slot_stopped(bg, "product", "green") {
        return Err(fail("product-green should be stopped"));
    }
    // 3. a version that never gets ready (its database is unreachable): refused, nothing changes
    if hooks.deploy_never_ready(bg)? {
        return Err(fail(
            "the deploy of a version that never gets ready succeeded",
        ));
    }
    bg.expect_served("after the failed deploy: product", &p0, &products, false)?;
    if !hooks.slot_stopped(bg, "product", "green") {
        return Err(fail("the failed slot product-green is still running"));
    }
    // 4. auth-proxy, switched the same way (its answers only show on nginx's /_slot probe)
    let a0 = format!("auth-proxy-blue@{}", bg.a0);
    bg.expect_probe(hooks, "before deploy: auth-proxy", &a0, "auth-proxy")?;
    if !bg.bg(&["deploy", "auth-proxy", "v2"])? {
        return Err(fail("deploy auth-proxy v2 failed"));
    }
    bg.expect_probe(
        hooks,
        "after deploy: auth-proxy",
        "auth-proxy-green@v2",
        "auth-proxy",
    )?;
    bg.expect_served(
        "authenticated route after the auth-proxy switch",
        "cart-blue@*",
        &cart,
        true,
    )?;
    // 5. the lock: a second deploy while one runs is refused, naming the holder
    concurrent_deploy(bg)?;
    bg.expect_served("after deploy: cart", "cart-green@v2", &cart, true)?;
    // 6. the user service (it issues the tokens the load's profile requests carry), through
    // `ship`, the pipeline's host-side command (.github/workflows/deploy.yml).
    bg.expect_served("before deploy: user", "user-blue@*", &me, true)?;
    if !bg.bg(&["ship", "v2", "user"])? {
        return Err(fail("ship v2 user failed"));
    }
    bg.expect_served("after deploy: user", "user-green@v2", &me, true)
}

/// Whether `out` is a clear refusal naming the first deploy as the lock's holder.
pub fn names_the_holder(out: &str) -> bool {
    out.lines().any(|l| {
        l.split_once("holds the lock: pid ")
            .is_some_and(|(_, rest)| {
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                digits > 0 && rest[digits..].contains("'deploy cart v2'")
            })
    })
}

fn concurrent_deploy(bg: &Bg) -> Result<(), Error> {
    let log = bg.dir.join("cart-deploy.log");
    let file = std::fs::File::create(&log).context("while creating cart-deploy.log")?;
    let mut first = bg
        .ctx
        .script("scripts/blue-green", &["deploy", "cart", "v2"]);
    first
        .stdout(Stdio::from(
            file.try_clone().context("while opening cart-deploy.log")?,
        ))
        .stderr(Stdio::from(file));
    let mut first = first.spawn().context("while starting deploy cart v2")?;
    let holder = bg.state_dir.join("lock.holder");
    let held = wait_for(20, "the first deploy to hold the lock", || {
        std::fs::read_to_string(&holder).is_ok_and(|t| t.contains("deploy cart v2"))
    });
    let finish =
        |first: &mut std::process::Child| first.wait().map(|s| s.success()).unwrap_or(false);
    if !matches!(held, Ok(true)) {
        finish(&mut first);
        held?;
        return Err(fail("the first deploy never held the lock"));
    }
    let second = bg
        .ctx
        .script("scripts/blue-green", &["deploy", "cart", "v3"])
        .output();
    let (refused, out) = match second {
        Ok(o) => (
            !o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => (false, e.to_string()),
    };
    if !refused || !names_the_holder(&out) {
        finish(&mut first);
        return Err(Error::Failed(format!(
            "a concurrent deploy was not refused clearly: {out}"
        )));
    }
    let why = out.rsplit("error: ").next().unwrap_or(&out).trim();
    say::log(&format!("concurrent deploy refused: {why}"));
    if !finish(&mut first) {
        eprintln!("{}", std::fs::read_to_string(&log).unwrap_or_default());
        return Err(fail("deploy cart v2 failed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_must_name_the_holder() {
        let out = "[12:00:00] error: another action holds the lock: pid 4242 (since 12:00, 'deploy cart v2')";
        assert!(names_the_holder(out));
        assert!(!names_the_holder(
            "error: another action holds the lock: pid  'deploy cart v2'"
        ));
        assert!(!names_the_holder(
            "error: holds the lock: pid 12 'deploy cart v3'"
        ));
    }
}

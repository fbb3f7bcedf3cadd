//! The init on a temporary directory: files, modes, what is kept on a second start, and a
//! placeholder refused before anything is written. Owners are checked when the test runs
//! as a user that may hand files over (root, as in CI's containers).

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{plan::SERVICES, run};

fn scratch(name: &str) -> PathBuf {
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).unwrap();
    let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("mall-init-{name}-{hex}"));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn env_fn(map: HashMap<&'static str, &'static str>) -> impl Fn(&str) -> Option<String> {
    move |k| map.get(k).map(|v| v.to_string())
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

/// Whether this process may give a file away (it runs as root).
fn can_chown(dir: &Path) -> bool {
    let probe = dir.join("probe");
    fs::write(&probe, "x").unwrap();
    let ok = std::os::unix::fs::chown(&probe, Some(10001), Some(10001)).is_ok();
    fs::remove_file(&probe).unwrap();
    ok
}

#[test]
fn a_first_start_generates_everything_and_a_second_keeps_it() {
    let dir = scratch("first");
    let owners = can_chown(&dir);
    let env = env_fn(HashMap::from([("CART_DB_PASSWORD", "given-cart")]));
    assert_eq!(run(&dir, &env, owners), crate::EXIT_OK);

    let root_pw = read(&dir.join("mysql/root-password"));
    assert_eq!(root_pw.len(), 32);
    assert!(root_pw.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(read(&dir.join("cart/db-password")), "given-cart");
    for svc in SERVICES {
        let own = dir.join(svc).join("db-password");
        let copy = dir.join(format!("mysql/{svc}-db-password"));
        assert_eq!(read(&own), read(&copy), "{svc}");
        assert_eq!(mode(&own), 0o600, "{svc}");
        assert_eq!(mode(&dir.join(svc)), 0o700, "{svc}");
        assert_eq!(mode(&copy), 0o444, "{svc}");
        if owners {
            assert_eq!(fs::metadata(&own).unwrap().uid(), 10001, "{svc}");
        }
    }
    assert_eq!(mode(&dir.join("mysql")), 0o755);
    let keys: Vec<_> = fs::read_dir(dir.join("user/jwt"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(keys.len(), 1);
    assert_eq!(mode(&keys[0].path()), 0o600);
    assert_eq!(mode(&dir.join("grafana/admin-password")), 0o600);
    if owners {
        assert_eq!(
            fs::metadata(dir.join("grafana/admin-password"))
                .unwrap()
                .uid(),
            472
        );
        assert_eq!(fs::metadata(keys[0].path()).unwrap().uid(), 10001);
    }

    // A second start: nothing regenerated, a changed given value written.
    let admin = read(&dir.join("user/admin-password"));
    let env = env_fn(HashMap::from([("CART_DB_PASSWORD", "rotated-cart")]));
    assert_eq!(run(&dir, &env, owners), crate::EXIT_OK);
    assert_eq!(read(&dir.join("mysql/root-password")), root_pw);
    assert_eq!(read(&dir.join("user/admin-password")), admin);
    assert_eq!(read(&dir.join("mysql/cart-db-password")), "rotated-cart");
    assert_eq!(fs::read_dir(dir.join("user/jwt")).unwrap().count(), 1);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_placeholder_exits_64_before_anything_is_written() {
    let dir = scratch("placeholder");
    let env = env_fn(HashMap::from([
        ("MYSQL_ROOT_PASSWORD", "fine"),
        ("PAYMENT_DB_PASSWORD", "change-me-payment-db"),
    ]));
    assert_eq!(run(&dir, &env, false), crate::EXIT_USAGE);
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
    fs::remove_dir_all(&dir).unwrap();
}

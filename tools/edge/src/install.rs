//! The filesystem half: seeding the upstream volume, installing a release, the error-log
//! pipe, and handing over to nginx.

use std::fs;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::say;
use mall_edge::{old_format_green, pruned, substitute, valid_version};

/// What the image holds (compose/edge/Dockerfile).
const SRC: &str = "/usr/share/mall/edge";
/// The `edge-live` volume: releases/ and the `current` link.
const LIVE: &str = "/etc/nginx/live";
/// The `nginx-upstreams` volume: the slots' upstream files and the markers.
const UPSTREAMS: &str = "/etc/nginx/upstreams";

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Why a command stopped: the message and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

fn io_failure(what: String) -> impl FnOnce(io::Error) -> Failure {
    move |e| Failure {
        message: format!("{what}: {e}"),
        code: 1,
    }
}

/// `start`: seed, install, the error-log pipe, then nginx in this process.
pub fn start(env: Env<'_>) -> Result<(), Failure> {
    seed_upstreams()?;
    install_release(env)?;
    filter_error_log(env)?;
    let conf = format!("{LIVE}/current/nginx.conf");
    let err = Command::new("nginx")
        .args(["-c", &conf, "-g", "daemon off;"])
        .exec();
    Err(io_failure("cannot run nginx".into())(err))
}

/// `install`: seed and install, then exit (nginx is reloaded by whoever asked).
pub fn install(env: Env<'_>) -> Result<(), Failure> {
    seed_upstreams()?;
    install_release(env)
}

/// The slots' upstream files and select.inc are the image's; the markers (<part>.green,
/// the live slots) are the volume's state and are kept. A volume of the older format (one
/// file per part naming the live slot) gets its green markers first.
fn seed_upstreams() -> Result<(), Failure> {
    let dir = Path::new(UPSTREAMS);
    fs::create_dir_all(dir).map_err(io_failure(format!("cannot create {UPSTREAMS}")))?;
    for path in files_in(dir)?.iter().filter(|p| has_ext(p, "conf")) {
        let text = fs::read_to_string(path).unwrap_or_default();
        if let (true, Some(part)) = (old_format_green(&text), path.file_stem()) {
            let marker = dir.join(format!("{}.green", part.to_string_lossy()));
            let line = format!(
                "live slot of {}: green (from the older upstream file)\n",
                part.to_string_lossy()
            );
            fs::write(&marker, line)
                .map_err(io_failure(format!("cannot write {}", marker.display())))?;
        }
    }
    let src = Path::new(SRC).join("nginx/upstreams");
    for path in files_in(&src)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if has_ext(&path, "conf") || name == "select.inc" {
            fs::copy(&path, dir.join(&name))
                .map_err(io_failure(format!("cannot copy {name} into {UPSTREAMS}")))?;
        }
    }
    Ok(())
}

fn install_release(env: Env<'_>) -> Result<(), Failure> {
    let version = env("MALL_EDGE_VERSION").unwrap_or_else(|| "dev".into());
    if !valid_version(&version) {
        return Err(Failure {
            message: "MALL_EDGE_VERSION must be a plain version label".into(),
            code: 64,
        });
    }
    let releases = Path::new(LIVE).join("releases");
    let dir = releases.join(&version);
    let tmp = releases.join(format!(".{version}.{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let temp_dir = env("MALL_NGINX_TEMP_DIR").unwrap_or_else(|| "/var/cache/nginx".into());
    for d in [&tmp, Path::new(&temp_dir)] {
        fs::create_dir_all(d).map_err(io_failure(format!("cannot create {}", d.display())))?;
    }
    let src = Path::new(SRC);
    let template = src.join("nginx/nginx.conf.template");
    let text = fs::read_to_string(&template)
        .map_err(io_failure(format!("cannot read {}", template.display())))?;
    let conf = tmp.join("nginx.conf");
    fs::write(&conf, substitute(&text, env))
        .map_err(io_failure(format!("cannot write {}", conf.display())))?;
    copy_tree(&src.join("nginx/snippets"), &tmp.join("snippets"))?;
    copy_tree(&src.join("web"), &tmp.join("web"))?;
    std::os::unix::fs::symlink(UPSTREAMS, tmp.join("upstreams"))
        .map_err(io_failure("cannot link the upstreams".into()))?;
    let checked = Command::new("nginx")
        .args(["-t", "-q", "-c"])
        .arg(&conf)
        .status()
        .map_err(io_failure("cannot run nginx -t".into()))?;
    if !checked.success() {
        let _ = fs::remove_dir_all(&tmp);
        return Err(Failure {
            message: format!(
                "release {version} rejected by nginx -t; the live release is unchanged"
            ),
            code: 1,
        });
    }
    let _ = fs::remove_dir_all(&dir);
    fs::rename(&tmp, &dir).map_err(io_failure(format!(
        "cannot move the release into {}",
        dir.display()
    )))?;
    // A new link beside `current`, renamed over it: nginx sees the old release or the new one.
    let link = Path::new(LIVE).join(format!(".current.{}", std::process::id()));
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(format!("releases/{version}"), &link)
        .and_then(|()| fs::rename(&link, Path::new(LIVE).join("current")))
        .map_err(io_failure(format!(
            "cannot point {LIVE}/current at {version}"
        )))?;
    prune(&releases, &version)?;
    say(&format!("release {version} is live ({LIVE}/current)"));
    Ok(())
}

/// Keeps the three newest releases (a rollback is a deploy of the previous image, which
/// installs its own release again).
fn prune(releases: &Path, keep: &str) -> Result<(), Failure> {
    let mut dated: Vec<(std::time::SystemTime, String)> = Vec::new();
    for path in files_in(releases)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        let modified = fs::symlink_metadata(&path).and_then(|m| m.modified());
        dated.push((modified.unwrap_or(std::time::UNIX_EPOCH), name));
    }
    dated.sort_by_key(|d| std::cmp::Reverse(d.0));
    let names: Vec<&str> = dated.iter().map(|(_, n)| n.as_str()).collect();
    for old in pruned(&names, keep) {
        let _ = fs::remove_dir_all(releases.join(old));
    }
    Ok(())
}

/// The error log becomes a pipe through nginx/error-log-filter.awk (to stderr), which
/// withholds credentials in logged request lines and thins out the "could not be resolved"
/// lines of stopped slots. Opened read-write, so the filter never sees an end while nginx
/// reopens its logs.
fn filter_error_log(env: Env<'_>) -> Result<(), Failure> {
    let dir = env("MALL_NGINX_LOG_DIR").unwrap_or_else(|| "/var/log/nginx".into());
    let log = Path::new(&dir).join("error.log");
    let _ = fs::remove_file(&log);
    let made = Command::new("mkfifo").arg(&log).status();
    if !made.is_ok_and(|s| s.success()) {
        return Err(Failure {
            message: format!("cannot make the pipe {}", log.display()),
            code: 1,
        });
    }
    let pipe = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&log)
        .map_err(io_failure(format!("cannot open {}", log.display())))?;
    let stderr = io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(io_failure("stderr".into()))?;
    // mawk (Debian's awk) reads a pipe in blocks unless told to read it line by line.
    let version = Command::new("awk").args(["-W", "version"]).output();
    let mawk = version
        .is_ok_and(|o| String::from_utf8_lossy(&[o.stdout, o.stderr].concat()).contains("mawk"));
    let mut awk = Command::new("awk");
    if mawk {
        awk.args(["-W", "interactive"]);
    }
    awk.arg("-f")
        .arg(Path::new(SRC).join("nginx/error-log-filter.awk"))
        .stdin(Stdio::from(pipe))
        .stdout(Stdio::from(stderr))
        .spawn()
        .map_err(io_failure("cannot start the error-log filter (awk)".into()))?;
    Ok(())
}

fn files_in(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let entries =
        fs::read_dir(dir).map_err(io_failure(format!("cannot list {}", dir.display())))?;
    Ok(entries.flatten().map(|e| e.path()).collect())
}

fn has_ext(path: &Path, ext: &str) -> bool {
    path.extension().is_some_and(|e| e == ext)
}

/// `cp -R`: directories, files, and symlinks as symlinks.
fn copy_tree(from: &Path, to: &Path) -> Result<(), Failure> {
    let meta = fs::symlink_metadata(from)
        .map_err(io_failure(format!("cannot read {}", from.display())))?;
    let done = if meta.is_symlink() {
        fs::read_link(from).and_then(|target| std::os::unix::fs::symlink(target, to))
    } else if meta.is_dir() {
        fs::create_dir_all(to).map_err(io_failure(format!("cannot create {}", to.display())))?;
        for path in files_in(from)? {
            if let Some(name) = path.file_name() {
                copy_tree(&path, &to.join(name))?;
            }
        }
        Ok(())
    } else {
        fs::copy(from, to).map(|_| ())
    };
    done.map_err(io_failure(format!("cannot copy {}", from.display())))
}

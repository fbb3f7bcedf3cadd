//! The images compose runs, built on a host that cannot pull (scripts/dev up --runtime
//! compose): Debian root filesystems made with mmdebstrap (cached in
//! ~/.cache/mall/images) and `docker import`ed, the stand-ins of compose/standins/ on them,
//! the mall's binaries on the base one (compose/Dockerfile's runtime-prebuilt stage), and
//! the edge (compose/edge/). Names and cache keys are the ones the former compose.sh used.

use std::path::PathBuf;

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use super::as_root;
use crate::say;
use crate::shell::{self, argv};

/// Raise to rebuild every cached root filesystem (e.g. after a Debian point release).
pub const ROOTFS_REVISION: u32 = 1;

/// What the images are built from.
#[derive(Clone, Debug)]
pub struct ImageBuild {
    pub root: PathBuf,
    /// ~/.cache/mall/images.
    pub cache: PathBuf,
    pub mirror: String,
    /// CARGO_TARGET_DIR/<profile>: the binaries baked in.
    pub bin_dir: PathBuf,
    pub tag: String,
}

/// The images of one stack (compose's variables).
#[derive(Clone, Debug, Default)]
pub struct Images {
    pub base: String,
    pub nginx: String,
    pub mysql: String,
    pub redis: String,
}

fn hex(bytes: &[u8], chars: usize) -> String {
    let digest = Sha256::digest(bytes);
    let full: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    full[..chars].to_owned()
}

/// A root filesystem's cache key: suite, packages, revision and mirror.
pub fn rootfs_key(suite: &str, packages: &str, mirror: &str) -> String {
    hex(
        format!("{suite} {packages} {ROOTFS_REVISION} {mirror}").as_bytes(),
        12,
    )
}

/// mmdebstrap's sources: the suite, and for bookworm its updates and security.
pub fn sources(mirror: &str, suite: &str) -> String {
    let mut s = format!("deb {mirror} {suite} main");
    if suite == "bookworm" {
        s += &format!(
            "\ndeb {mirror} bookworm-updates main\ndeb {mirror}-security bookworm-security main"
        );
    }
    s
}

fn docker_ok(words: &[&str]) -> bool {
    shell::read(&argv(words)).is_some()
}

/// Runs a docker build quietly; on failure its output and an error.
pub(super) fn docker_build(words: &[&str], what: &str) -> anyhow::Result<()> {
    let out = std::process::Command::new("docker")
        .args(words)
        .stdin(std::process::Stdio::null())
        .output()
        .context("while running docker build")?;
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        bail!("building {what} failed");
    }
    Ok(())
}

impl ImageBuild {
    /// The tag of an imported root filesystem with those packages (built and cached once).
    pub fn rootfs(&self, name: &str, suite: &str, packages: &str) -> anyhow::Result<String> {
        let key = rootfs_key(suite, packages, &self.mirror);
        let tag = format!("mall-rootfs/{name}:{key}");
        if docker_ok(&["docker", "image", "inspect", &tag]) {
            return Ok(tag);
        }
        std::fs::create_dir_all(&self.cache)
            .with_context(|| format!("while creating {}", self.cache.display()))?;
        let tar = self.cache.join(format!("{name}-{key}.tar"));
        if std::fs::metadata(&tar).map_or(true, |m| m.len() == 0) {
            say::log(&format!("building the {name} root filesystem from Debian {suite} ({packages}) with mmdebstrap; cached in {}", tar.display()));
            let tmp = format!("{}.tmp", tar.display());
            let include = format!("--include={packages}");
            let cmd = as_root(&[
                "mmdebstrap",
                "--quiet",
                "--format=tar",
                "--variant=minbase",
                &include,
                "--aptopt=Acquire::Check-Valid-Until \"false\"",
                "--dpkgopt=path-exclude=/usr/share/doc/*",
                "--dpkgopt=path-exclude=/usr/share/man/*",
                "--dpkgopt=path-exclude=/usr/share/locale/*",
                suite,
                &tmp,
                &sources(&self.mirror, suite),
            ])?;
            if !shell::status(&cmd)? {
                let _ = std::fs::remove_file(&tmp);
                bail!("mmdebstrap failed for {name}");
            }
            std::fs::rename(&tmp, &tar).context("while renaming the root filesystem")?;
        }
        say::log(&format!("importing {} as {tag}", tar.display()));
        if !docker_ok(&["docker", "import", &tar.display().to_string(), &tag]) {
            bail!("docker import of {} failed", tar.display());
        }
        Ok(tag)
    }

    /// The stand-in of compose/standins/<name> on a root filesystem; its tag.
    pub fn standin(&self, name: &str, rootfs: &str) -> anyhow::Result<String> {
        let dir = self.root.join("compose/standins").join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("while reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let mut all = Vec::new();
        for f in files {
            all.extend(
                std::fs::read(&f).with_context(|| format!("while reading {}", f.display()))?,
            );
        }
        let key = rootfs.rsplit(':').next().unwrap_or(rootfs);
        let tag = format!("mall-standin/{name}:{key}-{}", hex(&all, 8));
        if !docker_ok(&["docker", "image", "inspect", &tag]) {
            say::log(&format!("building the {name} stand-in {tag}"));
            let arg = format!("ROOTFS={rootfs}");
            let ctx = dir.display().to_string();
            docker_build(
                &["build", "-q", "--build-arg", &arg, "-t", &tag, &ctx],
                &format!("the {name} stand-in"),
            )?;
        }
        Ok(tag)
    }

    /// mall/<binary>:<tag> from compose/Dockerfile's runtime-prebuilt stage, with the
    /// current build's binary (stripped).
    pub fn service(&self, bin: &str, base: &str) -> anyhow::Result<()> {
        let src = self.bin_dir.join(bin);
        if !src.is_file() {
            bail!(
                "{} is not built (cargo build --workspace --bins)",
                src.display()
            );
        }
        let ctx = super::TempDir::new("mall-image")?;
        let prebuilt = ctx.0.join("prebuilt");
        std::fs::create_dir_all(&prebuilt)?;
        let out = prebuilt.join(bin).display().to_string();
        if !shell::status(&argv(&["strip", "-o", &out, &src.display().to_string()]))? {
            bail!("strip {} failed", src.display());
        }
        std::os::unix::fs::symlink(bin, prebuilt.join("mall-service"))?;
        std::fs::create_dir_all(ctx.0.join("auth-proxy"))?;
        std::fs::copy(
            self.root.join("auth-proxy/policy.toml"),
            ctx.0.join("auth-proxy/policy.toml"),
        )?;
        let file = self.root.join("compose/Dockerfile").display().to_string();
        let image = format!("mall/{bin}:{}", self.tag);
        let (a, b, c) = (
            format!("RUNTIME_IMAGE={base}"),
            format!("BIN={bin}"),
            format!("VERSION={}", self.tag),
        );
        let dir = ctx.0.display().to_string();
        docker_build(
            &[
                "build",
                "-q",
                "-f",
                &file,
                "--target",
                "runtime-prebuilt",
                "--build-arg",
                &a,
                "--build-arg",
                &b,
                "--build-arg",
                &c,
                "-t",
                &image,
                &dir,
            ],
            &image,
        )
    }

    /// Every image of the stack: root filesystems, stand-ins, mall/<binary>:<tag> for
    /// `binaries`, the edge.
    pub fn all(&self, binaries: &[&str]) -> anyhow::Result<Images> {
        super::compose::ensure_docker()?;
        let base = self.rootfs("base", "bookworm", "ca-certificates,curl,zlib1g,passwd")?;
        // nginx from Debian testing: 1.30 re-resolves upstream names (`resolve`).
        let rootfs = self.rootfs(
            "nginx",
            "forky",
            "nginx,gettext-base,curl,ca-certificates,passwd",
        )?;
        let nginx = self.standin("nginx", &rootfs)?;
        let rootfs = self.rootfs("mysql", "bookworm", "mariadb-server,mariadb-client")?;
        let mysql = self.standin("mysql", &rootfs)?;
        let rootfs = self.rootfs("redis", "bookworm", "redis-server,redis-tools")?;
        let redis = self.standin("redis", &rootfs)?;
        say::log(&format!(
            "building the mall's images (mall/<binary>:{}) from {}",
            self.tag,
            self.bin_dir.display()
        ));
        for bin in binaries {
            self.service(bin, &base)?;
        }
        self.edge(&self.root, &nginx)?;
        Ok(Images {
            base,
            nginx,
            mysql,
            redis,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_the_cached_tarballs_of_before() {
        // printf '%s %s %s %s' bookworm ca-certificates,curl,zlib1g,passwd 1 http://deb.debian.org/debian | sha256sum
        let key = rootfs_key(
            "bookworm",
            "ca-certificates,curl,zlib1g,passwd",
            "http://deb.debian.org/debian",
        );
        assert_eq!(key, "3da5642c24b9");
        assert!(sources("http://m", "bookworm")
            .ends_with("deb http://m-security bookworm-security main"));
        assert_eq!(sources("http://m", "forky"), "deb http://m forky main");
    }
}

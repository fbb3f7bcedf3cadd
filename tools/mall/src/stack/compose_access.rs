//! What other commands (the bench, the test stages) ask of a compose stack: how its
//! images are built, its admin password, a service container's host pid and address.

use super::compose::ComposeStack;
use crate::host::images::ImageBuild;
use crate::shell::{self, argv};
use crate::Error;

impl ComposeStack {
    /// How this stack's images are built (the cache, the mirror, the binaries, the tag).
    pub fn image_build(&self) -> ImageBuild {
        ImageBuild {
            root: self.cfg.root.clone(),
            cache: self.cache.join("images"),
            mirror: self.mirror.clone(),
            bin_dir: self.cfg.bin_dir.clone(),
            tag: self.image_tag.clone(),
        }
    }

    /// The admin password the user service generated (or was given), from its container.
    pub fn admin_password(&self) -> Result<String, Error> {
        let cmd = self.compose(&["exec", "-T", "user-blue", "cat", "/run/mall/admin-password"])?;
        shell::read(&cmd)
            .map(|p| p.trim_end().to_owned())
            .ok_or_else(|| Error::Failed("could not read the admin password".into()))
    }

    /// The host pid of a service's container (its main process), when it runs.
    pub fn service_pid(&self, service: &str) -> Option<u32> {
        self.inspect(service, "{{.State.Pid}}")?
            .parse()
            .ok()
            .filter(|p| *p != 0)
    }

    /// The address of a service's container on the stack's network (the host reaches it
    /// through the bridge), when it runs.
    pub fn service_ip(&self, service: &str) -> Option<std::net::Ipv4Addr> {
        self.inspect(
            service,
            "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
        )?
        .split_whitespace()
        .find_map(|ip| ip.parse().ok())
    }

    /// `docker inspect -f <format>` of a service's container, trimmed.
    fn inspect(&self, service: &str, format: &str) -> Option<String> {
        let id = shell::read(&self.compose(&["ps", "-q", service]).ok()?)?;
        let id = id.trim();
        if id.is_empty() {
            return None;
        }
        Some(
            shell::read(&argv(&["docker", "inspect", "-f", format, id]))?
                .trim()
                .to_owned(),
        )
    }
}

//! The edge image (compose/edge/): nginx's config and the storefront on the nginx stand-in.

use std::path::Path;

use anyhow::bail;

use super::images::{docker_build, ImageBuild};
use crate::shell::{self, argv};

impl ImageBuild {
    /// mall/edge:<tag> (compose/edge/Dockerfile) on the nginx stand-in, with `tree`'s nginx/
    /// and web/ (a context of just those).
    pub fn edge(&self, tree: &Path, nginx_image: &str) -> anyhow::Result<()> {
        let ctx = super::TempDir::new("mall-edge")?;
        std::fs::create_dir_all(ctx.0.join("compose/edge"))?;
        std::fs::copy(
            self.root.join("compose/edge/mall-edge"),
            ctx.0.join("compose/edge/mall-edge"),
        )?;
        let d = ctx.0.display().to_string();
        for what in ["nginx", "web"] {
            let src = tree.join(what).display().to_string();
            if !shell::status(&argv(&["cp", "-R", &src, &format!("{d}/{what}")]))? {
                bail!("copying {src} failed");
            }
        }
        let _ = std::fs::remove_dir_all(ctx.0.join("web/tests"));
        let file = self
            .root
            .join("compose/edge/Dockerfile")
            .display()
            .to_string();
        let image = format!("mall/edge:{}", self.tag);
        let (a, b) = (
            format!("NGINX_IMAGE={nginx_image}"),
            format!("VERSION={}", self.tag),
        );
        docker_build(
            &[
                "build",
                "-q",
                "-f",
                &file,
                "--build-arg",
                &a,
                "--build-arg",
                &b,
                "-t",
                &image,
                &d,
            ],
            &image,
        )
    }
}

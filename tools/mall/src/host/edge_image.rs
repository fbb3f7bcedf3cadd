//! The edge image (compose/edge/): nginx's config and the storefront on the nginx stand-in.

use std::path::Path;

use anyhow::bail;

use super::images::{docker_build, ImageBuild};
use crate::shell::{self, argv};

impl ImageBuild {
    /// mall/edge:<tag> (compose/edge/Dockerfile, target edge-prebuilt) on the nginx
    /// stand-in, with `tree`'s nginx/ and web/ and the current build's mall-edge, stripped
    /// (a context of just those).
    pub fn edge(&self, tree: &Path, nginx_image: &str) -> anyhow::Result<()> {
        let src = self.bin_dir.join("mall-edge");
        if !src.is_file() {
            bail!(
                "{} is not built (cargo build --workspace --bins)",
                src.display()
            );
        }
        let ctx = super::TempDir::new("mall-edge")?;
        std::fs::create_dir_all(ctx.0.join("prebuilt"))?;
        let out = ctx.0.join("prebuilt/mall-edge").display().to_string();
        if !shell::status(&argv(&["strip", "-o", &out, &src.display().to_string()]))? {
            bail!("strip {} failed", src.display());
        }
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
                "--target",
                "edge-prebuilt",
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

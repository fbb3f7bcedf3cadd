//! The parts blue/green switches, their slots and what names a version.
//!
//! The table of parts ([`PARTS`], table.rs) is generated from mall.toml (`cargo run -p
//! mall-desc -- generate`), like stack/table.rs for the local stack.

use std::fmt;

use crate::Error;

/// A part nginx proxies to: its name, executable, port offset and whether it has a database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    pub name: &'static str,
    pub binary: &'static str,
    pub port_offset: u16,
    pub has_db: bool,
}

mod table;

pub use table::PARTS;

/// The green slot's ports are the blue ones plus this.
pub const GREEN_PORT_OFFSET: u16 = 100;

impl Part {
    const fn new(name: &'static str, binary: &'static str, port_offset: u16, has_db: bool) -> Self {
        Self {
            name,
            binary,
            port_offset,
            has_db,
        }
    }

    /// The part of that name, or a usage error listing the known ones.
    pub fn parse(name: &str) -> Result<Self, Error> {
        PARTS
            .iter()
            .find(|p| p.name == name)
            .copied()
            .ok_or_else(|| {
                let names: Vec<&str> = PARTS.iter().map(|p| p.name).collect();
                Error::Usage(format!(
                    "unknown part: {} (one of: {})",
                    if name.is_empty() { "<none>" } else { name },
                    names.join(" ")
                ))
            })
    }

    /// The port a slot listens on locally: base + offset (+100 for green).
    pub fn port(&self, base: u16, slot: Slot) -> u16 {
        let green = if slot == Slot::Green {
            GREEN_PORT_OFFSET
        } else {
            0
        };
        base.saturating_add(self.port_offset + green)
    }

    /// Compose's variable for a slot's image or version: `PRODUCT_GREEN_IMAGE`.
    pub fn slot_var(&self, slot: Slot, what: &str) -> String {
        format!("{}_{}_{}", self.name, slot, what)
            .replace('-', "_")
            .to_uppercase()
    }
}

/// One of a part's two copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Blue,
    Green,
}

impl Slot {
    pub fn other(self) -> Self {
        match self {
            Slot::Blue => Slot::Green,
            Slot::Green => Slot::Blue,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "blue" => Some(Slot::Blue),
            "green" => Some(Slot::Green),
            _ => None,
        }
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Slot::Blue => "blue",
            Slot::Green => "green",
        })
    }
}

/// The `X-Served-By` a slot answers with: the services' own format.
pub fn served_as(part: &str, slot: Slot, version: &str) -> String {
    mall_runtime::config::ServiceInfo {
        name: part.to_owned(),
        color: slot.to_string(),
        version: version.to_owned(),
    }
    .served_by()
}

/// A version names a directory, a header value and an image tag: 1-64 of `A-Za-z0-9._+-`,
/// starting alphanumeric, and never `latest`.
pub fn check_version(version: &str) -> Result<(), Error> {
    let mut chars = version.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c));
    if !first_ok || !rest_ok || version.len() > 64 {
        return Err(Error::Usage(format!(
            "version {version} must be 1-64 of A-Z a-z 0-9 . _ + - (starting alphanumeric)"
        )));
    }
    if version == "latest" {
        return Err(Error::Usage(
            "`latest` names no particular build, so it could not be rolled back to; use the git SHA"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_compose_variables_follow_the_table() {
        let product = Part::parse("product").unwrap();
        assert_eq!(product.port(8100, Slot::Blue), 8102);
        assert_eq!(product.port(8100, Slot::Green), 8202);
        let auth = Part::parse("auth-proxy").unwrap();
        assert_eq!(
            auth.slot_var(Slot::Green, "IMAGE"),
            "AUTH_PROXY_GREEN_IMAGE"
        );
    }

    #[test]
    fn unknown_parts_and_bad_versions_are_usage_errors() {
        assert!(matches!(Part::parse("nginx"), Err(Error::Usage(_))));
        for bad in ["latest", "", "-x", "a b", &"x".repeat(65)] {
            assert!(matches!(check_version(bad), Err(Error::Usage(_))), "{bad}");
        }
        check_version("3f2c1e0").unwrap();
        check_version("v2+abc.1_x-y").unwrap();
    }

    #[test]
    fn served_as_is_the_services_header() {
        assert_eq!(served_as("product", Slot::Green, "v2"), "product-green@v2");
    }
}

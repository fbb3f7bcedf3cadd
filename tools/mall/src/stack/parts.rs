//! The stack's parts (table.rs, generated from mall.toml), their instances (`user-blue`,
//! `gateway-sim`: the names of pid and log files) and ports.

use super::table::STACK_PARTS;
use crate::parts::GREEN_PORT_OFFSET;

/// What a part is to the stack (mall.toml's `kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Started with every stack, not chosen by MALL_SERVICES (auth-proxy).
    Sidecar,
    Service,
    /// An outside system simulated (the card gateway).
    StandIn,
}

/// One part of mall.toml, as the stack needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackPart {
    pub name: &'static str,
    pub kind: Kind,
    pub binary: &'static str,
    pub port_offset: u16,
    pub slots: bool,
    pub required: bool,
    /// Database and user name, before MALL_DB_PREFIX.
    pub database: Option<(&'static str, &'static str)>,
    pub ready: &'static str,
    /// The parts it calls, each at its live slot (docs/runtime.md "Internal calls").
    pub calls: &'static [&'static str],
}

impl StackPart {
    /// The part of that name.
    pub fn find(name: &str) -> Option<&'static StackPart> {
        STACK_PARTS.iter().find(|p| p.name == name)
    }

    /// What MALL_SERVICES may name (and `restart` restarts): every part but the sidecar.
    pub fn service(name: &str) -> Option<&'static StackPart> {
        Self::find(name).filter(|p| p.kind != Kind::Sidecar)
    }

    /// The slot `up` starts it in: blue, or none for a part without slots.
    pub fn up_slot(&self) -> Option<&'static str> {
        self.slots.then_some("blue")
    }

    /// Its port: base + offset, +100 for green.
    pub fn port(&self, base: u16, slot: Option<&str>) -> u16 {
        let green = if slot == Some("green") {
            GREEN_PORT_OFFSET
        } else {
            0
        };
        base.saturating_add(self.port_offset + green)
    }
}

/// MALL_SERVICES' default: every part but the sidecar, in mall.toml's order.
pub fn default_services() -> Vec<String> {
    STACK_PARTS
        .iter()
        .filter(|p| p.kind != Kind::Sidecar)
        .map(|p| p.name.to_owned())
        .collect()
}

/// The parts nginx proxies to (each gets upstreams/<part>.conf): those with slots.
pub fn upstream_parts() -> impl Iterator<Item = &'static StackPart> {
    STACK_PARTS.iter().filter(|p| p.slots)
}

/// The sidecars, started with every stack.
pub fn sidecars() -> impl Iterator<Item = &'static StackPart> {
    STACK_PARTS.iter().filter(|p| p.kind == Kind::Sidecar)
}

/// `user-blue`, or `gateway-sim` for a part without slots: names the pid and log files.
pub fn instance(name: &str, slot: Option<&str>) -> String {
    match slot {
        Some(slot) => format!("{name}-{slot}"),
        None => name.to_owned(),
    }
}

/// An instance's part name and slot.
pub fn split_instance(inst: &str) -> (&str, Option<&str>) {
    for slot in ["blue", "green"] {
        if let Some(name) = inst.strip_suffix(&format!("-{slot}")) {
            return (name, Some(if slot == "blue" { "blue" } else { "green" }));
        }
    }
    (inst, None)
}

/// The executable an instance runs (nginx, or a part's binary).
pub fn binary_of(name: &str) -> Option<&'static str> {
    if name == "nginx" {
        return Some("nginx");
    }
    StackPart::find(name).map(|p| p.binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_name_the_slot_and_split_back() {
        assert_eq!(instance("user", Some("blue")), "user-blue");
        assert_eq!(instance("gateway-sim", None), "gateway-sim");
        assert_eq!(
            split_instance("auth-proxy-green"),
            ("auth-proxy", Some("green"))
        );
        assert_eq!(split_instance("gateway-sim"), ("gateway-sim", None));
        assert_eq!(split_instance("nginx"), ("nginx", None));
    }

    #[test]
    fn ports_follow_the_description() {
        let user = StackPart::find("user").unwrap();
        assert_eq!(user.port(8100, Some("blue")), 8101);
        assert_eq!(user.port(8100, Some("green")), 8201);
        let sim = StackPart::find("gateway-sim").unwrap();
        assert_eq!(sim.port(18100, sim.up_slot()), 18109);
        assert_eq!(binary_of("nginx"), Some("nginx"));
        assert_eq!(binary_of("order"), Some("order-service"));
    }

    #[test]
    fn the_sidecar_is_no_service_and_starts_with_every_stack() {
        assert!(StackPart::service("auth-proxy").is_none());
        assert!(StackPart::service("cart").is_some());
        assert_eq!(
            default_services(),
            ["user", "product", "cart", "order", "payment", "gateway-sim"]
        );
        let sidecars: Vec<_> = sidecars().map(|p| p.name).collect();
        assert_eq!(sidecars, ["auth-proxy"]);
        let up: Vec<_> = upstream_parts().map(|p| p.name).collect();
        assert_eq!(
            up,
            ["auth-proxy", "user", "product", "cart", "order", "payment"]
        );
    }
}

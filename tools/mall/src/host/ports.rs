//! Ports on loopback: in use or not, and a free MALL_PORT_BASE for a private stack.

pub use crate::runtime::http::port_in_use;

/// The ports a stack on `base` binds: blue base..+9, green +100..+109, nginx +50..+53
/// (public, internal, two bench-only servers).
pub fn stack_ports(base: u16) -> Vec<u16> {
    let mut ports: Vec<u16> = (base..=base + 9).collect();
    ports.extend(base + 100..=base + 109);
    ports.extend(base + 50..=base + 53);
    ports
}

/// The highest hundred a base may take: below the kernel's ephemeral range (whose low end
/// is `ephemeral_low`), so no outgoing connection can take one of the ports between the
/// check and the bind.
pub fn top_hundred(ephemeral_low: u32) -> u32 {
    let top = ephemeral_low.saturating_sub(200) / 100;
    if top > 110 {
        top
    } else {
        600
    }
}

/// `free_port_base`, or an error that says what to do.
pub fn port_base() -> anyhow::Result<u16> {
    free_port_base().ok_or_else(|| {
        anyhow::anyhow!("no free port range found (50 tries); stop a stack you left running")
    })
}

/// A MALL_PORT_BASE for a private stack (tests, benchmarks) whose ports are all free:
/// random hundreds between 10000 and the ephemeral range, 50 tries.
pub fn free_port_base() -> Option<u16> {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let top = top_hundred(low);
    for _ in 0..50 {
        let mut buf = [0u8; 4];
        getrandom::fill(&mut buf).ok()?;
        let pick = 100 + u32::from_le_bytes(buf) % (top - 100);
        let base = u16::try_from(pick * 100).ok()?;
        if !stack_ports(base).into_iter().any(port_in_use) {
            return Some(base);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_holds_both_slots_and_nginx() {
        let p = stack_ports(20000);
        assert_eq!(p.len(), 24);
        assert!(p.contains(&20009) && p.contains(&20109) && p.contains(&20053));
        assert_eq!(top_hundred(32768), 325);
        assert_eq!(top_hundred(1024), 600);
    }
}

//! Whether an address is on a Docker bridge of this machine (a compose stack's network,
//! which the host reaches without leaving it): a route of `/proc/net/route` without a
//! gateway, on a `br-…` or `docker0` interface, covers it.

use std::net::Ipv4Addr;

pub fn on_docker_bridge(ip: Ipv4Addr) -> bool {
    std::fs::read_to_string("/proc/net/route").is_ok_and(|table| covered(&table, ip))
}

/// `table` in the layout of `/proc/net/route`: a header, then `Iface Destination Gateway
/// Flags RefCnt Use Metric Mask …`, addresses as hexadecimal in the kernel's byte order.
fn covered(table: &str, ip: Ipv4Addr) -> bool {
    let addr = |hex: &str| {
        u32::from_str_radix(hex, 16)
            .ok()
            .map(|v| u32::from(Ipv4Addr::from(v.to_le_bytes())))
    };
    table.lines().skip(1).any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(iface), Some(dest), Some(gw), Some(mask)) = (
            f.first(),
            f.get(1).and_then(|h| addr(h)),
            f.get(2).and_then(|h| addr(h)),
            f.get(7).and_then(|h| addr(h)),
        ) else {
            return false;
        };
        (iface.starts_with("br-") || *iface == "docker0")
            && gw == 0
            && mask != 0
            && u32::from(ip) & mask == dest
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
br-1a2b3c\t000014AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
";

    #[test]
    fn only_addresses_on_a_docker_bridge_are_covered() {
        for ok in ["172.20.0.17", "172.17.0.2"] {
            assert!(covered(TABLE, ok.parse().unwrap()), "{ok}");
        }
        // The machine's own network (eth0), anything routed (the default route), other
        // private ranges.
        for no in ["192.168.0.7", "8.8.8.8", "172.21.0.1", "10.0.0.1"] {
            assert!(!covered(TABLE, no.parse().unwrap()), "{no}");
        }
        assert!(!covered("", "172.20.0.17".parse().unwrap()));
    }
}

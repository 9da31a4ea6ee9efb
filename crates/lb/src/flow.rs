//! Flow keys (the 5-tuple a scheduler sees) and their portable hashes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::hash::{FLOW_KEY, siphash24};

/// The transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP (IP protocol 6).
    Tcp,
    /// UDP (IP protocol 17).
    Udp,
    /// SCTP (IP protocol 132).
    Sctp,
}

impl Protocol {
    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }
}

/// A connection as a load balancer sees it: protocol, client address, virtual service address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// The transport protocol.
    pub protocol: Protocol,
    /// The client's address and port.
    pub source: SocketAddr,
    /// The virtual service's address and port.
    pub destination: SocketAddr,
}

impl FlowKey {
    /// A TCP flow.
    pub fn tcp(source: SocketAddr, destination: SocketAddr) -> FlowKey {
        FlowKey {
            protocol: Protocol::Tcp,
            source,
            destination,
        }
    }

    /// The hash of the whole 5-tuple, for per-connection Maglev lookups.
    ///
    /// Bytes hashed: protocol number, then for each of source and destination a family byte
    /// (4 or 6), the address in network order and the port big-endian; keyed SipHash-2-4.
    pub fn hash(&self) -> u64 {
        let mut bytes = [0u8; 1 + 2 * (1 + 16 + 2)];
        let mut len = 0;
        bytes[len] = self.protocol.number();
        len += 1;
        for addr in [self.source, self.destination] {
            len += put_ip(&mut bytes[len..], addr.ip());
            bytes[len..len + 2].copy_from_slice(&addr.port().to_be_bytes());
            len += 2;
        }
        siphash24(FLOW_KEY, &bytes[..len])
    }

    /// The hash of the source address alone, as IPVS `sh` and `mh` use by default: every
    /// connection from one client lands on the same backend.
    pub fn source_hash(&self) -> u64 {
        let mut bytes = [0u8; 17];
        let len = put_ip(&mut bytes, self.source.ip());
        siphash24(FLOW_KEY, &bytes[..len])
    }
}

/// `n` distinct TCP flows, the same on every run: clients `10.0.0.0/8` with ports
/// `1024..=65535`, counting up, all to `192.0.2.1:80`.
pub fn synthetic_flows(n: u64) -> impl Iterator<Item = FlowKey> {
    const PORTS: u64 = 65_536 - 1024;
    let vip = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 80);
    (0..n).map(move |i| {
        // Wraps after 2^24 × 64 512 flows; the 10/8 prefix keeps them in one private range.
        let host = ((i / PORTS) & 0x00ff_ffff) as u32;
        let port = (1024 + i % PORTS) as u16;
        let ip = Ipv4Addr::from(0x0a00_0000 | host);
        FlowKey::tcp(SocketAddr::new(IpAddr::V4(ip), port), vip)
    })
}

/// Writes a family byte and the address; returns how many bytes it wrote.
fn put_ip(out: &mut [u8], ip: IpAddr) -> usize {
    match ip {
        IpAddr::V4(v4) => {
            out[0] = 4;
            out[1..5].copy_from_slice(&v4.octets());
            5
        }
        IpAddr::V6(v6) => {
            out[0] = 6;
            out[1..17].copy_from_slice(&v6.octets());
            17
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_flows_are_distinct_and_stable() {
        let flows: Vec<FlowKey> = synthetic_flows(70_000).collect();
        assert_eq!(flows[0].source.to_string(), "10.0.0.0:1024");
        assert_eq!(flows[64_512].source.to_string(), "10.0.0.1:1024");
        let mut hashes: Vec<u64> = flows.iter().map(FlowKey::hash).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), 70_000);
    }

    #[test]
    fn source_hash_ignores_ports() {
        let vip: SocketAddr = "192.0.2.1:80".parse().unwrap();
        let a = FlowKey::tcp("10.1.2.3:1000".parse().unwrap(), vip);
        let b = FlowKey::tcp("10.1.2.3:2000".parse().unwrap(), vip);
        assert_eq!(a.source_hash(), b.source_hash());
        assert_ne!(a.hash(), b.hash());
        let v6 = FlowKey::tcp("[2001:db8::1]:1000".parse().unwrap(), vip);
        assert_ne!(v6.source_hash(), a.source_hash());
    }
}

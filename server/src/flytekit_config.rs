//! The flytekit client configuration `updraft start` writes for its users.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Writes `DATA_DIR/flytekit.yaml` pointing flytekit at `addr` (plaintext gRPC)
/// and returns its path.
pub fn write_flytekit_config(data_dir: &Path, addr: SocketAddr) -> std::io::Result<PathBuf> {
    let path = data_dir.join("flytekit.yaml");
    std::fs::write(&path, render_flytekit_config(addr))?;
    Ok(path)
}

/// The YAML flytekit reads (`pyflyte --config FILE`, or `FLYTECTL_CONFIG=FILE`).
pub fn render_flytekit_config(addr: SocketAddr) -> String {
    let host = dialable(addr);
    format!(
        "# Written by `updraft start`; flytekit reads it with `pyflyte --config <this file>`.\n\
         admin:\n  endpoint: dns:///{host}\n  insecure: true\n\
         console:\n  endpoint: http://{host}\n"
    )
}

/// The address clients should dial. A listener on 0.0.0.0 or :: accepts loopback connections, but clients cannot
/// dial the unspecified address itself.
pub fn dialable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        let loopback = if addr.is_ipv4() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
        };
        SocketAddr::new(loopback, addr.port())
    } else {
        addr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_points_flytekit_at_the_listener() {
        let yaml = render_flytekit_config("127.0.0.1:9000".parse().unwrap());
        assert!(yaml.contains("endpoint: dns:///127.0.0.1:9000"));
        assert!(yaml.contains("insecure: true"));
        assert!(yaml.contains("endpoint: http://127.0.0.1:9000"));
    }

    #[test]
    fn unspecified_listener_is_reached_over_loopback() {
        let yaml = render_flytekit_config("0.0.0.0:8088".parse().unwrap());
        assert!(yaml.contains("dns:///127.0.0.1:8088"), "{yaml}");
    }
}

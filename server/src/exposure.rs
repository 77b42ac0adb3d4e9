//! Whether this process may listen where other machines can reach it.
//!
//! Without `[auth]` every API call is anonymous, and the APIs register code
//! and launch it: anyone who reaches the port can upload code and run it as
//! the user updraft runs as. On loopback that is the laptop's own user, as
//! `updraft start` has always been; anywhere else it takes an explicit
//! `allow_anonymous = true`, so a door is never opened by accident.

use std::net::{IpAddr, SocketAddr};

use crate::config::Config;

/// Who can reach an address that updraft agreed to listen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// Loopback: only this machine's own users and processes.
    LoopbackOnly,
    /// Beyond loopback, but every API call needs a token from `[auth]`.
    BehindLogin,
    /// Beyond loopback without login, because the configuration says
    /// `allow_anonymous = true`.
    AnonymousByChoice,
}

/// Updraft refused to listen beyond loopback without login.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to listen on {addr} without login: anyone who can reach that address could \
     upload code and run it as the user updraft runs as. Configure single sign-on in an \
     [auth] section, or accept the risk on a network you trust with allow_anonymous = true \
     (UPDRAFT_ALLOW_ANONYMOUS=true, or --allow-anonymous); to serve this machine only, \
     listen on 127.0.0.1"
)]
pub struct AnonymousExposureRefused {
    /// The address asked for.
    pub addr: SocketAddr,
}

/// Whether `ip` only reaches this machine: 127.0.0.0/8 and `::1`, also when
/// written as an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => {
            ip.is_loopback()
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|mapped| mapped.is_loopback())
        }
    }
}

/// The rule: loopback is always allowed; beyond it, only with login
/// configured or anonymous access explicitly allowed. The unspecified
/// addresses (`0.0.0.0`, `::`) listen on every interface, so they count as
/// beyond loopback.
pub fn classify_exposure(
    addr: SocketAddr,
    login_configured: bool,
    allow_anonymous: bool,
) -> Result<Exposure, AnonymousExposureRefused> {
    if is_loopback(addr.ip()) {
        Ok(Exposure::LoopbackOnly)
    } else if login_configured {
        Ok(Exposure::BehindLogin)
    } else if allow_anonymous {
        Ok(Exposure::AnonymousByChoice)
    } else {
        Err(AnonymousExposureRefused { addr })
    }
}

/// Applies the rule to the configuration before anything listens, and warns
/// once when anonymous access beyond loopback was chosen.
pub fn check_exposure(config: &Config) -> Result<Exposure, AnonymousExposureRefused> {
    let exposure = classify_exposure(config.addr, config.auth.is_some(), config.allow_anonymous)?;
    if exposure == Exposure::AnonymousByChoice {
        tracing::warn!(
            addr = %config.addr,
            "listening beyond loopback without login because allow_anonymous = true: anyone who \
             can reach this address can upload code and run it as the user updraft runs as"
        );
    }
    Ok(exposure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(addr: &str, login_configured: bool, allow_anonymous: bool) -> Option<Exposure> {
        classify_exposure(addr.parse().unwrap(), login_configured, allow_anonymous).ok()
    }

    #[test]
    fn loopback_stays_open_without_login() {
        for addr in [
            "127.0.0.1:8088",
            "127.1.2.3:0",
            "[::1]:8088",
            "[::ffff:127.0.0.1]:8088",
        ] {
            assert_eq!(
                classify(addr, false, false),
                Some(Exposure::LoopbackOnly),
                "{addr}"
            );
        }
    }

    #[test]
    fn every_other_address_without_login_is_refused() {
        for addr in [
            "0.0.0.0:8088",
            "[::]:8088",
            "10.0.0.5:8088",
            "192.168.1.2:80",
            "[fe80::1]:8088",
            "[::ffff:10.0.0.5]:8088",
        ] {
            assert_eq!(classify(addr, false, false), None, "{addr}");
        }
    }

    #[test]
    fn login_or_an_explicit_choice_opens_other_addresses() {
        assert_eq!(
            classify("0.0.0.0:8088", true, false),
            Some(Exposure::BehindLogin)
        );
        assert_eq!(
            classify("0.0.0.0:8088", true, true),
            Some(Exposure::BehindLogin)
        );
        assert_eq!(
            classify("0.0.0.0:8088", false, true),
            Some(Exposure::AnonymousByChoice)
        );
    }

    #[test]
    fn the_refusal_names_the_address_the_risk_and_both_fixes() {
        let message = classify_exposure("0.0.0.0:8088".parse().unwrap(), false, false)
            .unwrap_err()
            .to_string();
        for expected in [
            "0.0.0.0:8088",
            "upload code and run it",
            "[auth]",
            "allow_anonymous = true",
            "UPDRAFT_ALLOW_ANONYMOUS",
            "--allow-anonymous",
        ] {
            assert!(
                message.contains(expected),
                "{expected:?} not in {message:?}"
            );
        }
    }

    #[test]
    fn the_rule_reads_the_configuration() {
        let mut config = Config {
            addr: "0.0.0.0:8088".parse().unwrap(),
            ..Config::default()
        };
        assert!(check_exposure(&config).is_err());
        config.allow_anonymous = true;
        assert_eq!(
            check_exposure(&config).unwrap(),
            Exposure::AnonymousByChoice
        );
    }
}

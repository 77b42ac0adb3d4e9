use std::io::Write;

use updraft::config::{CommandLineOverrides, Config};

fn config_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn defaults_listen_on_loopback_8088() {
    let config = Config::load(None, std::iter::empty(), &CommandLineOverrides::default()).unwrap();

    assert_eq!(config.addr.to_string(), "127.0.0.1:8088");
    assert!(config.data_dir.ends_with(".updraft"));
}

#[test]
fn file_then_environment_then_flags() {
    let file = config_file(
        "addr = \"127.0.0.1:9001\"\ndata_dir = \"/srv/updraft\"\n[console]\nadmin_endpoint = \"http://a:1\"\n",
    );
    let environment = [(
        "UPDRAFT_CONSOLE__ADMIN_ENDPOINT".to_string(),
        "http://b:2".to_string(),
    )];
    let flags = CommandLineOverrides {
        addr: Some("127.0.0.1:9002".parse().unwrap()),
        data_dir: None,
        allow_anonymous: None,
    };

    let config = Config::load(Some(file.path()), environment, &flags).unwrap();

    assert_eq!(config.addr.to_string(), "127.0.0.1:9002");
    assert_eq!(config.data_dir.to_str(), Some("/srv/updraft"));
    assert_eq!(config.console.admin_endpoint.as_deref(), Some("http://b:2"));
}

#[test]
fn unknown_key_in_file_is_rejected_by_name() {
    let file = config_file("[console]\nsite_rot = \"/x\"\n");

    let error = Config::load(
        Some(file.path()),
        std::iter::empty(),
        &CommandLineOverrides::default(),
    )
    .unwrap_err();

    let message = error.to_string();
    assert!(message.contains("site_rot"), "{message}");
}

#[test]
fn unknown_environment_override_is_rejected_by_name() {
    let environment = [("UPDRAFT_CONSOLE__NO_SUCH_KEY".to_string(), "1".to_string())];

    let error = Config::load(None, environment, &CommandLineOverrides::default()).unwrap_err();

    assert!(error.to_string().contains("no_such_key"), "{error}");
}

#[test]
fn test_settings_in_the_environment_are_not_configuration() {
    let environment = [(
        "UPDRAFT_TEST_POSTGRES".to_string(),
        "postgres://x".to_string(),
    )];

    assert!(Config::load(None, environment, &CommandLineOverrides::default()).is_ok());
}

#[test]
fn missing_config_file_is_named() {
    let error = Config::load(
        Some(std::path::Path::new("/nonexistent/updraft.toml")),
        std::iter::empty(),
        &CommandLineOverrides::default(),
    )
    .unwrap_err();

    assert!(error.to_string().contains("/nonexistent/updraft.toml"));
}

#[test]
fn malformed_value_names_the_key() {
    let file = config_file("addr = \"not an address\"\n");

    let error = Config::load(
        Some(file.path()),
        std::iter::empty(),
        &CommandLineOverrides::default(),
    )
    .unwrap_err();

    assert!(error.to_string().contains("addr"), "{error}");
}

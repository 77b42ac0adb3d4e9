//! `updraft start` refuses an address beyond loopback without `[auth]`,
//! before it listens or writes anything.

use std::process::Stdio;
use std::time::Duration;

#[tokio::test]
async fn start_beyond_loopback_without_login_is_refused_before_listening() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_updraft"));
    command
        .arg("start")
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(["--addr", "0.0.0.0:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Whatever the person running the tests has set must not open the door.
    for (name, _) in std::env::vars() {
        if name.starts_with("UPDRAFT_") {
            command.env_remove(name);
        }
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("updraft exits within a minute")
        .expect("updraft runs");

    assert!(!output.status.success(), "updraft started: {:?}", output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "0.0.0.0:0",
        "upload code and run it",
        "[auth]",
        "allow_anonymous = true",
        "--allow-anonymous",
    ] {
        assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
    }
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("updraft is running"),
        "it printed its banner"
    );
    assert!(
        !data_dir.path().join("flytekit.yaml").exists(),
        "it prepared its data directory before refusing"
    );
}

//! The binary the split deployment test starts: it serves, and refuses what
//! is not signed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_binary_serves_the_bucket_and_refuses_unsigned_requests() {
    let root = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_updraft-s3-test-server"))
        .args(["--root", root.path().to_str().unwrap(), "--bucket", "data"])
        .args(["--access-key", "key", "--secret-key", "secret"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoint = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(root.path().join("data").is_dir(), "the bucket is made");
    let anonymous = reqwest::get(format!("{endpoint}/data/anything"))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), reqwest::StatusCode::FORBIDDEN);
    server.kill().unwrap();
    server.wait().unwrap();
}

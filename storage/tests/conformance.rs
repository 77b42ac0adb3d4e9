//! One suite, run over every kind of store: a local folder, memory, and S3
//! (a real S3 server, s3s-fs, on loopback, checking SigV4 signatures).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use md5::{Digest, Md5};
use updraft_s3_test_server::S3TestServer;
use updraft_storage::{S3Settings, SignedMethod, Storage, StorageError, StorageKind};

const ACCESS_KEY: &str = "updraft-test";
const SECRET_KEY: &str = "updraft-test-secret";
const BUCKET: &str = "updraft-data";

/// A store under test, and what keeps it alive.
struct Subject {
    storage: Storage,
    _folder: tempfile::TempDir,
    _server: Option<S3TestServer>,
}

async fn s3_server(folder: &std::path::Path) -> S3TestServer {
    S3TestServer::start(
        "127.0.0.1:0".parse().unwrap(),
        folder,
        ACCESS_KEY,
        SECRET_KEY,
        &[BUCKET],
    )
    .await
    .expect("the S3 test server starts")
}

fn s3_settings(server: &S3TestServer) -> S3Settings {
    S3Settings {
        bucket: BUCKET.to_string(),
        endpoint: Some(server.endpoint()),
        region: Some("us-east-1".to_string()),
        allow_http: true,
        access_key_id: Some(ACCESS_KEY.to_string()),
        secret_access_key: Some(SECRET_KEY.to_string()),
    }
}

async fn subject(kind: StorageKind) -> Subject {
    let folder = tempfile::tempdir().unwrap();
    match kind {
        StorageKind::Local => Subject {
            storage: Storage::local(&folder.path().join("store")).unwrap(),
            _folder: folder,
            _server: None,
        },
        StorageKind::Memory => Subject {
            storage: Storage::in_memory(),
            _folder: folder,
            _server: None,
        },
        StorageKind::S3 => {
            let server = s3_server(folder.path()).await;
            let storage = Storage::s3(&s3_settings(&server)).unwrap();
            Subject {
                storage,
                _folder: folder,
                _server: Some(server),
            }
        }
    }
}

async fn writes_are_read_back_and_replaced(storage: Storage) {
    storage.check().await.unwrap();
    storage
        .put(
            "metadata/e1/n0/data/inputs.pb",
            Bytes::from_static(b"first"),
        )
        .await
        .unwrap();
    assert_eq!(
        storage.get("metadata/e1/n0/data/inputs.pb").await.unwrap(),
        Bytes::from_static(b"first")
    );
    storage
        .put(
            "metadata/e1/n0/data/inputs.pb",
            Bytes::from_static(b"second!"),
        )
        .await
        .unwrap();
    assert_eq!(
        storage.get("metadata/e1/n0/data/inputs.pb").await.unwrap(),
        Bytes::from_static(b"second!")
    );
    assert_eq!(
        storage.size("metadata/e1/n0/data/inputs.pb").await.unwrap(),
        Some(7)
    );
}

async fn missing_objects_are_not_found(storage: Storage) {
    let error = storage.get("metadata/none/outputs.pb").await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    assert!(
        error.to_string().contains("metadata/none/outputs.pb"),
        "{error}"
    );
    assert_eq!(
        storage.size("metadata/none/outputs.pb").await.unwrap(),
        None
    );
    assert!(!storage.exists("metadata/none/outputs.pb").await.unwrap());
    // Deleting nothing is not an error.
    storage.delete("metadata/none/outputs.pb").await.unwrap();
}

async fn uris_address_the_same_objects(storage: Storage) {
    let uri = storage.uri_for("uploads/p/d/abc/code.tar.gz");
    assert!(uri.starts_with(storage.base_uri()), "{uri}");
    storage
        .put_uri(&uri, Bytes::from_static(b"archive"))
        .await
        .unwrap();
    assert_eq!(
        storage.get("uploads/p/d/abc/code.tar.gz").await.unwrap(),
        Bytes::from_static(b"archive")
    );
    assert!(storage.exists_uri(&uri).await.unwrap());
    let error = storage
        .get_uri("gs://somewhere-else/uploads/x")
        .await
        .unwrap_err();
    assert!(
        matches!(error, StorageError::OutsideStore { .. }),
        "{error:?}"
    );
}

async fn lists_and_deletes_below_a_prefix(storage: Storage) {
    for key in ["raw/e1/n0/a", "raw/e1/n0/b", "raw/e1/n1/c", "raw/e2/x"] {
        storage.put(key, Bytes::from_static(b"x")).await.unwrap();
    }
    assert_eq!(
        storage.list("raw/e1").await.unwrap(),
        vec!["raw/e1/n0/a", "raw/e1/n0/b", "raw/e1/n1/c"]
    );
    storage.delete("raw/e1/n0/a").await.unwrap();
    assert_eq!(
        storage.list("raw/e1/n0/").await.unwrap(),
        vec!["raw/e1/n0/b"]
    );
}

async fn large_objects_survive(storage: Storage) {
    let large: Vec<u8> = (0..5 * 1024 * 1024)
        .map(|index| (index % 251) as u8)
        .collect();
    storage
        .put("raw/large.bin", Bytes::from(large.clone()))
        .await
        .unwrap();
    assert_eq!(storage.get("raw/large.bin").await.unwrap(), large);
}

macro_rules! conformance_suite {
    ($($test:ident),* $(,)?) => {
        mod local {
            $(#[tokio::test]
            async fn $test() {
                let subject = super::subject(updraft_storage::StorageKind::Local).await;
                super::$test(subject.storage.clone()).await;
            })*
        }
        mod memory {
            $(#[tokio::test]
            async fn $test() {
                let subject = super::subject(updraft_storage::StorageKind::Memory).await;
                super::$test(subject.storage.clone()).await;
            })*
        }
        mod s3 {
            $(#[tokio::test]
            async fn $test() {
                let subject = super::subject(updraft_storage::StorageKind::S3).await;
                super::$test(subject.storage.clone()).await;
            })*
        }
    };
}

conformance_suite!(
    writes_are_read_back_and_replaced,
    missing_objects_are_not_found,
    uris_address_the_same_objects,
    lists_and_deletes_below_a_prefix,
    large_objects_survive,
);

#[tokio::test]
async fn a_wrong_secret_is_refused_at_the_check_naming_the_keys() {
    let folder = tempfile::tempdir().unwrap();
    let server = s3_server(folder.path()).await;
    let mut settings = s3_settings(&server);
    settings.secret_access_key = Some("not-the-secret".to_string());
    let storage = Storage::s3(&settings).unwrap();
    let error = storage.check().await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("storage.s3.access_key_id"), "{message}");
    assert!(!message.contains("not-the-secret"), "{message}");
    // And no call gets through with it.
    let put = storage
        .put("x", Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    assert!(matches!(put, StorageError::Backend { .. }), "{put:?}");
}

#[tokio::test]
async fn a_missing_bucket_is_refused_at_the_check_naming_the_bucket() {
    let folder = tempfile::tempdir().unwrap();
    let server = s3_server(folder.path()).await;
    let mut settings = s3_settings(&server);
    settings.bucket = "no-such-bucket".to_string();
    let error = Storage::s3(&settings).unwrap().check().await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("storage.s3.bucket"), "{message}");
    assert!(message.contains("no-such-bucket"), "{message}");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_refused_at_the_check_naming_the_endpoint() {
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = S3Settings {
        bucket: BUCKET.to_string(),
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: Some("us-east-1".to_string()),
        allow_http: true,
        access_key_id: Some(ACCESS_KEY.to_string()),
        secret_access_key: Some(SECRET_KEY.to_string()),
    };
    let error = Storage::s3(&settings).unwrap().check().await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("storage.s3.endpoint"), "{message}");
    assert!(message.contains(&port.to_string()), "{message}");
}

#[tokio::test]
async fn presigned_urls_upload_with_the_promised_md5_and_download() {
    let folder = tempfile::tempdir().unwrap();
    let server = s3_server(folder.path()).await;
    let storage = Storage::s3(&s3_settings(&server)).unwrap();
    let body = b"a code archive".to_vec();
    let md5 = BASE64.encode(Md5::digest(&body));
    let upload = storage
        .signed_url(
            SignedMethod::Put,
            "uploads/p/d/x/code.tar.gz",
            Duration::from_secs(60),
            Some(&md5),
        )
        .await
        .unwrap()
        .expect("S3 signs URLs");
    let http = reqwest::Client::new();

    // Other content under the same promise is refused.
    let other = b"something else".to_vec();
    let refused = http
        .put(&upload)
        .header("Content-MD5", &md5)
        .body(other)
        .send()
        .await
        .unwrap();
    assert!(refused.status().is_client_error(), "{}", refused.status());
    // As is an upload that leaves the promised header out.
    let unsigned = http.put(&upload).body(body.clone()).send().await.unwrap();
    assert!(unsigned.status().is_client_error(), "{}", unsigned.status());

    let stored = http
        .put(&upload)
        .header("Content-MD5", &md5)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert!(stored.status().is_success(), "{}", stored.status());
    assert_eq!(
        storage.get("uploads/p/d/x/code.tar.gz").await.unwrap(),
        body
    );

    let download = storage
        .signed_url(
            SignedMethod::Get,
            "uploads/p/d/x/code.tar.gz",
            Duration::from_secs(60),
            None,
        )
        .await
        .unwrap()
        .unwrap();
    let fetched = http.get(&download).send().await.unwrap();
    assert!(fetched.status().is_success());
    assert_eq!(fetched.bytes().await.unwrap(), body);

    // A tampered URL is refused.
    let tampered = download.replace("code.tar.gz", "code.tar.gx");
    let refused = http.get(&tampered).send().await.unwrap();
    assert!(refused.status().is_client_error(), "{}", refused.status());
}

#[tokio::test]
async fn local_and_memory_stores_sign_no_urls_of_their_own() {
    for kind in [StorageKind::Local, StorageKind::Memory] {
        let subject = subject(kind).await;
        let url = subject
            .storage
            .signed_url(SignedMethod::Get, "x", Duration::from_secs(1), None)
            .await
            .unwrap();
        assert_eq!(url, None);
        assert!(subject.storage.task_environment().is_empty());
    }
}

//! `CreateUploadLocation` and the signed PUT flytekit sends to its URL.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::*;
use md5::{Digest, Md5};
use tonic::Code;
use updraft_proto::flyteidl::service;

fn upload_request(filename: &str, content: &[u8]) -> service::CreateUploadLocationRequest {
    service::CreateUploadLocationRequest {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        filename: filename.to_string(),
        content_md5: Md5::digest(content).to_vec(),
        add_content_md5_metadata: true,
        ..Default::default()
    }
}

async fn upload_location_accepts_a_signed_put_and_the_file_lands_in_the_store() {
    let mut app = TestApp::spawn().await;
    let content = b"a code archive".to_vec();
    let location = app
        .data_proxy
        .create_upload_location(upload_request("fastabc.tar.gz", &content))
        .await
        .unwrap()
        .into_inner();
    assert!(
        location
            .signed_url
            .starts_with(&format!("{}/api/v1/dataproxy/upload/", app.http_base))
    );
    assert!(location.native_url.starts_with("file://"));
    assert!(location.native_url.ends_with("/fastabc.tar.gz"));
    assert!(location.expires_at.is_some());
    let content_md5 = BASE64.encode(Md5::digest(&content));
    assert_eq!(location.headers["Content-MD5"], content_md5);

    let client = reqwest::Client::new();
    let response = client
        .put(&location.signed_url)
        .header("Content-MD5", &content_md5)
        .body(content.clone())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let path = location.native_url.strip_prefix("file://").unwrap();
    assert_eq!(std::fs::read(path).unwrap(), content);

    // Tampering with the URL, the digest or the body is refused.
    let tampered = location.signed_url.replace("fastabc", "fastxyz");
    let response = client
        .put(&tampered)
        .header("Content-MD5", &content_md5)
        .body(content.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let response = client
        .put(&location.signed_url)
        .body(content.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400, "missing Content-MD5");
    let response = client
        .put(&location.signed_url)
        .header("Content-MD5", &content_md5)
        .body(b"other bytes".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400, "body does not match");

    // The deprecated download location serves it back.
    #[allow(deprecated)]
    let download = app
        .data_proxy
        .create_download_location(service::CreateDownloadLocationRequest {
            native_url: location.native_url.clone(),
            expires_in: None,
        })
        .await
        .unwrap()
        .into_inner();
    let body = client
        .get(&download.signed_url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.as_ref(), content.as_slice());
}

async fn expired_urls_are_refused() {
    let mut app = TestApp::spawn().await;
    let content = b"x".to_vec();
    let mut request = upload_request("f.txt", &content);
    request.expires_in = Some(prost_types::Duration {
        seconds: 1,
        nanos: 0,
    });
    let location = app
        .data_proxy
        .create_upload_location(request)
        .await
        .unwrap()
        .into_inner();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = reqwest::Client::new()
        .put(&location.signed_url)
        .header("Content-MD5", BASE64.encode(Md5::digest(&content)))
        .body(content)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
}

async fn upload_location_errors() {
    let mut app = TestApp::spawn().await;
    let mut no_digest = upload_request("f", b"x");
    no_digest.content_md5.clear();
    assert_status(
        app.data_proxy.create_upload_location(no_digest).await,
        Code::InvalidArgument,
        "content_md5 or filename_root",
    );
    let mut unknown_project = upload_request("f", b"x");
    unknown_project.project = "nowhere".to_string();
    assert_status(
        app.data_proxy.create_upload_location(unknown_project).await,
        Code::InvalidArgument,
        "nowhere",
    );
    assert_status(
        app.data_proxy
            .create_upload_location(upload_request("../../etc/passwd", b"x"))
            .await,
        Code::InvalidArgument,
        "filename",
    );
    #[allow(deprecated)]
    let outside = app
        .data_proxy
        .create_download_location(service::CreateDownloadLocationRequest {
            native_url: "s3://bucket/key".to_string(),
            expires_in: None,
        })
        .await;
    assert_status(outside, Code::InvalidArgument, "s3://bucket/key");
}

common::on_every_backend!(
    upload_location_accepts_a_signed_put_and_the_file_lands_in_the_store,
    expired_urls_are_refused,
    upload_location_errors,
);

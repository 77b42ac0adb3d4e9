//! CreateDownloadLink: the console's signed link to a node's Deck.

mod common;

use bytes::Bytes;
use common::*;
use tonic::Code;
use updraft_proto::flyteidl::core::node_execution::Phase as NodePhase;
use updraft_proto::flyteidl::service::{
    ArtifactType, CreateDownloadLinkRequest, create_download_link_request,
};
use updraft_proto::flyteidl::{admin, core, event};

fn node_id(execution: &str, node: &str) -> core::NodeExecutionIdentifier {
    core::NodeExecutionIdentifier {
        node_id: node.to_string(),
        execution_id: Some(workflow_execution_id(execution)),
    }
}

fn deck_link(execution: &str, node: &str) -> CreateDownloadLinkRequest {
    CreateDownloadLinkRequest {
        artifact_type: ArtifactType::Deck as i32,
        expires_in: None,
        source: Some(create_download_link_request::Source::NodeExecutionId(
            node_id(execution, node),
        )),
    }
}

async fn report_node(app: &mut TestApp, node: &str, deck_uri: &str) {
    app.admin
        .create_node_event(admin::NodeExecutionEventRequest {
            request_id: format!("{node}-running"),
            event: Some(event::NodeExecutionEvent {
                id: Some(node_id("decked", node)),
                producer_id: "propeller".to_string(),
                phase: NodePhase::Running as i32,
                occurred_at: Some(prost_types::Timestamp {
                    seconds: 1_800_000_000,
                    nanos: 0,
                }),
                deck_uri: deck_uri.to_string(),
                ..Default::default()
            }),
        })
        .await
        .expect("node event");
}

async fn a_deck_link_downloads_the_deck_and_is_refused_when_tampered() {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    app.admin
        .create_execution(launch_request("decked"))
        .await
        .unwrap();
    let deck_key = "outputs/decked/n0/0/deck.html";
    app.api
        .blobs()
        .put(deck_key, Bytes::from_static(b"<html>deck</html>"))
        .await
        .unwrap();
    let deck_uri = app.api.blobs().uri_for(deck_key);
    report_node(&mut app, "n0", &deck_uri).await;
    report_node(&mut app, "n1", "").await;

    let link = app
        .data_proxy
        .create_download_link(deck_link("decked", "n0"))
        .await
        .unwrap()
        .into_inner();
    let urls = link.pre_signed_urls.unwrap();
    assert_eq!(urls.signed_url.len(), 1);
    assert!(urls.expires_at.is_some());
    let url = &urls.signed_url[0];
    assert!(url.starts_with(&app.http_base), "{url}");
    let body = reqwest::get(url).await.unwrap();
    assert_eq!(body.status(), 200);
    assert_eq!(body.text().await.unwrap(), "<html>deck</html>");
    let tampered = url.replace("deck.html", "other.html");
    assert_eq!(reqwest::get(&tampered).await.unwrap().status(), 403);

    assert_status(
        app.data_proxy
            .create_download_link(deck_link("decked", "n1"))
            .await,
        Code::NotFound,
        "node n1 of execution flytesnacks/development/decked has no deck",
    );
    assert_status(
        app.data_proxy
            .create_download_link(deck_link("decked", "n9"))
            .await,
        Code::NotFound,
        "node n9 of execution flytesnacks/development/decked does not exist",
    );
    assert_status(
        app.data_proxy
            .create_download_link(CreateDownloadLinkRequest {
                artifact_type: ArtifactType::Undefined as i32,
                ..deck_link("decked", "n0")
            })
            .await,
        Code::InvalidArgument,
        "only ARTIFACT_TYPE_DECK has download links",
    );
    assert_status(
        app.data_proxy
            .create_download_link(CreateDownloadLinkRequest {
                source: None,
                ..deck_link("decked", "n0")
            })
            .await,
        Code::InvalidArgument,
        "missing node_execution_id",
    );
    assert_status(
        app.data_proxy
            .create_download_link(CreateDownloadLinkRequest {
                expires_in: Some(prost_types::Duration {
                    seconds: 30 * 24 * 3600,
                    nanos: 0,
                }),
                ..deck_link("decked", "n0")
            })
            .await,
        Code::InvalidArgument,
        "exceeds the maximum",
    );
}

common::on_every_backend!(a_deck_link_downloads_the_deck_and_is_refused_when_tampered);

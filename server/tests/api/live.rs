//! The console's push streams: server-sent events fed by the admin.

use crate::helpers::TestApp;

async fn first_event(app: &TestApp, path: &str) -> (String, String) {
    let response = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let mut response = response;
    let mut body = String::new();
    while !body.contains("\n\n") {
        let chunk = response
            .chunk()
            .await
            .unwrap()
            .expect("the stream stays open");
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    (content_type, body)
}

#[tokio::test]
async fn a_missing_execution_ends_its_stream_with_gone() {
    let app = TestApp::spawn().await;

    let (content_type, body) = first_event(
        &app,
        "/api/live/executions/flytesnacks/development/nosuchexecution",
    )
    .await;

    assert_eq!(content_type, "text/event-stream");
    assert!(body.starts_with("event: gone"), "{body}");
}

#[tokio::test]
async fn a_list_stream_sends_the_current_state_first() {
    let app = TestApp::spawn().await;

    let (_, body) = first_event(&app, "/api/live/executions/flytesnacks/development").await;

    assert!(body.starts_with("event: change"), "{body}");
}

//! The console's push streams: server-sent events fed by the admin.

use crate::helpers::{TestApp, next_event_name};

/// The content type of the stream at `path`, and the name of its first event.
async fn first_event(app: &TestApp, path: &str) -> (String, String) {
    let mut response = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let event = next_event_name(&mut response, &mut String::new()).await;
    (content_type, event)
}

#[tokio::test]
async fn a_missing_execution_ends_its_stream_with_gone() {
    let app = TestApp::spawn().await;

    let (content_type, event) = first_event(
        &app,
        "/api/live/executions/flytesnacks/development/nosuchexecution",
    )
    .await;

    assert_eq!(content_type, "text/event-stream");
    assert_eq!(event, "gone");
}

#[tokio::test]
async fn a_list_stream_sends_the_current_state_first() {
    let app = TestApp::spawn().await;

    let (_, event) = first_event(&app, "/api/live/executions/flytesnacks/development").await;

    assert_eq!(event, "change");
}

//! The console's task-log stream: the propeller's `TailLogs` relayed as
//! server-sent events, resumable by `Last-Event-ID`.

use std::time::Duration;

use updraft_proto::flyteidl::core;

use crate::helpers::TestApp;

const LOG_PATH: &str = "/api/live/logs/flytesnacks/development/logexec/n0/0";

/// Writes the log the local runtime would have kept for attempt 0 of `n0`.
fn write_attempt_log(app: &TestApp, text: &str) {
    write_log(app, "n0", 0, text);
}

/// Writes the log the local runtime keeps for `attempt` of `node_id`.
fn write_log(app: &TestApp, node_id: &str, attempt: u32, text: &str) {
    let execution = core::WorkflowExecutionIdentifier {
        project: "flytesnacks".into(),
        domain: "development".into(),
        name: "logexec".into(),
        org: String::new(),
    };
    let key = updraft_propeller::paths::attempt_key(&execution, node_id, attempt);
    let path = updraft_propeller::local::log_path(&app.data_dir.path().join("work"), &key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The whole stream: it ends by itself once the attempt is done.
async fn read_stream(app: &TestApp, last_event_id: Option<&str>) -> (String, String) {
    read_stream_at(app, LOG_PATH, last_event_id).await
}

async fn read_stream_at(
    app: &TestApp,
    path: &str,
    last_event_id: Option<&str>,
) -> (String, String) {
    let mut request = app.http.get(app.url(path));
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let response = tokio::time::timeout(Duration::from_secs(20), request.send())
        .await
        .expect("the stream answers")
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let body = tokio::time::timeout(Duration::from_secs(20), response.text())
        .await
        .expect("a finished attempt's stream ends")
        .unwrap();
    (content_type, body)
}

#[tokio::test]
async fn a_finished_attempts_log_is_sent_whole_then_ended() {
    let app = TestApp::spawn().await;
    write_attempt_log(&app, "hello\n  wörld\n");

    let (content_type, body) = read_stream(&app, None).await;

    assert_eq!(content_type, "text/event-stream");
    assert!(body.starts_with("event: log\n"), "{body}");
    // Whitespace and newlines survive as a JSON string; the id is the byte
    // offset after the text.
    assert!(body.contains("data: \"hello\\n  wörld\\n\"\n"), "{body}");
    assert!(body.contains("id: 15\n"), "{body}");
    assert!(
        body.trim_end().ends_with("event: end\ndata: ended"),
        "{body}"
    );
}

#[tokio::test]
async fn each_index_of_a_map_node_has_its_own_log() {
    let app = TestApp::spawn().await;
    // The local runtime keeps index 2's second try under its own node id.
    let index_node = updraft_propeller::node_ids::index_node_id("n0", 2);
    write_log(&app, &index_node, 1, "index two, second try\n");
    write_log(&app, "n0", 1, "the map node itself\n");

    let (_, body) = read_stream_at(
        &app,
        "/api/live/logs/flytesnacks/development/logexec/n0/1?index=2",
        None,
    )
    .await;
    assert!(body.contains("index two, second try"), "{body}");
    assert!(!body.contains("the map node itself"), "{body}");

    let (_, body) = read_stream_at(
        &app,
        "/api/live/logs/flytesnacks/development/logexec/n0/1",
        None,
    )
    .await;
    assert!(body.contains("the map node itself"), "{body}");
}

#[tokio::test]
async fn a_reconnecting_reader_resumes_after_the_last_event() {
    let app = TestApp::spawn().await;
    write_attempt_log(&app, "first line\nsecond line\n");

    let (_, body) = read_stream(&app, Some("11")).await;

    assert!(body.contains("data: \"second line\\n\""), "{body}");
    assert!(!body.contains("first line"), "{body}");
}

#[tokio::test]
async fn an_attempt_that_never_ran_ends_with_no_text() {
    let app = TestApp::spawn().await;

    let (_, body) = read_stream(&app, None).await;

    assert!(body.starts_with("event: end\n"), "{body}");
}

#[tokio::test]
async fn a_console_without_a_propeller_says_logs_are_not_inline() {
    let admin = TestApp::spawn().await;
    let app = TestApp::spawn_with_admin(&admin.url("")).await;

    let (_, body) = read_stream(&app, None).await;

    assert!(body.starts_with("event: unavailable\n"), "{body}");
    assert!(body.contains("log links"), "{body}");
}

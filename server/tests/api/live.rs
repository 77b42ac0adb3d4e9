//! The console's push streams: server-sent events fed by the admin.

use crate::helpers::{TestApp, next_event_name};

/// The content type of the stream at `path`, and the name of its first event.
async fn first_event(app: &TestApp, path: &str) -> (String, String) {
    let mut response = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    // Proxies that buffer would hold the events back.
    assert_eq!(response.headers()["x-accel-buffering"], "no");
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

/// Bounds a wait that would otherwise hang the suite when stopping breaks.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(60), future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen within a minute"))
}

/// An executions list page's stream, open past its first event. A list's
/// stream stays open for as long as its page does.
async fn open_list_page(http: &reqwest::Client, base: &str) -> reqwest::Response {
    let mut page = http
        .get(format!(
            "{base}/api/live/executions/flytesnacks/development"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        next_event_name(&mut page, &mut String::new()).await,
        "change"
    );
    page
}

#[tokio::test]
async fn stopping_ends_open_pages_streams_and_the_server_stops() {
    let app = TestApp::spawn().await;
    let mut page = open_list_page(&app.http, &app.url("")).await;

    within("stopping", app.stop()).await.unwrap();
    // It ends as a stream does, not cut off: the chunked body completes.
    within("the stream's end", async {
        while page.chunk().await.unwrap().is_some() {}
    })
    .await;
}

/// `updraft start` on a free port: the process and its address.
async fn start_updraft(data_dir: &std::path::Path) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;

    let mut updraft = tokio::process::Command::new(env!("CARGO_BIN_EXE_updraft"))
        .arg("start")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--addr", "127.0.0.1:0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("updraft starts");
    let mut lines = tokio::io::BufReader::new(updraft.stdout.take().unwrap()).lines();
    let address = within("updraft's banner", async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("console:").nth(1)
                && let Some(address) = rest.trim().strip_prefix("http://")
            {
                return address.trim_end_matches("/console").to_string();
            }
        }
        panic!("updraft exited before printing its address");
    })
    .await;
    // A full pipe would block its printing.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (updraft, address)
}

#[tokio::test]
async fn updraft_stops_on_sigterm_while_a_page_and_a_grpc_stream_are_open() {
    use updraft_proto::updraft::propeller::v1::WatchExecutionsRequest;
    use updraft_proto::updraft::propeller::v1::propeller_service_client::PropellerServiceClient;

    let data_dir = tempfile::tempdir().unwrap();
    let (mut updraft, address) = start_updraft(data_dir.path()).await;
    let _page = open_list_page(&reqwest::Client::new(), &format!("http://{address}")).await;
    // Another client's stream, which only the server's end can close.
    let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let _changes = PropellerServiceClient::new(channel)
        .watch_executions(WatchExecutionsRequest {
            project: "flytesnacks".to_string(),
            domain: "development".to_string(),
        })
        .await
        .unwrap()
        .into_inner();

    let pid = updraft.id().unwrap().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(signalled.success());

    let status = within("updraft's exit", updraft.wait()).await.unwrap();
    assert!(status.success(), "updraft exited with {status}");
}

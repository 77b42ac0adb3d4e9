//! `GET /metrics`: per-RPC series under flyteadmin's and go-grpc-prometheus's
//! names, and the console's request latency by route.
//!
//! The recorder is one per process and tests run side by side, so each
//! assertion compares a series before and after this test's own calls, on a
//! method no other test calls.

use updraft_proto::flyteidl::admin::ProjectGetRequest;
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;

use crate::helpers::TestApp;

/// The sum of the samples of `name` whose labels include all of `labels`
/// (zero when there are none), read from a text exposition.
fn sample(exposition: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = match series.split_once('{') {
                Some((series_name, rest)) => (series_name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            if series_name != name {
                return None;
            }
            let matches = labels.iter().all(|(key, expected)| {
                series_labels
                    .split(',')
                    .any(|pair| pair == format!("{key}=\"{expected}\""))
            });
            matches.then(|| value.parse::<f64>().expect("a numeric sample"))
        })
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn admin_calls_are_counted_under_flyteadmin_names_and_codes() {
    let app = TestApp::spawn().await;
    let mut admin = AdminServiceClient::new(app.grpc_channel().await);
    let before = scrape(&app).await;

    admin
        .get_project(ProjectGetRequest {
            id: "flytesnacks".into(),
            ..Default::default()
        })
        .await
        .expect("the default project exists");
    let missing = admin
        .get_project(ProjectGetRequest {
            id: "no-such-project".into(),
            ..Default::default()
        })
        .await
        .expect_err("no such project");
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let after = scrape(&app).await;

    let delta = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    let scope = "flyte:admin:admin:get_project";
    assert_eq!(delta(&format!("{scope}:success"), &[]), 1.0);
    assert_eq!(delta(&format!("{scope}:errors"), &[]), 1.0);
    assert_eq!(delta(&format!("{scope}:codes:OK"), &[]), 1.0);
    assert_eq!(delta(&format!("{scope}:codes:NotFound"), &[]), 1.0);
    assert_eq!(delta(&format!("{scope}:codes:Internal"), &[]), 0.0);
    assert_eq!(delta(&format!("{scope}:duration_ms_count"), &[]), 2.0);
    // A summary with Flyte's quantiles: the dashboards read it `by (quantile)`.
    assert!(
        after.contains(&format!("{scope}:duration_ms{{quantile=\"0.99\"}}")),
        "{after}"
    );
    // The database calls behind them, under flyteadmin's repository timers
    // (other tests may read projects too, hence at least).
    assert!(delta("flyte:admin:admin:database:project:get_ms_count", &[]) >= 2.0);
    // Every method's codes exist from the start, at zero until used.
    assert!(after.contains("flyte:admin:admin:create_execution:codes:AlreadyExists "));
    assert!(after.contains("flyte:admin:admin:list_execution:codes:OK "));

    let method = [
        ("grpc_type", "unary"),
        ("grpc_service", "flyteidl.service.AdminService"),
        ("grpc_method", "GetProject"),
    ];
    assert_eq!(delta("grpc_server_started_total", &method), 2.0);
    let with_code = |code: &'static str| {
        let mut labels = method.to_vec();
        labels.push(("grpc_code", code));
        labels
    };
    assert_eq!(delta("grpc_server_handled_total", &with_code("OK")), 1.0);
    assert_eq!(
        delta("grpc_server_handled_total", &with_code("NotFound")),
        1.0
    );
    assert_eq!(delta("grpc_server_handling_seconds_count", &method), 2.0);
    assert!(
        after.contains("grpc_server_handling_seconds_bucket{") && after.contains("le=\"0.005\""),
        "a histogram in seconds with Prometheus's default buckets"
    );
}

#[tokio::test]
async fn calls_to_unknown_methods_are_counted_without_minting_labels() {
    let app = TestApp::spawn().await;
    let mut grpc = tonic::client::Grpc::new(app.grpc_channel().await);
    grpc.ready().await.expect("channel ready");
    let method_name = "MetricsTestNoSuchMethod";

    let status = grpc
        .unary(
            tonic::Request::new(()),
            format!("/flyteidl.service.AdminService/{method_name}")
                .parse()
                .unwrap(),
            tonic_prost::ProstCodec::<(), ()>::default(),
        )
        .await
        .expect_err("no such method");
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    let after = scrape(&app).await;

    assert!(!after.contains(method_name), "{after}");
    assert!(
        sample(
            &after,
            "grpc_server_handled_total",
            &[("grpc_method", "unknown"), ("grpc_code", "Unimplemented")]
        ) >= 1.0
    );
}

#[tokio::test]
async fn console_requests_are_timed_by_route_template() {
    let app = TestApp::spawn().await;
    let page = app
        .http
        .get(app.url("/console/projects/flytesnacks/domains/development/executions"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let missing = app
        .http
        .get(app.url("/metrics-test-no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let after = scrape(&app).await;

    let executions_page = [
        (
            "route",
            "/console/projects/{project}/domains/{domain}/executions",
        ),
        ("method", "GET"),
        ("status", "2xx"),
    ];
    assert!(
        sample(
            &after,
            "updraft:console:request_duration_ms_count",
            &executions_page
        ) >= 1.0,
        "{after}"
    );
    assert!(after.contains("updraft:console:request_duration_ms_bucket{"));
    // Concrete paths are never labels: unmatched ones share one series.
    assert!(!after.contains("metrics-test-no-such-page"), "{after}");
    assert!(
        !after.contains("route=\"/console/projects/flytesnacks"),
        "{after}"
    );
    assert!(
        sample(
            &after,
            "updraft:console:request_duration_ms_count",
            &[("route", "unmatched"), ("status", "4xx")]
        ) >= 1.0
    );
}

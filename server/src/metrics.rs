//! Prometheus metrics: the process's one recorder and the `GET /metrics` route
//! every component serves it from, on its own address (no second listener).
//!
//! Names follow Flyte's where Flyte has one, so its Grafana dashboards (21719
//! for propeller, 21720 for admin) read updraft as they read Flyte:
//! - `flyte:…` timers are rendered as summaries with Flyte's quantiles (0.5,
//!   0.9, 0.99), because those dashboards query them `by (quantile)`;
//! - `grpc_server_handling_seconds` is a histogram in seconds, as
//!   go-grpc-prometheus (which flyteadmin uses) exports it;
//! - updraft's own `updraft:…_ms` timers are histograms with millisecond buckets.

use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Upper bounds (milliseconds) of updraft's own `_ms` histograms: from a fast
/// database read to a long task attempt.
const MILLISECOND_BUCKETS: &[f64] = &[
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0,
    30_000.0, 60_000.0, 300_000.0,
];

/// Upper bounds (seconds) of `grpc_server_handling_seconds`: Prometheus's
/// default buckets, which go-grpc-prometheus uses and dashboards expect.
const SECOND_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The quantiles of Flyte's summaries (flytestdlib's default objectives).
const FLYTE_QUANTILES: &[f64] = &[0.5, 0.9, 0.99];

/// Summaries keep the last ten minutes in five slices, as Go's Prometheus
/// client does by default, so quantiles match what flyteadmin would report.
const SUMMARY_SLICE: Duration = Duration::from_secs(120);
const SUMMARY_SLICES: u32 = 5;

/// How often recorded histogram samples are folded into their distributions.
/// Rendering does it too; this bounds the memory held between scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The name of the histogram of gRPC call durations, in seconds.
pub(crate) const GRPC_HANDLING_SECONDS: &str = "grpc_server_handling_seconds";

/// Installs the process's Prometheus recorder on first call and returns its
/// handle; later calls return the same handle. `None` when another recorder
/// was installed first (by an embedder), in which case updraft's metrics go
/// to that one and `/metrics` has nothing of its own to show.
pub fn install_recorder() -> Option<&'static PrometheusHandle> {
    // Tests build many servers in one process; the recorder is global, so it
    // is installed once and shared.
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = match builder() {
                Ok(builder) => builder.build_recorder(),
                Err(error) => {
                    tracing::error!(%error, "invalid metrics configuration; metrics are off");
                    return None;
                }
            };
            let handle = recorder.handle();
            if let Err(error) = metrics::set_global_recorder(recorder) {
                tracing::warn!(%error, "another metrics recorder is installed; /metrics stays empty");
                return None;
            }
            describe_metrics();
            spawn_upkeep(handle.clone());
            Some(handle)
        })
        .as_ref()
}

fn builder() -> Result<PrometheusBuilder, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new()
        .set_quantiles(FLYTE_QUANTILES)?
        .set_bucket_duration(SUMMARY_SLICE)?
        .set_bucket_count(NonZeroU32::new(SUMMARY_SLICES).expect("a positive slice count"))
        .set_buckets_for_metric(Matcher::Prefix("updraft:".into()), MILLISECOND_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(GRPC_HANDLING_SECONDS.into()), SECOND_BUCKETS)
}

/// A plain thread rather than a task: the recorder outlives any one Tokio
/// runtime (tests start and stop many).
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                handle.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        // Rendering still folds samples in; only memory between scrapes grows.
        tracing::warn!(%error, "cannot start the metrics upkeep thread");
    }
}

/// The `HELP` lines of metrics whose meaning is not obvious from their name.
fn describe_metrics() {
    metrics::describe_counter!(
        "grpc_server_started_total",
        "gRPC calls started on the server"
    );
    metrics::describe_counter!(
        "grpc_server_handled_total",
        "gRPC calls completed on the server, by status code"
    );
    metrics::describe_histogram!(
        GRPC_HANDLING_SECONDS,
        metrics::Unit::Seconds,
        "time from a gRPC call's arrival to its status (for streams: the whole stream)"
    );
    crate::console::describe_console_metrics();
    updraft_propeller::metrics::describe_propeller_metrics();
    updraft_catalog::metrics::describe_catalog_metrics();
    updraft_scheduler::scheduler::describe_scheduler_metrics();
}

/// `GET /metrics`: everything recorded in this process, in Prometheus's text
/// exposition format. Merge it into each component's HTTP router.
pub fn metrics_router() -> Router {
    // Installed here too, so a component that records nothing else before
    // its first scrape still has a recorder for what follows.
    install_recorder();
    Router::new().route("/metrics", get(render_metrics))
}

async fn render_metrics() -> impl IntoResponse {
    match install_recorder() {
        Some(handle) => (
            StatusCode::OK,
            [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            handle.render(),
        ),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            "metrics are not available in this process\n".to_string(),
        ),
    }
}

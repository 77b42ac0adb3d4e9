//! `cargo bench -p updraft-admin --bench executions`
//!
//! CreateExecution and ListExecutions latency through a real gRPC client, with
//! `UPDRAFT_BENCH_EXECUTIONS` executions (default 100,000) already stored: on
//! SQLite always, and on PostgreSQL when `UPDRAFT_TEST_POSTGRES` names a server.
//! A quarter of the stored executions are RUNNING and a quarter SUCCEEDED
//! (through workflow events, as the propeller would report them), the rest
//! QUEUED, so the phase filter has to find its rows among the others.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Backend, DOMAIN, PROJECT, TestApp, identifier, integer};
use futures::{StreamExt, TryStreamExt};
use updraft_proto::flyteidl::core::ResourceType;
use updraft_proto::flyteidl::core::workflow_execution::Phase;
use updraft_proto::flyteidl::{admin, core, event};

const DEFAULT_STORED: usize = 100_000;
const SEED_CONCURRENCY: usize = 16;
const SAMPLES: usize = 1_000;
const PAGE: u32 = 25;

fn main() {
    let stored = std::env::var("UPDRAFT_BENCH_EXECUTIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_STORED);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let mut backends = vec![Backend::Sqlite];
    if let Backend::Postgres(url) = Backend::from_environment() {
        backends.push(Backend::Postgres(url));
    } else {
        println!("(set UPDRAFT_TEST_POSTGRES to a server URL to bench PostgreSQL too)");
    }
    for backend in backends {
        runtime.block_on(bench(&backend, stored));
    }
}

async fn bench(backend: &Backend, stored: usize) {
    let mut app = TestApp::spawn_on(backend).await;
    app.register_fixtures("v1").await;
    let label = backend.label();

    let seeding = Instant::now();
    futures::stream::iter(0..stored)
        .map(|index| seed(app.admin.clone(), index))
        .buffer_unordered(SEED_CONCURRENCY)
        .try_collect::<()>()
        .await
        .expect("seed executions");
    let seconds = seeding.elapsed().as_secs_f64();
    println!(
        "[{label}] stored {stored} executions in {seconds:.1} s ({:.0}/s with {SEED_CONCURRENCY} clients, events included)",
        stored as f64 / seconds
    );

    let mut create = Vec::with_capacity(SAMPLES);
    for index in 0..SAMPLES {
        let mut client = app.admin.clone();
        let request = create_request(&format!("sample{index:06}"));
        let started = Instant::now();
        client.create_execution(request).await.expect("create");
        create.push(started.elapsed());
    }
    report(label, "CreateExecution", &mut create);

    let running = format!("eq(phase,{})", Phase::Running.as_str_name());
    let mut first_pages = Vec::with_capacity(SAMPLES);
    let mut next_pages = Vec::with_capacity(SAMPLES);
    let mut unfiltered = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let mut client = app.admin.clone();
        let started = Instant::now();
        let page = client
            .list_executions(list_request(&running, ""))
            .await
            .expect("list")
            .into_inner();
        first_pages.push(started.elapsed());
        assert_eq!(page.executions.len(), PAGE as usize, "a full page");
        assert!(
            page.executions.iter().all(|execution| {
                execution.closure.as_ref().map(|closure| closure.phase)
                    == Some(Phase::Running as i32)
            }),
            "only RUNNING executions"
        );

        let started = Instant::now();
        client
            .list_executions(list_request(&running, &page.token))
            .await
            .expect("list the next page");
        next_pages.push(started.elapsed());

        let started = Instant::now();
        client
            .list_executions(list_request("", ""))
            .await
            .expect("list unfiltered");
        unfiltered.push(started.elapsed());
    }
    report(
        label,
        "ListExecutions phase=RUNNING, created_at desc, 25 (first page)",
        &mut first_pages,
    );
    report(label, "  same, next page by token", &mut next_pages);
    report(label, "ListExecutions no filter, 25", &mut unfiltered);
}

async fn seed(mut client: common::AdminClient, index: usize) -> Result<(), tonic::Status> {
    let name = format!("bench{index:06}");
    client.create_execution(create_request(&name)).await?;
    let phases: &[Phase] = match index % 4 {
        0 => &[Phase::Running],
        1 => &[Phase::Running, Phase::Succeeded],
        _ => &[],
    };
    for (step, phase) in phases.iter().enumerate() {
        client
            .create_workflow_event(workflow_event(&name, *phase, step))
            .await?;
    }
    Ok(())
}

fn execution_id(name: &str) -> core::WorkflowExecutionIdentifier {
    core::WorkflowExecutionIdentifier {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        name: name.to_string(),
        org: String::new(),
    }
}

fn create_request(name: &str) -> admin::ExecutionCreateRequest {
    admin::ExecutionCreateRequest {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        name: name.to_string(),
        spec: Some(admin::ExecutionSpec {
            launch_plan: Some(identifier(ResourceType::LaunchPlan, "wf", "v1")),
            metadata: Some(admin::ExecutionMetadata {
                principal: "bench".to_string(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        inputs: Some(core::LiteralMap {
            literals: [("a".to_string(), integer(1)), ("b".to_string(), integer(2))].into(),
        }),
        org: String::new(),
    }
}

fn workflow_event(name: &str, phase: Phase, step: usize) -> admin::WorkflowExecutionEventRequest {
    admin::WorkflowExecutionEventRequest {
        request_id: format!("{name}-{step}"),
        event: Some(event::WorkflowExecutionEvent {
            execution_id: Some(execution_id(name)),
            producer_id: "bench".to_string(),
            phase: phase as i32,
            occurred_at: Some(std::time::SystemTime::now().into()),
            ..Default::default()
        }),
    }
}

fn list_request(filters: &str, token: &str) -> admin::ResourceListRequest {
    admin::ResourceListRequest {
        id: Some(admin::NamedEntityIdentifier {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            ..Default::default()
        }),
        limit: PAGE,
        token: token.to_string(),
        filters: filters.to_string(),
        sort_by: Some(admin::Sort {
            key: "created_at".to_string(),
            direction: admin::sort::Direction::Descending as i32,
        }),
    }
}

fn report(label: &str, what: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |quantile: f64| {
        let index = ((samples.len() as f64 * quantile).ceil() as usize).saturating_sub(1);
        samples[index.min(samples.len() - 1)].as_secs_f64() * 1000.0
    };
    println!(
        "[{label}] {what}: p50 {:.2} ms, p99 {:.2} ms ({} samples)",
        at(0.50),
        at(0.99),
        samples.len()
    );
}

//! Task-cache hits through the real catalog (SQLite and a folder, as
//! `updraft start` keeps them) called in-process, as `updraft start`'s
//! propeller calls it; the engine runs on the in-memory admin and the
//! scripted runtime, so what is measured is the engine and the catalog.
//! Prints numbers; asserts nothing.
//!
//! `cargo bench -p updraft --bench task_cache`

use std::sync::Arc;
use std::time::{Duration, Instant};

use updraft::task_cache::InProcessCatalog;
use updraft_propeller::execution::ExecutionEnd;
use updraft_propeller::testing::*;
use updraft_proto::flyteidl::core;

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

fn mapping(task: &core::TaskTemplate) -> core::WorkflowTemplate {
    let inner = task_node("n0", task, vec![promise("x", INPUTS, "x")]);
    let node = core::Node {
        id: "map".into(),
        inputs: vec![promise("x", INPUTS, "xs")],
        target: Some(core::node::Target::ArrayNode(Box::new(core::ArrayNode {
            node: Some(Box::new(inner)),
            is_original_sub_node_interface: Some(true),
            ..Default::default()
        }))),
        ..Default::default()
    };
    workflow("wf", &["xs"], vec![node], vec![promise("o0", "map", "o0")])
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!("task-cache benchmark: {cores} cores, load {}", load.trim());
        let folder = tempfile::tempdir().expect("a folder");
        let storage =
            updraft_storage::Storage::local(&folder.path().join("data")).expect("a folder store");
        let database = format!(
            "sqlite://{}?mode=rwc",
            folder.path().join("catalog.db").display()
        );
        let catalog = updraft_catalog::CatalogApi::open(&database, storage.clone(), Default::default())
            .await
            .expect("the catalog");
        let bed = TestBed::with_parts(InMemoryAdmin::discarding(), storage, None, 64)
            .with_task_cache(Arc::new(InProcessCatalog(catalog)));
        bed.runtime.script("add_one", vec![add_one()]);

        // One cached node per execution: the first run caches, each later
        // run is a hit. The time is the whole execution's, so it bounds the
        // time from the node being ready to its SUCCEEDED event from above.
        let add = cached(task("add_one", &["x"], &["o0"]), "1.0");
        let single = workflow(
            "wf",
            &["x"],
            vec![task_node("n0", &add, vec![promise("x", INPUTS, "x")])],
            vec![promise("o0", "n0", "o0")],
        );
        let run = |name: String| {
            claim(
                &name,
                single.clone(),
                std::slice::from_ref(&add),
                &[],
                literals([("x", integer(1))]),
            )
        };
        assert_eq!(bed.run(run("first".into())).await, ExecutionEnd::Succeeded);
        let mut hits = Vec::new();
        for index in 0..1_000 {
            let started = Instant::now();
            let end = bed.run(run(format!("hit{index}"))).await;
            hits.push(started.elapsed());
            assert_eq!(end, ExecutionEnd::Succeeded);
        }
        assert_eq!(bed.runtime.launch_count("add_one"), 1, "every later run hit");
        hits.sort();
        println!(
            "1,000 hits (one cached node per execution, whole execution): p50 {:?}, p99 {:?}, max {:?}",
            percentile(&hits, 0.5),
            percentile(&hits, 0.99),
            hits[hits.len() - 1]
        );

        // A 1,000-index cached map: the first run caches every index, the
        // second hits them all.
        let triple = cached(task("triple", &["x"], &["o0"]), "1.0");
        bed.runtime.script("triple", vec![add_one()]);
        let values: Vec<i64> = (0..1_000).collect();
        for name in ["map-first", "map-second"] {
            let started = Instant::now();
            let end = bed
                .run(claim(
                    name,
                    mapping(&triple),
                    std::slice::from_ref(&triple),
                    &[],
                    literals([("xs", integers(&values))]),
                ))
                .await;
            assert_eq!(end, ExecutionEnd::Succeeded);
            println!(
                "1,000-index cached map, {name}: {:?} ({} task runs so far)",
                started.elapsed(),
                bed.runtime.launch_count("triple")
            );
        }
    });
}

//! The engine's own cost, without admin or Python: the in-memory admin, the
//! scripted runtime and an in-memory object store stand in for them.
//! Prints numbers; asserts nothing.
//!
//! `cargo bench -p updraft-propeller --bench engine`

use std::time::{Duration, Instant};

use updraft_propeller::execution::ExecutionEnd;
use updraft_propeller::testing::*;

/// Resident and peak resident memory of this process, in MiB.
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

async fn run(bed: &TestBed, claim: updraft_proto::updraft::admin::v1::ClaimedExecution) {
    let end = bed.run(claim).await;
    assert_eq!(end, ExecutionEnd::Succeeded, "the benchmark's run failed");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!("engine benchmark: {cores} cores, load {}", load.trim());

        // A 100-node chain: every node waits for the one before, so the
        // time per node is the engine's overhead per node.
        let mut per_node = Vec::new();
        for round in 0..20 {
            let bed = TestBed::default();
            bed.runtime.script("add_one", vec![add_one()]);
            let started = Instant::now();
            run(&bed, chain_claim(&format!("c{round}"), 100, 0)).await;
            per_node.push(started.elapsed() / 100);
        }
        per_node.sort();
        println!(
            "100-node chain, engine overhead per node over 20 runs: p50 {:?}, p99 {:?}",
            percentile(&per_node, 0.5),
            percentile(&per_node, 0.99)
        );

        // 500 small workflows (a 3-node chain each), 50 at a time.
        let bed = std::sync::Arc::new(TestBed::new(None, 64));
        bed.runtime.script("add_one", vec![add_one()]);
        let started = Instant::now();
        let mut batch = tokio::task::JoinSet::new();
        for index in 0..500 {
            let bed = std::sync::Arc::clone(&bed);
            batch.spawn(async move {
                run(&bed, chain_claim(&format!("w{index}"), 3, 0)).await;
            });
            if batch.len() >= 50 {
                batch.join_next().await;
            }
        }
        while batch.join_next().await.is_some() {}
        let elapsed = started.elapsed();
        println!(
            "500 workflows of 3 nodes: {elapsed:?} in all, {:?} per workflow",
            elapsed / 500
        );

        // A 10,000-node wide scope. The admin keeps no events, so what grows
        // is the engine's own memory (and the store's files: small in memory,
        // real writes in a folder).
        let folder = tempfile::tempdir().expect("a folder for the store");
        for (width, parallelism, store) in [
            (1_000, 64, "memory"),
            (10_000, 64, "memory"),
            (10_000, 10_000, "memory"),
            (10_000, 64, "folder"),
        ] {
            let storage = match store {
                "folder" => updraft_storage::Storage::local(folder.path()).expect("a folder store"),
                _ => updraft_storage::Storage::in_memory(),
            };
            let bed = TestBed::with_parts(InMemoryAdmin::discarding(), storage, None, parallelism);
            bed.runtime.script("add_one", vec![add_one()]);
            let (template, add) = wide("wide", width);
            let (rss_before, _) = memory_mib();
            let started = Instant::now();
            run(
                &bed,
                claim("wide", template, &[add], &[], literals([("x", integer(0))])),
            )
            .await;
            let elapsed = started.elapsed();
            let (rss_after, peak) = memory_mib();
            println!(
                "{width}-node wide scope, max parallelism {parallelism}, {store} store: {elapsed:?}; RSS {rss_before:.0} MiB before, {rss_after:.0} MiB after, peak {peak:.0} MiB"
            );
        }
    });
}

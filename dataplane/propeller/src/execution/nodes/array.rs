//! Array nodes (flytekit's `map_task`): the sub-node's task runs once per
//! index of the mapped inputs, each process finding its index through the
//! array-job environment variables; the outputs are gathered into lists.
//! Per-index states reach admin as the external resources of one task
//! execution event, as flytepropeller reports them.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use updraft_proto::flyteidl::core::{self, array_node, literal, node, task_node};
use updraft_proto::flyteidl::event::{self, task_execution_event};

use crate::events::EventError;
use crate::execution::caching::{BeforeRun, NodeCaching, is_cacheable};
use crate::execution::nodes::task::{Launched, launch_attempt};
use crate::execution::{
    AbortSignal, AttemptEnd, BoxFuture, NodeEnd, NodePlace, NodeReporter, RetryBudget, StopReason,
    attempt_logs, container_error_to_execution_error, now, system_error, user_error, watch_attempt,
};
use crate::node_ids::index_node_id;
use crate::outcome::{TaskOutcome, read_outcome};
use crate::paths::attempt_key;
use crate::runtime::TaskLaunch;

/// flytekit reads the name of the variable holding its index from this one.
const INDEX_VARIABLE_NAME: &str = "BATCH_JOB_ARRAY_INDEX_VAR_NAME";
/// The variable flytepropeller puts each sub-task's index in.
const INDEX_VARIABLE: &str = "FLYTE_K8S_ARRAY_INDEX";
/// How flytepropeller names the plugin behind array-node task events.
const ARRAY_PLUGIN: &str = "k8s-array";

/// How one index ended.
enum IndexEnd {
    Succeeded(core::LiteralMap),
    Failed(core::ExecutionError),
    Stopped,
}

/// Runs an array node to its end.
pub(crate) fn run_array_node(
    reporter: NodeReporter,
    array: core::ArrayNode,
    inputs: core::LiteralMap,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        reporter.running().await?;
        let task = array
            .node
            .as_deref()
            .and_then(|sub_node| match &sub_node.target {
                Some(node::Target::TaskNode(task_node)) => match &task_node.reference {
                    Some(task_node::Reference::ReferenceId(id)) => {
                        place.definitions.task(id).cloned()
                    }
                    None => None,
                },
                _ => None,
            });
        let Some(task) = task else {
            return reporter
            .fail(system_error(
                "UnsupportedArrayNode",
                "updraft runs array nodes over a task only, and that task must be in the workflow closure",
            ))
            .await;
        };
        let size = match mapped_size(&inputs, &array.bound_inputs) {
            Ok(size) => size,
            Err(message) => return reporter.fail(user_error("ArrayInputs", &message)).await,
        };
        // flytekit's map tasks read the whole lists and pick their item by index;
        // a sub-node with its original interface gets its item alone.
        let slice_inputs = array.is_original_sub_node_interface == Some(true);
        let parallelism = match array.parallelism_option {
            Some(array_node::ParallelismOption::Parallelism(limit)) if limit > 0 => limit as usize,
            _ => size.max(1),
        };
        let min_successes = match array.success_criteria {
            Some(array_node::SuccessCriteria::MinSuccesses(count)) => (count as usize).min(size),
            Some(array_node::SuccessCriteria::MinSuccessRatio(ratio)) if ratio > 0.0 => {
                ((f64::from(ratio) * size as f64).ceil() as usize).min(size)
            }
            _ => size,
        };

        let context = Arc::clone(&reporter.context);
        let node_execution_id = reporter.node_execution_id();
        let mut resources: Vec<event::ExternalResourceInfo> = (0..size)
            .map(|index| event::ExternalResourceInfo {
                external_id: format!("{}-{index}", reporter.unique_id),
                index: index as u32,
                phase: core::task_execution::Phase::Queued as i32,
                logs: attempt_logs(
                    &context.environment,
                    &attempt_key(
                        &context.execution_id,
                        &index_node_id(&reporter.unique_id, index),
                        0,
                    ),
                    &format!("Task log (index {index})"),
                ),
                ..Default::default()
            })
            .collect();
        let mut phase_version = 0;
        let task_event =
            |phase: core::task_execution::Phase,
             phase_version: u32,
             resources: &[event::ExternalResourceInfo],
             output: Option<task_execution_event::OutputResult>| {
                event::TaskExecutionEvent {
                    task_id: task.id.clone(),
                    parent_node_execution_id: Some(node_execution_id.clone()),
                    retry_attempt: 0,
                    phase: phase as i32,
                    occurred_at: Some(now()),
                    input_value: Some(task_execution_event::InputValue::InputUri(
                        reporter.input_uri.clone(),
                    )),
                    output_result: output,
                    phase_version,
                    task_type: task.r#type.clone(),
                    reported_at: Some(now()),
                    metadata: Some(event::TaskExecutionMetadata {
                        generated_name: reporter.unique_id.clone(),
                        external_resources: resources.to_vec(),
                        plugin_identifier: ARRAY_PLUGIN.into(),
                        ..Default::default()
                    }),
                    event_version: 1,
                    ..Default::default()
                }
            };
        context
            .environment
            .events
            .task(task_event(
                core::task_execution::Phase::Running,
                phase_version,
                &resources,
                None,
            ))
            .await?;

        // Claimed again after a stop: indexes whose last attempt left outputs
        // are not run again.
        let resuming = context.history.own(&reporter.unique_id).is_some();
        let slots = Arc::new(Semaphore::new(parallelism));
        let (updates, mut update_receiver) = tokio::sync::mpsc::unbounded_channel();
        let mut indexes = JoinSet::new();
        // One copy for all indexes that read the whole lists: a copy each made
        // a 1,000-wide map of 1,000-item lists hold a million literals.
        let whole_inputs = Arc::new(inputs.clone());
        for index in 0..size {
            let index_inputs = if slice_inputs {
                Arc::new(slice(&inputs, &array.bound_inputs, index))
            } else {
                Arc::clone(&whole_inputs)
            };
            let context = Arc::clone(&context);
            let task = task.clone();
            let slots = Arc::clone(&slots);
            let stop = stop.clone();
            let updates = updates.clone();
            let node_id = index_node_id(&reporter.unique_id, index);
            // Each index is cached on its own item, as flytepropeller caches
            // an array node's sub-nodes.
            let caching = is_cacheable(&task)
                .then(|| {
                    let item = slice(&inputs, &array.bound_inputs, index);
                    NodeCaching::for_task(&context, &task, &item, &node_id)
                })
                .flatten();
            indexes.spawn(async move {
                let ran = async {
                let _slot = slots
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                let mut budget = RetryBudget::of_task(&task);
                let mut attempt = 0;
                if resuming {
                    match resume_index(
                        &context.environment.storage,
                        &context.paths,
                        &node_id,
                        &mut budget,
                    )
                    .await
                    {
                        IndexResume::Fresh => {}
                        IndexResume::Ended(end) => return (index, end),
                        IndexResume::Next(next) => attempt = next,
                    }
                }
                let inputs_uri = context.paths.node_inputs(&node_id);
                if let Err(error) = crate::execution::write_message(
                    &context.environment.storage,
                    &inputs_uri,
                    index_inputs.as_ref(),
                )
                .await
                {
                    return (
                        index,
                        IndexEnd::Failed(system_error(
                            "WriteInputs",
                            &format!("cannot write the inputs of index {index}: {error}"),
                        )),
                    );
                }
                if let Some(caching) = &caching {
                    match caching.before_run(&stop, async || Ok(())).await {
                        Ok(BeforeRun::Hit(outputs)) => {
                            // Where a restart looks for what the index left.
                            let outputs_uri = context.paths.attempt_outputs(&node_id, 0);
                            if let Err(error) = crate::execution::write_message(
                                &context.environment.storage,
                                &outputs_uri,
                                &outputs,
                            )
                            .await
                            {
                                tracing::warn!(index, %error, "cannot write a cached index's outputs; running it");
                            } else {
                                return (index, IndexEnd::Succeeded(outputs));
                            }
                        }
                        Ok(BeforeRun::Stopped) => return (index, IndexEnd::Stopped),
                        Ok(BeforeRun::Run) | Err(_) => {}
                    }
                }
                loop {
                    let paths = &context.paths;
                    let output_prefix = paths.attempt_output_prefix(&node_id, attempt);
                    let launch = TaskLaunch {
                        attempt_key: attempt_key(&context.execution_id, &node_id, attempt),
                        attempt_number: attempt,
                        template: task.clone(),
                        inputs: Arc::clone(&index_inputs),
                        input_prefix: paths.node_input_prefix(&node_id),
                        output_prefix: output_prefix.clone(),
                        raw_output_prefix: paths.attempt_raw_prefix(&node_id, attempt),
                        previous_checkpoint_prefix: None,
                        execution: context.execution_id.clone(),
                        environment: BTreeMap::from([
                            (INDEX_VARIABLE_NAME.to_string(), INDEX_VARIABLE.to_string()),
                            (INDEX_VARIABLE.to_string(), index.to_string()),
                        ]),
                    };
                    if let Some(caching) = &caching {
                        caching.set_attempt(attempt);
                    }
                    let launched = launch_attempt(
                        context.environment.runtime.as_ref(),
                        &context.environment.storage,
                        launch,
                        &task,
                        &stop,
                    )
                    .await;
                    let end = match launched {
                        Launched::Ended(end) => end,
                        Launched::StoppedBeforeStart => return (index, IndexEnd::Stopped),
                        Launched::Started(mut started) => {
                            let _ = updates.send((
                                index,
                                attempt,
                                core::task_execution::Phase::Running,
                            ));
                            watch_attempt(
                                &mut started,
                                &context.environment.storage,
                                &output_prefix,
                                &task,
                                &stop,
                            )
                            .await
                        }
                    };
                    match end {
                        AttemptEnd::Succeeded(outputs) => {
                            if let Some(caching) = &caching {
                                caching.populate(&outputs).await;
                            }
                            return (index, IndexEnd::Succeeded(outputs));
                        }
                        AttemptEnd::Stopped => return (index, IndexEnd::Stopped),
                        AttemptEnd::Dynamic(_) => {
                            return (
                                index,
                                IndexEnd::Failed(system_error(
                                    "UnsupportedArrayNode",
                                    "a mapped task cannot be dynamic",
                                )),
                            );
                        }
                        AttemptEnd::Failed(error, retryable) => {
                            if !budget.allows_retry_after(&error, retryable) {
                                return (index, IndexEnd::Failed(error));
                            }
                            let _ =
                                updates.send((index, attempt, core::task_execution::Phase::Failed));
                            attempt += 1;
                            let _ =
                                updates.send((index, attempt, core::task_execution::Phase::Queued));
                        }
                    }
                }
                };
                let (index, end) = ran.await;
                let cache_status = match &caching {
                    Some(caching) => {
                        caching.finish().await;
                        caching.status()
                    }
                    None => core::CatalogCacheStatus::CacheDisabled,
                };
                (index, end, cache_status)
            });
        }
        drop(updates);

        let mut results: Vec<Option<IndexEnd>> = (0..size).map(|_| None).collect();
        let mut updates_open = true;
        // Index attempts whose phase changed since the last event: each event
        // reports only those (admin merges them by index and attempt), so a
        // wide map costs events in proportion to its changes, not changes
        // times width.
        let mut changed = std::collections::BTreeMap::new();
        let note_change =
            |changed: &mut std::collections::BTreeMap<(u32, u32), event::ExternalResourceInfo>,
             resource: &event::ExternalResourceInfo| {
                changed.insert((resource.index, resource.retry_attempt), resource.clone());
            };
        while !indexes.is_empty() {
            tokio::select! {
                joined = indexes.join_next() => {
                    let Some(joined) = joined else { break };
                    let (index, end, cache_status) = match joined {
                        Ok(result) => result,
                        Err(panic) => {
                            tracing::error!(%panic, "an array index runner panicked");
                            continue;
                        }
                    };
                    resources[index].phase = match &end {
                        IndexEnd::Succeeded(_) => core::task_execution::Phase::Succeeded,
                        IndexEnd::Failed(_) => core::task_execution::Phase::Failed,
                        IndexEnd::Stopped => core::task_execution::Phase::Aborted,
                    } as i32;
                    resources[index].cache_status = cache_status as i32;
                    results[index] = Some(end);
                    note_change(&mut changed, &resources[index]);
                }
                update = update_receiver.recv(), if updates_open => {
                    let Some(update) = update else {
                        updates_open = false;
                        continue;
                    };
                    // Fold in whatever else is already waiting: one event for
                    // a burst of starts.
                    let mut pending = vec![update];
                    while let Ok(more) = update_receiver.try_recv() {
                        pending.push(more);
                    }
                    for (index, attempt, phase) in pending {
                        resources[index].phase = phase as i32;
                        resources[index].retry_attempt = attempt;
                        resources[index].logs = attempt_logs(
                            &context.environment,
                            &attempt_key(&context.execution_id, &index_node_id(&reporter.unique_id, index), attempt),
                            &format!("Task log (index {index})"),
                        );
                        note_change(&mut changed, &resources[index]);
                    }
                }
            }
            if changed.is_empty() {
                continue;
            }
            let reported: Vec<_> = std::mem::take(&mut changed).into_values().collect();
            phase_version += 1;
            context
                .environment
                .events
                .task(task_event(
                    core::task_execution::Phase::Running,
                    phase_version,
                    &reported,
                    None,
                ))
                .await?;
        }

        let reason = stop.borrow().clone();
        if reason.is_some()
            || results
                .iter()
                .any(|end| matches!(end, Some(IndexEnd::Stopped)))
        {
            if reason.as_ref().is_none_or(StopReason::is_reported) {
                context
                    .environment
                    .events
                    .task(task_event(
                        core::task_execution::Phase::Aborted,
                        phase_version,
                        &resources,
                        None,
                    ))
                    .await?;
            }
            return reporter.stopped(reason).await;
        }

        let succeeded = results
            .iter()
            .filter(|end| matches!(end, Some(IndexEnd::Succeeded(_))))
            .count();
        if succeeded < min_successes {
            let first_failure = results
                .iter()
                .enumerate()
                .find_map(|(index, end)| match end {
                    Some(IndexEnd::Failed(error)) => {
                        Some(format!("index {index}: {}", error.message))
                    }
                    None => Some(format!("index {index} did not finish")),
                    _ => None,
                });
            let error = user_error(
                "ArrayNodeFailed",
                &format!(
                    "{succeeded} of {size} indexes succeeded, {min_successes} needed; {}",
                    first_failure.unwrap_or_default()
                ),
            );
            context
                .environment
                .events
                .task(task_event(
                    core::task_execution::Phase::Failed,
                    phase_version,
                    &resources,
                    Some(task_execution_event::OutputResult::Error(error.clone())),
                ))
                .await?;
            return reporter.fail(error).await;
        }

        let output_names: Vec<String> = task
            .interface
            .as_ref()
            .and_then(|interface| interface.outputs.as_ref())
            .map(|outputs| outputs.variables.keys().cloned().collect())
            .unwrap_or_default();
        let mut gathered = core::LiteralMap::default();
        for name in output_names {
            let items = results
                .iter()
                .map(|end| match end {
                    Some(IndexEnd::Succeeded(outputs)) => outputs
                        .literals
                        .get(&name)
                        .cloned()
                        .unwrap_or_else(none_literal),
                    // A tolerated failure leaves a hole, as flytepropeller does.
                    _ => none_literal(),
                })
                .collect();
            gathered.literals.insert(
                name,
                core::Literal {
                    value: Some(literal::Value::Collection(core::LiteralCollection {
                        literals: items,
                    })),
                    ..Default::default()
                },
            );
        }
        let end = reporter.succeed(gathered).await?;
        let output = match &end {
            NodeEnd::Succeeded(_) => Some(task_execution_event::OutputResult::OutputUri(
                reporter.outputs_path(),
            )),
            _ => None,
        };
        context
            .environment
            .events
            .task(task_event(
                core::task_execution::Phase::Succeeded,
                phase_version,
                &resources,
                output,
            ))
            .await?;
        Ok(end)
    })
}

/// Where one index of an array node continues after a restart.
enum IndexResume {
    /// No attempt was started: start at attempt 0.
    Fresh,
    /// The last attempt ended it (outputs, or a failure with no retry left).
    Ended(IndexEnd),
    /// Go on with this attempt.
    Next(u32),
}

/// Whether an attempt left its mark under its output prefix: in a local
/// folder the runtime makes the folder as it starts the attempt; an object
/// store has no folders, so there the attempt counts once it wrote a file.
async fn attempt_started(storage: &updraft_storage::Storage, output_prefix: &str) -> bool {
    if storage.local_root().is_some()
        && let Some(folder) = crate::paths::local_path(output_prefix)
    {
        return tokio::fs::try_exists(folder).await.unwrap_or(false);
    }
    match storage.key_for_uri(output_prefix) {
        Some(key) => storage.list(key).await.is_ok_and(|keys| !keys.is_empty()),
        None => false,
    }
}

/// Reads the last attempt an index started (the highest attempt folder):
/// its outputs are taken as they are; an error it wrote, or nothing (its
/// process was lost, a system error), counts against the retries.
async fn resume_index(
    storage: &updraft_storage::Storage,
    paths: &crate::paths::ExecutionPaths,
    node_id: &str,
    budget: &mut RetryBudget,
) -> IndexResume {
    let mut started = None;
    while attempt_started(
        storage,
        &paths.attempt_output_prefix(node_id, started.map_or(0, |last| last + 1)),
    )
    .await
    {
        started = Some(started.map_or(0, |last| last + 1));
    }
    let Some(last) = started else {
        return IndexResume::Fresh;
    };
    let (error, retryable) =
        match read_outcome(storage, &paths.attempt_output_prefix(node_id, last)).await {
            Ok(TaskOutcome::Succeeded(outputs)) => {
                return IndexResume::Ended(IndexEnd::Succeeded(outputs));
            }
            Ok(TaskOutcome::Failed(container_error)) => {
                container_error_to_execution_error(container_error)
            }
            Ok(TaskOutcome::Dynamic(_)) => {
                return IndexResume::Ended(IndexEnd::Failed(system_error(
                    "UnsupportedArrayNode",
                    "a mapped task cannot be dynamic",
                )));
            }
            Ok(TaskOutcome::NoOutputs) => (
                system_error(
                    "LostAttempt",
                    &format!(
                        "the task process of attempt {last} was lost when its propeller stopped"
                    ),
                ),
                true,
            ),
            Err(error) => (system_error("ReadOutputs", &error.to_string()), true),
        };
    if budget.allows_retry_after(&error, retryable) {
        IndexResume::Next(last + 1)
    } else {
        IndexResume::Ended(IndexEnd::Failed(error))
    }
}

/// How many indexes the mapped (not bound) list inputs have; they must agree.
fn mapped_size(inputs: &core::LiteralMap, bound_inputs: &[String]) -> Result<usize, String> {
    let mut size: Option<(usize, &str)> = None;
    let mut names: Vec<&String> = inputs.literals.keys().collect();
    names.sort();
    for name in names {
        if bound_inputs.contains(name) {
            continue;
        }
        if let Some(literal::Value::Collection(collection)) = &inputs.literals[name].value {
            let length = collection.literals.len();
            match size {
                Some((known, other)) if known != length => {
                    return Err(format!(
                        "mapped inputs `{other}` ({known} items) and `{name}` ({length} items) differ in length"
                    ));
                }
                Some(_) => {}
                None => size = Some((length, name)),
            }
        }
    }
    size.map(|(length, _)| length)
        .ok_or_else(|| "the array node has no list input to map over".to_string())
}

fn slice(inputs: &core::LiteralMap, bound_inputs: &[String], index: usize) -> core::LiteralMap {
    core::LiteralMap {
        literals: inputs
            .literals
            .iter()
            .map(|(name, value)| {
                let item = match &value.value {
                    Some(literal::Value::Collection(collection))
                        if !bound_inputs.contains(name) =>
                    {
                        collection.literals.get(index).cloned().unwrap_or_default()
                    }
                    _ => value.clone(),
                };
                (name.clone(), item)
            })
            .collect(),
    }
}

fn none_literal() -> core::Literal {
    core::Literal {
        value: Some(literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::NoneType(core::Void {})),
        }))),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use updraft_proto::flyteidl::core::node_execution::Phase as NodePhase;

    use super::{array_node, core};
    use crate::execution::ExecutionEnd;
    use crate::testing::*;

    fn mapping(task: &core::TaskTemplate, min_successes: Option<u32>) -> core::WorkflowTemplate {
        let inner = task_node("n0", task, vec![promise("x", INPUTS, "x")]);
        let node = core::Node {
            id: "map".into(),
            inputs: vec![promise("x", INPUTS, "xs")],
            target: Some(core::node::Target::ArrayNode(Box::new(core::ArrayNode {
                node: Some(Box::new(inner)),
                is_original_sub_node_interface: Some(true),
                success_criteria: min_successes.map(array_node::SuccessCriteria::MinSuccesses),
                ..Default::default()
            }))),
            ..Default::default()
        };
        workflow("wf", &["xs"], vec![node], vec![promise("o0", "map", "o0")])
    }

    #[tokio::test]
    async fn each_index_runs_once_and_the_outputs_are_gathered_in_order() {
        let bed = TestBed::default();
        let add = task("add_one", &["x"], &["o0"]);
        bed.runtime.script("add_one", vec![add_one()]);
        let end = bed
            .run(claim(
                "e1",
                mapping(&add, None),
                &[add],
                &[],
                literals([("xs", integers(&[1, 2, 3]))]),
            ))
            .await;
        assert_eq!(end, ExecutionEnd::Succeeded);
        let outputs = bed.workflow_outputs("e1").await.expect("outputs");
        assert_eq!(as_integers(&outputs.literals["o0"]), Some(vec![2, 3, 4]));
        assert_eq!(bed.runtime.launch_count("add_one"), 3);
        let indexes: Vec<String> = bed
            .runtime
            .launches()
            .iter()
            .map(|launch| launch.environment["FLYTE_K8S_ARRAY_INDEX"].clone())
            .collect();
        let mut sorted = indexes.clone();
        sorted.sort();
        assert_eq!(sorted, ["0", "1", "2"]);
        let last_task_event = bed.admin.task_events().pop().expect("task events");
        let resources = last_task_event
            .metadata
            .expect("metadata")
            .external_resources;
        assert_eq!(resources.len(), 3);
    }

    #[tokio::test]
    async fn a_cached_map_runs_only_the_indexes_it_has_not_seen() {
        let catalog = std::sync::Arc::new(InMemoryCatalog::default());
        let bed = TestBed::default().with_catalog(std::sync::Arc::clone(&catalog));
        let add = cached(task("add_one", &["x"], &["o0"]), "3.0");
        bed.runtime.script("add_one", vec![add_one()]);
        let run = |name: &str, xs: &[i64]| {
            claim(
                name,
                mapping(&add, None),
                std::slice::from_ref(&add),
                &[],
                literals([("xs", integers(xs))]),
            )
        };
        assert_eq!(
            bed.run(run("e1", &[1, 2, 3])).await,
            ExecutionEnd::Succeeded
        );
        assert_eq!(
            bed.run(run("e2", &[1, 2, 3, 4])).await,
            ExecutionEnd::Succeeded
        );
        assert_eq!(
            bed.runtime.launch_count("add_one"),
            4,
            "only the new index ran"
        );
        let outputs = bed.workflow_outputs("e2").await.expect("outputs");
        assert_eq!(as_integers(&outputs.literals["o0"]), Some(vec![2, 3, 4, 5]));
        let last = bed.admin.task_events().pop().expect("task events");
        let statuses: Vec<_> = last
            .metadata
            .expect("metadata")
            .external_resources
            .iter()
            .map(|resource| core::CatalogCacheStatus::try_from(resource.cache_status))
            .collect();
        assert_eq!(
            statuses,
            [
                Ok(core::CatalogCacheStatus::CacheHit),
                Ok(core::CatalogCacheStatus::CacheHit),
                Ok(core::CatalogCacheStatus::CacheHit),
                Ok(core::CatalogCacheStatus::CachePopulated),
            ]
        );
        assert_eq!(catalog.entries(), 4);
    }

    #[tokio::test]
    async fn too_few_successes_fail_the_node_saying_how_many() {
        let bed = TestBed::default();
        let failing = task("failing", &["x"], &["o0"]);
        bed.runtime.script("failing", vec![Step::fail("no", false)]);
        let end = bed
            .run(claim(
                "e1",
                mapping(&failing, Some(3)),
                &[failing],
                &[],
                literals([("xs", integers(&[1, 2, 3]))]),
            ))
            .await;
        let ExecutionEnd::Failed(error) = end else {
            panic!("expected a failure, got {end:?}");
        };
        assert!(
            error.message.contains("0 of 3 indexes succeeded, 3 needed"),
            "{}",
            error.message
        );
        assert_eq!(
            bed.admin.node_phases("e1", "map").last(),
            Some(&NodePhase::Failed)
        );
    }
}

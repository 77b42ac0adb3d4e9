//! Task nodes: attempts until one succeeds or the retries run out, each
//! launched on the runtime and watched for its end, timeout or a stop; after
//! a restart, a node continues from the attempts admin recorded.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::event::{self, node_execution_event, task_execution_event};
use updraft_storage::Storage;

use super::dynamic::run_dynamic;
use crate::built_in_tasks::{built_in_task, run_built_in_task};
use crate::events::EventError;
use crate::execution::caching::{BeforeRun, NodeCaching};
use crate::execution::{
    AbortSignal, BoxFuture, ExecutionEnvironment, NodeEnd, NodePlace, NodeReporter, RunContext,
    SYSTEM_RETRIES, StopReason, now, stop_reason, system_error, user_error, wait_for_stop,
};
use crate::history::{PastAttempt, task_attempts};
use crate::outcome::{TaskOutcome, read_outcome};
use crate::paths::{attempt_key, file_in};
use crate::runtime::{ProcessExit, RunningTask, RuntimeError, TaskLaunch, TaskRuntime};

/// How many times a node's task may still be tried.
pub(crate) struct RetryBudget {
    user_attempts: u32,
    user_failures: u32,
    system_failures: u32,
}

impl RetryBudget {
    pub(crate) fn of_task(task: &core::TaskTemplate) -> Self {
        let retries = task
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.retries.as_ref())
            .map_or(0, |retries| retries.retries);
        Self {
            user_attempts: retries + 1,
            user_failures: 0,
            system_failures: 0,
        }
    }

    /// Counts a failed attempt; whether another may follow.
    pub(crate) fn allows_retry_after(
        &mut self,
        error: &core::ExecutionError,
        retryable: bool,
    ) -> bool {
        let budget_left = if error.kind() == core::execution_error::ErrorKind::System {
            self.system_failures += 1;
            self.system_failures < SYSTEM_RETRIES
        } else {
            self.user_failures += 1;
            self.user_failures < self.user_attempts
        };
        retryable && budget_left
    }
}

/// The task's own timeout, if it has one.
pub(crate) fn task_timeout(task: &core::TaskTemplate) -> Option<Duration> {
    task.metadata
        .as_ref()
        .and_then(|metadata| metadata.timeout.as_ref())
        .and_then(|timeout| Duration::try_from(*timeout).ok())
        .filter(|limit| !limit.is_zero())
}

/// The log link of one attempt, when this propeller serves logs.
pub(crate) fn attempt_logs(
    environment: &ExecutionEnvironment,
    attempt_key: &str,
    name: &str,
) -> Vec<core::TaskLog> {
    environment
        .log_url_base
        .as_ref()
        .map(|base| core::TaskLog {
            uri: format!("{}/api/v1/logs/{attempt_key}", base.trim_end_matches('/')),
            name: name.into(),
            message_format: core::task_log::MessageFormat::Unknown as i32,
            show_while_pending: true,
            ..Default::default()
        })
        .into_iter()
        .collect()
}

/// How one started attempt ended.
pub(crate) enum AttemptEnd {
    Succeeded(core::LiteralMap),
    Dynamic(core::DynamicJobSpec),
    /// The error, and whether another attempt may fix it.
    Failed(core::ExecutionError, bool),
    Stopped,
}

/// An attempt the runtime started, and when its timeout runs out (counted
/// from when the engine asked for it, so time spent waiting for a slot counts).
pub(crate) struct StartedAttempt {
    running: Box<dyn RunningTask>,
    deadline: Option<Instant>,
}

/// How asking the runtime for an attempt went.
pub(crate) enum Launched {
    Started(StartedAttempt),
    /// It could not start, or its timeout ran out while it waited for a slot.
    Ended(AttemptEnd),
    /// A stop came while it waited for a slot: it never ran.
    StoppedBeforeStart,
}

/// Asks the runtime to start an attempt, or runs it here when its task type
/// is built in. A runtime may hold the launch until a slot frees (the local
/// runtime's task slots), so the stop signal and the task's timeout are
/// watched meanwhile: dropping a launch that has not started leaves nothing
/// behind.
pub(crate) async fn launch_attempt(
    runtime: &dyn TaskRuntime,
    storage: &Storage,
    launch: TaskLaunch,
    task: &core::TaskTemplate,
    stop: &AbortSignal,
) -> Launched {
    let deadline = task_timeout(task).map(|limit| Instant::now() + limit);
    if let Some(built_in) = built_in_task(&task.r#type) {
        return match run_built_in_task(built_in, &launch, storage).await {
            Ok(running) => Launched::Started(StartedAttempt { running, deadline }),
            Err(error) => Launched::Ended(AttemptEnd::Failed(
                system_error("WriteOutputs", &error.to_string()),
                true,
            )),
        };
    }
    let timed_out_waiting = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    // Biased: a slot freed by a stopping sibling must not start this one.
    tokio::select! {
        biased;
        () = wait_for_stop(stop) => Launched::StoppedBeforeStart,
        launched = runtime.launch(launch) => match launched {
            Ok(running) => Launched::Started(StartedAttempt { running, deadline }),
            // Another attempt cannot give the task a container.
            Err(error @ RuntimeError::NoContainer { .. }) => Launched::Ended(AttemptEnd::Failed(
                user_error("UnsupportedTaskType", &error.to_string()),
                false,
            )),
            Err(error) => Launched::Ended(AttemptEnd::Failed(
                system_error("TaskStart", &error.to_string()),
                true,
            )),
        },
        () = timed_out_waiting => Launched::Ended(timed_out(task)),
    }
}

fn timed_out(task: &core::TaskTemplate) -> AttemptEnd {
    AttemptEnd::Failed(
        user_error(
            "Timeout",
            &format!(
                "task {} exceeded its timeout of {:?}",
                task_name(task),
                task_timeout(task).unwrap_or_default()
            ),
        ),
        true,
    )
}

/// Waits for a started attempt, enforcing its timeout and the stop signal,
/// then reads what it left under `output_prefix`.
pub(crate) async fn watch_attempt(
    started: &mut StartedAttempt,
    storage: &Storage,
    output_prefix: &str,
    task: &core::TaskTemplate,
    stop: &AbortSignal,
) -> AttemptEnd {
    let running = started.running.as_mut();
    let waited = tokio::select! {
        exit = wait_until_deadline(running, started.deadline) => Some(exit),
        _ = wait_for_stop(stop) => None,
    };
    match waited {
        None => {
            let _ = running.abort().await;
            AttemptEnd::Stopped
        }
        Some(WaitEnd::TimedOut) => {
            let _ = running.abort().await;
            timed_out(task)
        }
        Some(WaitEnd::Failed(error)) => AttemptEnd::Failed(system_error("TaskWatch", &error), true),
        Some(WaitEnd::Exited(exit)) => match read_outcome(storage, output_prefix).await {
            Ok(TaskOutcome::Succeeded(outputs)) => AttemptEnd::Succeeded(outputs),
            Ok(TaskOutcome::Failed(container_error)) => {
                let (error, retryable) = container_error_to_execution_error(container_error);
                AttemptEnd::Failed(error, retryable)
            }
            Ok(TaskOutcome::Dynamic(spec)) => AttemptEnd::Dynamic(spec),
            Ok(TaskOutcome::NoOutputs) => match exit {
                ProcessExit::Exited(code) => AttemptEnd::Failed(
                    user_error(
                        "NonZeroExit",
                        &format!(
                            "task process exited with code {code} without writing outputs; see the task log"
                        ),
                    ),
                    true,
                ),
                ProcessExit::Killed => AttemptEnd::Failed(
                    system_error(
                        "ProcessKilled",
                        "task process was killed before writing outputs",
                    ),
                    true,
                ),
            },
            Err(error) => AttemptEnd::Failed(system_error("ReadOutputs", &error.to_string()), true),
        },
    }
}

/// Runs a task node: its cached outputs when the task is cached and they
/// are there, else attempts until one succeeds or the retries run out. A
/// dynamic task's generated workflow then runs under the node.
pub(crate) fn run_task_node(
    mut reporter: NodeReporter,
    task: core::TaskTemplate,
    inputs: core::LiteralMap,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        let caching = NodeCaching::for_task(&reporter.context, &task, &inputs, &reporter.unique_id);
        let Some(caching) = caching else {
            return run_attempts(reporter, task, inputs, place, stop).await;
        };
        reporter.caching = Some(Arc::clone(&caching));
        let waiting = async || {
            reporter
                .report(core::node_execution::Phase::Queued, None)
                .await
        };
        let end = match caching.before_run(&stop, waiting).await? {
            // One event, SUCCEEDED, and no task attempt: as flytepropeller
            // reports a hit.
            BeforeRun::Hit(outputs) => reporter.succeed(outputs).await,
            BeforeRun::Stopped => reporter.stopped(stop_reason(&stop)).await,
            BeforeRun::Run => run_attempts(reporter, task, inputs, place, stop).await,
        };
        caching.finish().await;
        end
    })
}

fn run_attempts(
    reporter: NodeReporter,
    task: core::TaskTemplate,
    inputs: core::LiteralMap,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        reporter.running().await?;
        let context = Arc::clone(&reporter.context);
        let environment = &context.environment;
        let paths = &context.paths;
        let node_id = reporter.unique_id.clone();
        let input_prefix = paths.node_input_prefix(&node_id);
        let node_execution_id = reporter.node_execution_id();
        let mut budget = RetryBudget::of_task(&task);
        let mut attempt: u32 = 0;
        let mut previous_checkpoint: Option<String> = None;
        // What an attempt from before a restart left, read instead of launching.
        let mut resumed: Option<AttemptEnd> = None;
        if context.history.own(&node_id).is_some() {
            match resume_task_node(&context, &node_execution_id, &mut budget).await? {
                Resume::Fresh => {}
                Resume::Read { attempt: past, end } => {
                    attempt = past;
                    resumed = Some(end);
                }
                Resume::Next { attempt: next } => attempt = next,
                Resume::Exhausted(error) => return reporter.fail(error).await,
            }
            if let Some(previous) = attempt.checked_sub(1) {
                previous_checkpoint = Some(checkpoint_prefix(
                    &paths.attempt_raw_prefix(&node_id, previous),
                ));
            }
        }
        loop {
            let output_prefix = paths.attempt_output_prefix(&node_id, attempt);
            let raw_prefix = paths.attempt_raw_prefix(&node_id, attempt);
            let attempt_key = attempt_key(&context.execution_id, &node_id, attempt);
            let launch = TaskLaunch {
                attempt_key: attempt_key.clone(),
                attempt_number: attempt,
                template: task.clone(),
                inputs: Arc::new(inputs.clone()),
                input_prefix: input_prefix.clone(),
                output_prefix: output_prefix.clone(),
                raw_output_prefix: raw_prefix.clone(),
                previous_checkpoint_prefix: previous_checkpoint.clone(),
                execution: context.execution_id.clone(),
                environment: Default::default(),
            };
            let checkpoint = launch.checkpoint_prefix();
            // A built-in task runs no process, so it has no log to link.
            let logs = if built_in_task(&task.r#type).is_some() {
                Vec::new()
            } else {
                attempt_logs(environment, &attempt_key, "Task log")
            };
            let task_event =
                |phase: core::task_execution::Phase,
                 output: Option<task_execution_event::OutputResult>| {
                    event::TaskExecutionEvent {
                        task_id: task.id.clone(),
                        parent_node_execution_id: Some(node_execution_id.clone()),
                        retry_attempt: attempt,
                        phase: phase as i32,
                        logs: logs.clone(),
                        occurred_at: Some(now()),
                        input_value: Some(task_execution_event::InputValue::InputUri(
                            reporter.input_uri.clone(),
                        )),
                        output_result: output,
                        task_type: task.r#type.clone(),
                        reported_at: Some(now()),
                        ..Default::default()
                    }
                };

            if let Some(caching) = &reporter.caching {
                caching.set_attempt(attempt);
            }
            let attempt_end = match resumed.take() {
                Some(end) => end,
                None => {
                    let launched = launch_attempt(
                        environment.runtime.as_ref(),
                        &environment.storage,
                        launch,
                        &task,
                        &stop,
                    )
                    .await;
                    match launched {
                        Launched::Ended(end) => end,
                        Launched::StoppedBeforeStart => {
                            return reporter.stopped(stop_reason(&stop)).await;
                        }
                        Launched::Started(mut started) => {
                            environment
                                .events
                                .task(task_event(core::task_execution::Phase::Running, None))
                                .await?;
                            watch_attempt(
                                &mut started,
                                &environment.storage,
                                &output_prefix,
                                &task,
                                &stop,
                            )
                            .await
                        }
                    }
                }
            };

            match attempt_end {
                AttemptEnd::Stopped => {
                    let reason = stop.borrow().clone();
                    if reason.as_ref().is_none_or(StopReason::is_reported) {
                        environment
                            .events
                            .task(task_event(core::task_execution::Phase::Aborted, None))
                            .await?;
                    }
                    return reporter.stopped(reason).await;
                }
                AttemptEnd::Succeeded(outputs) => {
                    let outputs_uri = file_in(&output_prefix, "outputs.pb");
                    environment
                        .events
                        .task(task_event(
                            core::task_execution::Phase::Succeeded,
                            Some(task_execution_event::OutputResult::OutputUri(
                                outputs_uri.clone(),
                            )),
                        ))
                        .await?;
                    reporter.cache_outputs(&outputs).await;
                    reporter
                        .report(
                            core::node_execution::Phase::Succeeded,
                            Some(node_execution_event::OutputResult::OutputUri(outputs_uri)),
                        )
                        .await?;
                    return Ok(NodeEnd::Succeeded(outputs));
                }
                AttemptEnd::Dynamic(spec) => {
                    environment
                        .events
                        .task(task_event(core::task_execution::Phase::Succeeded, None))
                        .await?;
                    let futures_uri = file_in(&output_prefix, "futures.pb");
                    return run_dynamic(
                        reporter,
                        task,
                        spec,
                        inputs,
                        futures_uri,
                        attempt,
                        place,
                        stop,
                    )
                    .await;
                }
                AttemptEnd::Failed(error, retryable) => {
                    environment
                        .events
                        .task(task_event(
                            core::task_execution::Phase::Failed,
                            Some(task_execution_event::OutputResult::Error(error.clone())),
                        ))
                        .await?;
                    if !budget.allows_retry_after(&error, retryable) {
                        return reporter.fail(error).await;
                    }
                    tracing::info!(node = %node_id, attempt, code = %error.code, "task attempt failed, retrying");
                    previous_checkpoint = Some(checkpoint);
                    attempt += 1;
                }
            }
        }
    })
}

/// Where a task node continues after a restart.
pub(crate) enum Resume {
    /// No attempt was recorded and none left outputs: start at attempt 0.
    Fresh,
    /// Attempt `attempt` was under way: this is what its process left (or
    /// that it was lost).
    Read { attempt: u32, end: AttemptEnd },
    /// Attempt `attempt - 1` ended in failure and may be retried.
    Next { attempt: u32 },
    /// The recorded failures used up the retries; the node fails with the last.
    Exhausted(core::ExecutionError),
}

/// Reads the attempts admin holds for a task node that was running when its
/// propeller stopped, and decides how to go on. A process that finished is
/// read from its output folder; one that left nothing is lost and fails as a
/// system error, so its retry counts against the system retries only.
pub(crate) async fn resume_task_node(
    context: &RunContext,
    node_execution_id: &core::NodeExecutionIdentifier,
    budget: &mut RetryBudget,
) -> Result<Resume, EventError> {
    let node_id = &node_execution_id.node_id;
    let attempts = task_attempts(
        context.environment.events.admin().as_ref(),
        node_execution_id,
    )
    .await?;
    let Some((last, earlier)) = attempts.split_last() else {
        // Started before the restart but no attempt was reported: a process
        // may still have run and finished.
        return Ok(match read_past_attempt(context, node_id, 0).await {
            Some(end) => Resume::Read { attempt: 0, end },
            None => Resume::Fresh,
        });
    };
    let failure_of = |past: &PastAttempt| {
        past.error.clone().unwrap_or_else(|| {
            system_error(
                "AttemptFailed",
                &format!("attempt {} failed", past.retry_attempt),
            )
        })
    };
    for past in earlier {
        if past.phase == core::task_execution::Phase::Failed {
            budget.allows_retry_after(&failure_of(past), true);
        }
    }
    let resume = match last.phase {
        core::task_execution::Phase::Failed => {
            let error = failure_of(last);
            if budget.allows_retry_after(&error, true) {
                Resume::Next {
                    attempt: last.retry_attempt + 1,
                }
            } else {
                Resume::Exhausted(error)
            }
        }
        core::task_execution::Phase::Aborted => Resume::Next {
            attempt: last.retry_attempt + 1,
        },
        _ => {
            let end = match read_past_attempt(context, node_id, last.retry_attempt).await {
                Some(end) => end,
                None => AttemptEnd::Failed(
                    system_error(
                        "LostAttempt",
                        &format!(
                            "the task process of attempt {} was lost when its propeller stopped; trying again",
                            last.retry_attempt
                        ),
                    ),
                    true,
                ),
            };
            Resume::Read {
                attempt: last.retry_attempt,
                end,
            }
        }
    };
    tracing::info!(node = %node_id, attempts = attempts.len(), "continuing a task node from before a restart");
    Ok(resume)
}

/// What attempt `attempt` of a node left in its output folder, if anything.
pub(crate) async fn read_past_attempt(
    context: &RunContext,
    node_id: &str,
    attempt: u32,
) -> Option<AttemptEnd> {
    let output_prefix = context.paths.attempt_output_prefix(node_id, attempt);
    match read_outcome(&context.environment.storage, &output_prefix).await {
        Ok(TaskOutcome::Succeeded(outputs)) => Some(AttemptEnd::Succeeded(outputs)),
        Ok(TaskOutcome::Failed(container_error)) => {
            let (error, retryable) = container_error_to_execution_error(container_error);
            Some(AttemptEnd::Failed(error, retryable))
        }
        Ok(TaskOutcome::Dynamic(spec)) => Some(AttemptEnd::Dynamic(spec)),
        Ok(TaskOutcome::NoOutputs) => None,
        Err(error) => Some(AttemptEnd::Failed(
            system_error("ReadOutputs", &error.to_string()),
            true,
        )),
    }
}

/// `{{.CheckpointOutputPrefix}}` of the attempt whose raw prefix is `raw_prefix`,
/// as [`TaskLaunch::checkpoint_prefix`] makes it.
pub(crate) fn checkpoint_prefix(raw_prefix: &str) -> String {
    file_in(raw_prefix, "_flytecheckpoints")
}

pub(crate) enum WaitEnd {
    Exited(ProcessExit),
    TimedOut,
    Failed(String),
}

pub(crate) async fn wait_until_deadline(
    running: &mut dyn RunningTask,
    deadline: Option<Instant>,
) -> WaitEnd {
    let wait = running.wait();
    let result = match deadline {
        Some(deadline) => match tokio::time::timeout_at(deadline, wait).await {
            Ok(result) => result,
            Err(_) => return WaitEnd::TimedOut,
        },
        None => wait.await,
    };
    match result {
        Ok(exit) => WaitEnd::Exited(exit),
        Err(error) => WaitEnd::Failed(error.to_string()),
    }
}

/// The task's own error, and whether it may be retried: flytekit marks only
/// `FlyteRecoverableException` (and some system errors) recoverable, and
/// propeller retries nothing else.
pub(crate) fn container_error_to_execution_error(
    error: core::ContainerError,
) -> (core::ExecutionError, bool) {
    let retryable = error.kind() == core::container_error::Kind::Recoverable;
    let execution_error = core::ExecutionError {
        code: error.code,
        message: error.message,
        kind: error.origin,
        timestamp: error.timestamp,
        ..Default::default()
    };
    (execution_error, retryable)
}

pub(crate) fn task_name(task: &core::TaskTemplate) -> String {
    task.id
        .as_ref()
        .map(|id| id.name.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use updraft_proto::flyteidl::core::task_execution::Phase as TaskPhase;

    use super::core;
    use crate::execution::ExecutionEnd;
    use crate::testing::*;

    fn single(task: &core::TaskTemplate) -> core::WorkflowTemplate {
        workflow("wf", &[], vec![task_node("n0", task, vec![])], vec![])
    }

    async fn failure(bed: &TestBed, task: core::TaskTemplate) -> core::ExecutionError {
        match bed
            .run(claim("e1", single(&task), &[task], &[], literals([])))
            .await
        {
            ExecutionEnd::Failed(error) => error,
            end => panic!("expected a failure, got {end:?}"),
        }
    }

    #[tokio::test]
    async fn a_recoverable_failure_is_retried_until_it_succeeds() {
        let bed = TestBed::default();
        let flaky = with_retries(task("flaky", &[], &[]), 2, None);
        bed.runtime.script(
            "flaky",
            vec![
                Step::fail("once", true),
                Step::fail("twice", true),
                Step::outputs(literals([])),
            ],
        );
        let end = bed
            .run(claim("e1", single(&flaky), &[flaky], &[], literals([])))
            .await;
        assert_eq!(end, ExecutionEnd::Succeeded);
        assert_eq!(
            bed.admin.task_attempt_phases("e1", "n0"),
            [
                (0, TaskPhase::Failed),
                (1, TaskPhase::Failed),
                (2, TaskPhase::Succeeded)
            ]
        );
        let launches = bed.runtime.launches();
        assert_eq!(
            launches[1].previous_checkpoint_prefix.as_deref(),
            Some(launches[0].checkpoint_prefix().as_str()),
            "a retry sees the previous attempt's checkpoint"
        );
    }

    #[tokio::test]
    async fn the_retries_run_out_and_the_last_error_fails_the_node() {
        let bed = TestBed::default();
        let flaky = with_retries(task("flaky", &[], &[]), 1, None);
        bed.runtime
            .script("flaky", vec![Step::fail("always", true)]);
        let error = failure(&bed, flaky).await;
        assert_eq!(error.message, "always");
        assert_eq!(bed.runtime.launch_count("flaky"), 2);
    }

    #[tokio::test]
    async fn a_non_recoverable_failure_is_not_retried() {
        let bed = TestBed::default();
        let strict = with_retries(task("strict", &[], &[]), 3, None);
        bed.runtime
            .script("strict", vec![Step::fail("bad input", false)]);
        let error = failure(&bed, strict).await;
        assert_eq!(error.message, "bad input");
        assert_eq!(bed.runtime.launch_count("strict"), 1);
    }

    #[tokio::test]
    async fn a_process_that_exits_without_outputs_fails_pointing_at_its_log() {
        let bed = TestBed::default();
        let crashing = task("crashing", &[], &[]);
        bed.runtime
            .script("crashing", vec![Step::ExitWithoutOutputs(3)]);
        let error = failure(&bed, crashing).await;
        assert_eq!(error.code, "NonZeroExit");
        assert!(
            error.message.contains("exited with code 3"),
            "{}",
            error.message
        );
    }

    #[tokio::test]
    async fn a_runtime_that_cannot_start_a_task_is_retried_as_a_system_error() {
        let bed = TestBed::default();
        let unstartable = task("unstartable", &[], &[]);
        bed.runtime.script(
            "unstartable",
            vec![Step::RefuseLaunch("no such program".into())],
        );
        let error = failure(&bed, unstartable).await;
        assert_eq!(error.code, "TaskStart");
        assert_eq!(error.kind(), core::execution_error::ErrorKind::System);
        assert_eq!(
            bed.admin.task_attempt_phases("e1", "n0").len(),
            crate::execution::SYSTEM_RETRIES as usize
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_over_its_timeout_is_aborted_and_retried() {
        let bed = TestBed::default();
        let slow = with_retries(task("slow", &[], &[]), 1, Some(Duration::from_secs(10)));
        bed.runtime
            .script("slow", vec![Step::Hang, Step::outputs(literals([]))]);
        let end = bed
            .run(claim("e1", single(&slow), &[slow], &[], literals([])))
            .await;
        assert_eq!(end, ExecutionEnd::Succeeded);
        assert_eq!(bed.runtime.aborted(), 1);
        let timed_out = bed
            .admin
            .task_events()
            .into_iter()
            .find(|event| event.phase() == TaskPhase::Failed)
            .expect("the timed-out attempt");
        let Some(updraft_proto::flyteidl::event::task_execution_event::OutputResult::Error(error)) =
            timed_out.output_result
        else {
            panic!("no error on the timed-out attempt");
        };
        assert_eq!(error.code, "Timeout");
    }
}

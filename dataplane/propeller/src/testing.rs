//! Stand-ins for the engine's two seams, for its unit tests and benchmarks:
//! an admin kept in memory (it records every event and answers the history
//! and child-execution calls from them, as admin would) and a runtime that
//! plays a script per task instead of starting processes. With an in-memory
//! object store, a whole execution runs in milliseconds without admin or
//! Python; the flytekit end-to-end tests cover the real parts.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use tokio::sync::{Semaphore, watch};
use tonic::Status;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, workflow_execution::Phase as WorkflowPhase};
use updraft_proto::flyteidl::event;
use updraft_proto::updraft::admin::v1::ClaimedExecution;
use updraft_storage::Storage;

use crate::changes::ChangeFeed;
use crate::control_plane::{ControlPlane, SignalError, SignalSource};
use crate::events::EventSender;
use crate::execution::{
    AbortSignal, ExecutionEnd, ExecutionEnvironment, START_NODE, StopReason, run_execution,
};
use crate::paths::file_in;
use crate::runtime::{
    LogLocation, ProcessExit, RunningTask, RuntimeError, TaskLaunch, TaskRuntime,
};

pub const PROJECT: &str = "project";
pub const DOMAIN: &str = "development";
pub const VERSION: &str = "v1";

/// One node execution as the in-memory admin holds it.
#[derive(Debug, Clone)]
struct NodeRecord {
    parent: String,
    is_parent: bool,
    phases: Vec<core::node_execution::Phase>,
    output: Option<event::node_execution_event::OutputResult>,
}

/// How a child execution (a launch-plan node's) ends, per launch plan name.
#[derive(Debug, Clone)]
pub enum ChildOutcome {
    Succeeds(core::LiteralMap),
    Fails(String),
    /// Runs until terminated.
    Runs,
}

#[derive(Debug, Default)]
struct AdminState {
    workflow_events: Vec<event::WorkflowExecutionEvent>,
    node_events: Vec<event::NodeExecutionEvent>,
    task_events: Vec<event::TaskExecutionEvent>,
    /// By execution name, then node id.
    nodes: HashMap<String, BTreeMap<String, NodeRecord>>,
    /// By execution name, node id and attempt.
    tasks: HashMap<(String, String), BTreeMap<u32, event::TaskExecutionEvent>>,
    terminal: HashMap<String, WorkflowPhase>,
    children: HashMap<String, (admin::ExecutionCreateRequest, WorkflowPhase)>,
    child_outcomes: HashMap<String, ChildOutcome>,
    terminated: Vec<String>,
    /// Event calls still to answer UNAVAILABLE, as an unreachable admin would.
    unavailable_calls: u32,
    /// Takes events without keeping them (for benchmarks: only the engine's
    /// own memory is then measured).
    discarding: bool,
}

/// Admin, kept in memory.
#[derive(Debug, Default)]
pub struct InMemoryAdmin {
    state: Mutex<AdminState>,
}

impl InMemoryAdmin {
    /// An admin that answers every event and keeps none.
    pub fn discarding() -> Self {
        let admin = Self::default();
        admin.state().discarding = true;
        admin
    }

    fn state(&self) -> std::sync::MutexGuard<'_, AdminState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next `calls` event calls fail as if admin were unreachable.
    pub fn be_unavailable_for(&self, calls: u32) {
        self.state().unavailable_calls = calls;
    }

    /// Launch-plan nodes starting `launch_plan` see their child end so.
    pub fn child_of_launch_plan_ends(&self, launch_plan: &str, outcome: ChildOutcome) {
        self.state()
            .child_outcomes
            .insert(launch_plan.to_string(), outcome);
    }

    /// The workflow phases reported for `execution`, in order.
    pub fn workflow_phases(&self, execution: &str) -> Vec<WorkflowPhase> {
        self.state()
            .workflow_events
            .iter()
            .filter(|event| {
                event
                    .execution_id
                    .as_ref()
                    .is_some_and(|id| id.name == execution)
            })
            .map(|event| event.phase())
            .collect()
    }

    /// The error the execution failed with, if it did.
    pub fn workflow_error(&self, execution: &str) -> Option<core::ExecutionError> {
        self.state()
            .workflow_events
            .iter()
            .filter(|event| {
                event
                    .execution_id
                    .as_ref()
                    .is_some_and(|id| id.name == execution)
            })
            .find_map(|event| match &event.output_result {
                Some(event::workflow_execution_event::OutputResult::Error(error)) => {
                    Some(error.clone())
                }
                _ => None,
            })
    }

    /// The phases node `node_id` of `execution` went through, in order.
    pub fn node_phases(&self, execution: &str, node_id: &str) -> Vec<core::node_execution::Phase> {
        self.state()
            .nodes
            .get(execution)
            .and_then(|nodes| nodes.get(node_id))
            .map(|record| record.phases.clone())
            .unwrap_or_default()
    }

    /// Every node id of `execution` that reported anything, nested ones included.
    pub fn node_ids(&self, execution: &str) -> Vec<String> {
        self.state()
            .nodes
            .get(execution)
            .map(|nodes| nodes.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The parent node id node `node_id` reported under ("" at the top).
    pub fn node_parent(&self, execution: &str, node_id: &str) -> Option<String> {
        self.state()
            .nodes
            .get(execution)
            .and_then(|nodes| nodes.get(node_id))
            .map(|record| record.parent.clone())
    }

    /// The error node `node_id` failed with, if it did.
    pub fn node_error(&self, execution: &str, node_id: &str) -> Option<core::ExecutionError> {
        let state = self.state();
        match state.nodes.get(execution)?.get(node_id)?.output.as_ref()? {
            event::node_execution_event::OutputResult::Error(error) => Some(error.clone()),
            _ => None,
        }
    }

    /// Every node event, in order.
    pub fn node_events(&self) -> Vec<event::NodeExecutionEvent> {
        self.state().node_events.clone()
    }

    /// Every task event, in order.
    pub fn task_events(&self) -> Vec<event::TaskExecutionEvent> {
        self.state().task_events.clone()
    }

    /// The last phase of each attempt of task node `node_id`, by attempt.
    pub fn task_attempt_phases(
        &self,
        execution: &str,
        node_id: &str,
    ) -> Vec<(u32, core::task_execution::Phase)> {
        self.state()
            .tasks
            .get(&(execution.to_string(), node_id.to_string()))
            .map(|attempts| {
                attempts
                    .iter()
                    .map(|(attempt, event)| (*attempt, event.phase()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The child executions launch-plan nodes started, with their requests.
    pub fn children(&self) -> Vec<admin::ExecutionCreateRequest> {
        let mut children: Vec<_> = self
            .state()
            .children
            .values()
            .map(|(request, _)| request.clone())
            .collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        children
    }

    /// The executions terminated through admin.
    pub fn terminated(&self) -> Vec<String> {
        self.state().terminated.clone()
    }

    /// Forgets the workflow's terminal phase, as a recovered or restarted
    /// run needs nothing else from the first run but its node records.
    pub fn forget_workflow_end(&self, execution: &str) {
        self.state().terminal.remove(execution);
    }

    fn take_unavailable(&self) -> Result<(), Status> {
        let mut state = self.state();
        if state.unavailable_calls > 0 {
            state.unavailable_calls -= 1;
            return Err(Status::unavailable("admin is restarting"));
        }
        Ok(())
    }

    fn refuse_if_ended(state: &AdminState, execution: &str) -> Result<(), Status> {
        match state.terminal.get(execution) {
            Some(phase) => Err(Status::failed_precondition(format!(
                "execution {execution} already ended {phase:?}"
            ))),
            None => Ok(()),
        }
    }
}

fn execution_name(id: Option<&core::WorkflowExecutionIdentifier>) -> String {
    id.map(|id| id.name.clone()).unwrap_or_default()
}

fn is_terminal(phase: WorkflowPhase) -> bool {
    matches!(
        phase,
        WorkflowPhase::Succeeded
            | WorkflowPhase::Failed
            | WorkflowPhase::Aborted
            | WorkflowPhase::TimedOut
    )
}

#[async_trait::async_trait]
impl ControlPlane for InMemoryAdmin {
    async fn create_workflow_event(
        &self,
        request: admin::WorkflowExecutionEventRequest,
    ) -> Result<(), Status> {
        self.take_unavailable()?;
        let event = request.event.unwrap_or_default();
        let name = execution_name(event.execution_id.as_ref());
        let mut state = self.state();
        Self::refuse_if_ended(&state, &name)?;
        if state.discarding {
            return Ok(());
        }
        if is_terminal(event.phase()) {
            state.terminal.insert(name, event.phase());
        }
        state.workflow_events.push(event);
        Ok(())
    }

    async fn create_node_event(
        &self,
        request: admin::NodeExecutionEventRequest,
    ) -> Result<(), Status> {
        self.take_unavailable()?;
        let event = request.event.unwrap_or_default();
        let id = event.id.clone().unwrap_or_default();
        let name = execution_name(id.execution_id.as_ref());
        let mut state = self.state();
        Self::refuse_if_ended(&state, &name)?;
        if state.discarding {
            return Ok(());
        }
        let record = state
            .nodes
            .entry(name)
            .or_default()
            .entry(id.node_id)
            .or_insert_with(|| NodeRecord {
                parent: event
                    .parent_node_metadata
                    .as_ref()
                    .map(|parent| parent.node_id.clone())
                    .unwrap_or_default(),
                is_parent: false,
                phases: Vec::new(),
                output: None,
            });
        record.is_parent |= event.is_parent;
        record.phases.push(event.phase());
        if event.output_result.is_some() {
            record.output.clone_from(&event.output_result);
        }
        state.node_events.push(event);
        Ok(())
    }

    async fn create_task_event(
        &self,
        request: admin::TaskExecutionEventRequest,
    ) -> Result<(), Status> {
        self.take_unavailable()?;
        let event = request.event.unwrap_or_default();
        let node = event.parent_node_execution_id.clone().unwrap_or_default();
        let name = execution_name(node.execution_id.as_ref());
        let mut state = self.state();
        Self::refuse_if_ended(&state, &name)?;
        if state.discarding {
            return Ok(());
        }
        state
            .tasks
            .entry((name, node.node_id))
            .or_default()
            .insert(event.retry_attempt, event.clone());
        state.task_events.push(event);
        Ok(())
    }

    // `output_uri` is deprecated, but it is where propeller's outputs are.
    #[allow(deprecated)]
    async fn list_node_executions(
        &self,
        request: admin::NodeExecutionListRequest,
    ) -> Result<admin::NodeExecutionList, Status> {
        let execution = request.workflow_execution_id.unwrap_or_default();
        let state = self.state();
        let node_executions = state
            .nodes
            .get(&execution.name)
            .into_iter()
            .flatten()
            .filter(|(_, record)| record.parent == request.unique_parent_id)
            .map(|(node_id, record)| admin::NodeExecution {
                id: Some(core::NodeExecutionIdentifier {
                    node_id: node_id.clone(),
                    execution_id: Some(execution.clone()),
                }),
                closure: Some(admin::NodeExecutionClosure {
                    phase: record.phases.last().copied().unwrap_or_default() as i32,
                    output_result: record.output.clone().map(|output| match output {
                        event::node_execution_event::OutputResult::OutputUri(uri) => {
                            admin::node_execution_closure::OutputResult::OutputUri(uri)
                        }
                        event::node_execution_event::OutputResult::Error(error) => {
                            admin::node_execution_closure::OutputResult::Error(error)
                        }
                        event::node_execution_event::OutputResult::OutputData(data) => {
                            admin::node_execution_closure::OutputResult::OutputData(data)
                        }
                    }),
                    ..Default::default()
                }),
                metadata: Some(admin::NodeExecutionMetaData {
                    is_parent_node: record.is_parent,
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        Ok(admin::NodeExecutionList {
            node_executions,
            token: String::new(),
        })
    }

    async fn list_task_executions(
        &self,
        request: admin::TaskExecutionListRequest,
    ) -> Result<admin::TaskExecutionList, Status> {
        let node = request.node_execution_id.unwrap_or_default();
        let name = execution_name(node.execution_id.as_ref());
        let state = self.state();
        let task_executions = state
            .tasks
            .get(&(name, node.node_id.clone()))
            .into_iter()
            .flatten()
            .map(|(attempt, event)| admin::TaskExecution {
                id: Some(core::TaskExecutionIdentifier {
                    task_id: event.task_id.clone(),
                    node_execution_id: Some(node.clone()),
                    retry_attempt: *attempt,
                }),
                closure: Some(admin::TaskExecutionClosure {
                    phase: event.phase,
                    output_result: match &event.output_result {
                        Some(event::task_execution_event::OutputResult::Error(error)) => Some(
                            admin::task_execution_closure::OutputResult::Error(error.clone()),
                        ),
                        _ => None,
                    },
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        Ok(admin::TaskExecutionList {
            task_executions,
            token: String::new(),
        })
    }

    async fn create_execution(&self, request: admin::ExecutionCreateRequest) -> Result<(), Status> {
        let mut state = self.state();
        if state.children.contains_key(&request.name) {
            return Err(Status::already_exists(format!(
                "execution {} exists",
                request.name
            )));
        }
        let launch_plan = request
            .spec
            .as_ref()
            .and_then(|spec| spec.launch_plan.as_ref())
            .map(|id| id.name.clone())
            .unwrap_or_default();
        let phase = match state.child_outcomes.get(&launch_plan) {
            Some(ChildOutcome::Succeeds(_)) => WorkflowPhase::Succeeded,
            Some(ChildOutcome::Fails(_)) => WorkflowPhase::Failed,
            Some(ChildOutcome::Runs) => WorkflowPhase::Running,
            None => {
                return Err(Status::not_found(format!(
                    "launch plan {launch_plan} does not exist"
                )));
            }
        };
        state
            .children
            .insert(request.name.clone(), (request, phase));
        Ok(())
    }

    async fn get_execution(
        &self,
        id: core::WorkflowExecutionIdentifier,
    ) -> Result<admin::Execution, Status> {
        let state = self.state();
        let (request, phase) = state
            .children
            .get(&id.name)
            .ok_or_else(|| Status::not_found(format!("execution {} does not exist", id.name)))?;
        let launch_plan = request
            .spec
            .as_ref()
            .and_then(|spec| spec.launch_plan.as_ref())
            .map(|id| id.name.clone())
            .unwrap_or_default();
        let output_result = match state.child_outcomes.get(&launch_plan) {
            Some(ChildOutcome::Fails(message)) => Some(
                admin::execution_closure::OutputResult::Error(core::ExecutionError {
                    message: message.clone(),
                    ..Default::default()
                }),
            ),
            _ => None,
        };
        Ok(admin::Execution {
            id: Some(id),
            closure: Some(admin::ExecutionClosure {
                phase: *phase as i32,
                output_result,
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    async fn execution_outputs(
        &self,
        id: core::WorkflowExecutionIdentifier,
    ) -> Result<core::LiteralMap, Status> {
        let state = self.state();
        let launch_plan = state
            .children
            .get(&id.name)
            .and_then(|(request, _)| request.spec.as_ref()?.launch_plan.as_ref())
            .map(|id| id.name.clone())
            .unwrap_or_default();
        match state.child_outcomes.get(&launch_plan) {
            Some(ChildOutcome::Succeeds(outputs)) => Ok(outputs.clone()),
            _ => Err(Status::failed_precondition("the execution has no outputs")),
        }
    }

    async fn terminate_execution(
        &self,
        id: core::WorkflowExecutionIdentifier,
        _cause: String,
    ) -> Result<(), Status> {
        let mut state = self.state();
        if let Some((_, phase)) = state.children.get_mut(&id.name) {
            *phase = WorkflowPhase::Aborted;
        }
        state.terminated.push(id.name);
        Ok(())
    }
}

/// Signals set by the test, as someone approving in the console would.
#[derive(Debug, Default)]
pub struct InMemorySignals {
    values: Mutex<HashMap<String, core::Literal>>,
}

impl InMemorySignals {
    pub fn set(&self, signal_id: &str, value: core::Literal) {
        self.values
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(signal_id.to_string(), value);
    }
}

#[async_trait::async_trait]
impl SignalSource for InMemorySignals {
    async fn get_or_create_signal(
        &self,
        request: admin::SignalGetOrCreateRequest,
    ) -> Result<admin::Signal, SignalError> {
        let id = request.id.unwrap_or_default();
        let value = self
            .values
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&id.signal_id)
            .cloned();
        Ok(admin::Signal {
            id: Some(id),
            r#type: request.r#type,
            value,
        })
    }
}

/// What one scripted attempt does.
#[derive(Clone)]
pub enum Step {
    /// Writes `outputs.pb` with what the function makes of the launch (its
    /// inputs, its environment).
    Succeed(Arc<dyn Fn(&TaskLaunch) -> core::LiteralMap + Send + Sync>),
    /// Writes `error.pb`.
    Fail {
        code: String,
        message: String,
        recoverable: bool,
    },
    /// Writes `futures.pb`: a dynamic task's generated workflow.
    Dynamic(core::DynamicJobSpec),
    /// Exits with this code and writes nothing.
    ExitWithoutOutputs(i32),
    /// Runs until aborted.
    Hang,
    /// The runtime cannot start it.
    RefuseLaunch(String),
    /// Waits this long, then does the step.
    After(Duration, Box<Step>),
}

impl Step {
    /// Succeeds with these outputs whatever the inputs.
    pub fn outputs(outputs: core::LiteralMap) -> Self {
        Self::Succeed(Arc::new(move |_| outputs.clone()))
    }

    /// Succeeds with what `make` computes from the inputs.
    pub fn compute(
        make: impl Fn(&core::LiteralMap) -> core::LiteralMap + Send + Sync + 'static,
    ) -> Self {
        Self::Succeed(Arc::new(move |launch: &TaskLaunch| make(&launch.inputs)))
    }

    pub fn fail(message: &str, recoverable: bool) -> Self {
        Self::Fail {
            code: "USER:ScriptedFailure".into(),
            message: message.into(),
            recoverable,
        }
    }
}

/// A runtime that plays a script per task name: attempt `n` of a task does
/// its `n`th step (the last step repeats).
#[derive(Default)]
pub struct ScriptedRuntime {
    scripts: Mutex<HashMap<String, Vec<Step>>>,
    launches: Mutex<Vec<TaskLaunch>>,
    slots: Option<Arc<Semaphore>>,
    storage: Option<Storage>,
    running: Arc<AtomicUsize>,
    most_running: Arc<AtomicUsize>,
    aborted: Arc<AtomicUsize>,
}

impl ScriptedRuntime {
    /// A runtime whose tasks write to `storage`; with `slots`, at most that
    /// many attempts run at once and the others wait, as on the local runtime.
    pub fn new(storage: Storage, slots: Option<usize>) -> Self {
        Self {
            storage: Some(storage),
            slots: slots.map(|slots| Arc::new(Semaphore::new(slots))),
            ..Default::default()
        }
    }

    /// Task `task_name` (its identifier's name) does `steps`.
    pub fn script(&self, task_name: &str, steps: Vec<Step>) {
        self.scripts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(task_name.to_string(), steps);
    }

    /// Every launch so far, in order.
    pub fn launches(&self) -> Vec<TaskLaunch> {
        self.launches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// How many attempts of `task_name` were launched.
    pub fn launch_count(&self, task_name: &str) -> usize {
        self.launches()
            .iter()
            .filter(|launch| {
                crate::execution::nodes::task::task_name(&launch.template) == task_name
            })
            .count()
    }

    /// The most attempts that ran at once.
    pub fn most_running(&self) -> usize {
        self.most_running.load(Ordering::SeqCst)
    }

    /// How many attempts were aborted.
    pub fn aborted(&self) -> usize {
        self.aborted.load(Ordering::SeqCst)
    }

    fn step_for(&self, launch: &TaskLaunch) -> Option<Step> {
        let name = crate::execution::nodes::task::task_name(&launch.template);
        let scripts = self
            .scripts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let steps = scripts.get(&name)?;
        let index = (launch.attempt_number as usize).min(steps.len().checked_sub(1)?);
        steps.get(index).cloned()
    }
}

#[async_trait::async_trait]
impl TaskRuntime for ScriptedRuntime {
    async fn launch(&self, launch: TaskLaunch) -> Result<Box<dyn RunningTask>, RuntimeError> {
        let step = self.step_for(&launch);
        let task = crate::execution::nodes::task::task_name(&launch.template);
        // As the local runtime: only containers run, whatever the script says.
        if !matches!(
            launch.template.target,
            Some(core::task_template::Target::Container(_))
        ) {
            return Err(RuntimeError::NoContainer {
                task,
                task_type: launch.template.r#type.clone(),
            });
        }
        let step = match step {
            // A system error, retried: a test that forgot a script sees it
            // named in every attempt.
            None => {
                return Err(RuntimeError::Spawn {
                    program: format!("task {task}"),
                    source: std::io::Error::other("no script for this task"),
                });
            }
            Some(Step::RefuseLaunch(message)) => {
                return Err(RuntimeError::Spawn {
                    program: message,
                    source: std::io::Error::other("refused by the script"),
                });
            }
            Some(step) => step,
        };
        let slot = match &self.slots {
            Some(slots) => Some(
                Arc::clone(slots)
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed"),
            ),
            None => None,
        };
        self.launches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(launch.clone());
        let now_running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_running.fetch_max(now_running, Ordering::SeqCst);
        Ok(Box::new(ScriptedTask {
            step,
            launch,
            storage: self.storage.clone().unwrap_or_else(Storage::in_memory),
            log: LogLocation(PathBuf::new()),
            running: Arc::clone(&self.running),
            aborted: Arc::clone(&self.aborted),
            _slot: slot,
            ended: false,
        }))
    }
}

struct ScriptedTask {
    step: Step,
    launch: TaskLaunch,
    storage: Storage,
    log: LogLocation,
    running: Arc<AtomicUsize>,
    aborted: Arc<AtomicUsize>,
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
    ended: bool,
}

impl ScriptedTask {
    fn end(&mut self) {
        if !self.ended {
            self.ended = true;
            self.running.fetch_sub(1, Ordering::SeqCst);
        }
    }

    async fn write(&self, name: &str, message: &impl Message) -> Result<(), RuntimeError> {
        self.storage
            .put_uri(
                &file_in(&self.launch.output_prefix, name),
                bytes::Bytes::from(message.encode_to_vec()),
            )
            .await
            .map_err(|error| RuntimeError::Wait {
                attempt: self.launch.attempt_key.clone(),
                source: std::io::Error::other(error.to_string()),
            })
    }
}

impl Drop for ScriptedTask {
    fn drop(&mut self) {
        self.end();
    }
}

#[async_trait::async_trait]
impl RunningTask for ScriptedTask {
    fn log(&self) -> &LogLocation {
        &self.log
    }

    async fn wait(&mut self) -> Result<ProcessExit, RuntimeError> {
        let mut step = self.step.clone();
        while let Step::After(delay, next) = step {
            tokio::time::sleep(delay).await;
            step = *next;
        }
        let exit = match step {
            Step::Succeed(make) => {
                let outputs = make(&self.launch);
                self.write("outputs.pb", &outputs).await?;
                ProcessExit::Exited(0)
            }
            Step::Fail {
                code,
                message,
                recoverable,
            } => {
                let kind = if recoverable {
                    core::container_error::Kind::Recoverable
                } else {
                    core::container_error::Kind::NonRecoverable
                };
                let document = core::ErrorDocument {
                    error: Some(core::ContainerError {
                        code,
                        message,
                        kind: kind as i32,
                        origin: core::execution_error::ErrorKind::User as i32,
                        ..Default::default()
                    }),
                };
                self.write("error.pb", &document).await?;
                ProcessExit::Exited(0)
            }
            Step::Dynamic(spec) => {
                self.write("futures.pb", &spec).await?;
                ProcessExit::Exited(0)
            }
            Step::ExitWithoutOutputs(code) => ProcessExit::Exited(code),
            Step::Hang => std::future::pending().await,
            Step::RefuseLaunch(_) | Step::After(..) => unreachable!("handled above"),
        };
        self.end();
        Ok(exit)
    }

    async fn abort(&mut self) -> Result<(), RuntimeError> {
        if !self.ended {
            self.aborted.fetch_add(1, Ordering::SeqCst);
        }
        self.end();
        Ok(())
    }
}

/// The catalog, kept in memory: entries by dataset and tag, reservations
/// by tag with an owner and a lapse time (tokio's clock, so paused-time
/// tests can let one lapse), and switches that make it fail.
#[derive(Debug, Default)]
pub struct InMemoryCatalog {
    state: Mutex<CatalogState>,
}

#[derive(Debug, Default)]
struct CatalogState {
    entries: HashMap<(String, String), crate::task_cache::CachedOutputs>,
    reservations: HashMap<(String, String), (String, tokio::time::Instant)>,
    lookups: usize,
    puts: usize,
    failing_lookups: bool,
    failing_puts: bool,
}

use crate::task_cache::board_key as catalog_entry_key;

impl InMemoryCatalog {
    fn state(&self) -> std::sync::MutexGuard<'_, CatalogState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Lookups fail (or answer again) as if the catalog were unreachable.
    pub fn fail_lookups(&self, failing: bool) {
        self.state().failing_lookups = failing;
    }

    /// Puts fail (or succeed again).
    pub fn fail_puts(&self, failing: bool) {
        self.state().failing_puts = failing;
    }

    /// How many lookups and puts were asked for.
    pub fn calls(&self) -> (usize, usize) {
        let state = self.state();
        (state.lookups, state.puts)
    }

    /// How many entries it holds.
    pub fn entries(&self) -> usize {
        self.state().entries.len()
    }

    /// Forgets every entry (as an eviction would).
    pub fn evict_all(&self) {
        self.state().entries.clear();
    }

    /// Lets `owner` hold `key`'s reservation for `lapse`, as a run in
    /// another propeller would.
    pub fn hold_reservation(
        &self,
        key: &crate::catalog_keys::CacheKey,
        owner: &str,
        lapse: Duration,
    ) {
        self.state().reservations.insert(
            catalog_entry_key(key),
            (owner.to_string(), tokio::time::Instant::now() + lapse),
        );
    }

    /// Caches `outputs` under `key` as a run in another propeller would.
    pub fn insert(
        &self,
        key: &crate::catalog_keys::CacheKey,
        outputs: core::LiteralMap,
        source: &core::TaskExecutionIdentifier,
    ) {
        self.state().entries.insert(
            catalog_entry_key(key),
            crate::task_cache::CachedOutputs {
                outputs,
                artifact_id: "artifact-from-elsewhere".into(),
                dataset_metadata: Some(crate::catalog_keys::dataset_metadata(source)),
                artifact_metadata: Some(crate::catalog_keys::artifact_metadata(source)),
            },
        );
    }
}

fn unreachable_catalog(operation: &'static str) -> crate::task_cache::CacheError {
    crate::task_cache::CacheError {
        operation,
        message: "Unavailable: the test made the catalog fail".into(),
    }
}

#[async_trait::async_trait]
impl crate::task_cache::TaskCache for InMemoryCatalog {
    async fn lookup(
        &self,
        key: &crate::catalog_keys::CacheKey,
    ) -> Result<Option<crate::task_cache::CachedOutputs>, crate::task_cache::CacheError> {
        let mut state = self.state();
        state.lookups += 1;
        if state.failing_lookups {
            return Err(unreachable_catalog("GetArtifact"));
        }
        Ok(state.entries.get(&catalog_entry_key(key)).cloned())
    }

    async fn put(
        &self,
        entry: crate::task_cache::CacheEntry,
    ) -> Result<String, crate::task_cache::CacheError> {
        let mut state = self.state();
        state.puts += 1;
        if state.failing_puts {
            return Err(unreachable_catalog("CreateArtifact"));
        }
        let count = state.puts;
        let slot = state.entries.entry(catalog_entry_key(&entry.key));
        let stored = match slot {
            std::collections::hash_map::Entry::Occupied(mut occupied) => {
                if entry.overwrite {
                    let cached = occupied.get_mut();
                    cached.outputs = entry.outputs;
                    cached.artifact_metadata = Some(entry.artifact_metadata);
                }
                occupied.get().artifact_id.clone()
            }
            std::collections::hash_map::Entry::Vacant(vacant) => {
                let artifact_id = format!("artifact-{count}");
                vacant.insert(crate::task_cache::CachedOutputs {
                    outputs: entry.outputs,
                    artifact_id: artifact_id.clone(),
                    dataset_metadata: Some(entry.dataset_metadata),
                    artifact_metadata: Some(entry.artifact_metadata),
                });
                artifact_id
            }
        };
        Ok(stored)
    }

    async fn reserve(
        &self,
        key: &crate::catalog_keys::CacheKey,
        owner: &str,
        heartbeat: Duration,
    ) -> Result<crate::task_cache::Reservation, crate::task_cache::CacheError> {
        let now = tokio::time::Instant::now();
        let mut state = self.state();
        let held = state
            .reservations
            .entry(catalog_entry_key(key))
            .or_insert_with(|| (owner.to_string(), now + heartbeat * 3));
        if held.0 == owner || held.1 <= now {
            *held = (owner.to_string(), now + heartbeat * 3);
            return Ok(crate::task_cache::Reservation::Acquired { heartbeat });
        }
        Ok(crate::task_cache::Reservation::HeldBy {
            owner: held.0.clone(),
        })
    }

    async fn release(
        &self,
        key: &crate::catalog_keys::CacheKey,
        owner: &str,
    ) -> Result<(), crate::task_cache::CacheError> {
        let mut state = self.state();
        let entry_key = catalog_entry_key(key);
        if state
            .reservations
            .get(&entry_key)
            .is_some_and(|(holder, _)| holder == owner)
        {
            state.reservations.remove(&entry_key);
        }
        Ok(())
    }
}

/// An engine wired to the in-memory admin, a scripted runtime and an
/// in-memory object store.
pub struct TestBed {
    pub admin: Arc<InMemoryAdmin>,
    pub runtime: Arc<ScriptedRuntime>,
    pub signals: Arc<InMemorySignals>,
    pub storage: Storage,
    environment: Arc<ExecutionEnvironment>,
}

impl Default for TestBed {
    fn default() -> Self {
        Self::new(None, 64)
    }
}

impl TestBed {
    /// With `task_slots`, at most that many attempts run at once.
    pub fn new(task_slots: Option<usize>, default_max_parallelism: usize) -> Self {
        Self::with_parts(
            InMemoryAdmin::default(),
            Storage::in_memory(),
            task_slots,
            default_max_parallelism,
        )
    }

    /// An engine on `admin` and `storage`.
    pub fn with_parts(
        admin: InMemoryAdmin,
        storage: Storage,
        task_slots: Option<usize>,
        default_max_parallelism: usize,
    ) -> Self {
        let admin = Arc::new(admin);
        let runtime = Arc::new(ScriptedRuntime::new(storage.clone(), task_slots));
        let signals = Arc::new(InMemorySignals::default());
        let environment = Arc::new(ExecutionEnvironment {
            events: EventSender::new(
                Arc::clone(&admin) as Arc<dyn ControlPlane>,
                "test-propeller".into(),
                ChangeFeed::new(),
            ),
            runtime: Arc::clone(&runtime) as Arc<dyn TaskRuntime>,
            signals: Arc::clone(&signals) as Arc<dyn SignalSource>,
            storage: storage.clone(),
            log_url_base: None,
            default_max_parallelism,
            task_cache: None,
            cache_releases: Default::default(),
        });
        Self {
            admin,
            runtime,
            signals,
            storage,
            environment,
        }
    }

    /// Caches cacheable tasks in `catalog`.
    pub fn with_catalog(self, catalog: Arc<InMemoryCatalog>) -> Self {
        self.with_task_cache(catalog)
    }

    /// Caches cacheable tasks in `cache` (a real catalog, for benchmarks).
    pub fn with_task_cache(mut self, cache: Arc<dyn crate::task_cache::TaskCache>) -> Self {
        Arc::get_mut(&mut self.environment)
            .expect("the environment is not shared before a run")
            .task_cache = Some(cache);
        self
    }

    /// Runs `claim` to its end.
    pub async fn run(&self, claim: ClaimedExecution) -> ExecutionEnd {
        let (_stop, signal) = watch::channel(None);
        Box::pin(run_execution(Arc::clone(&self.environment), claim, signal)).await
    }

    /// Starts `claim`; the sender stops it.
    pub fn start(
        &self,
        claim: ClaimedExecution,
    ) -> (
        tokio::task::JoinHandle<ExecutionEnd>,
        watch::Sender<Option<StopReason>>,
    ) {
        let (stop, signal): (_, AbortSignal) = watch::channel(None);
        let run = tokio::spawn(Box::pin(run_execution(
            Arc::clone(&self.environment),
            claim,
            signal,
        )));
        (run, stop)
    }

    /// Runs `claim`, which must fail, and gives its error.
    pub async fn failure(&self, claim: ClaimedExecution) -> core::ExecutionError {
        match self.run(claim).await {
            ExecutionEnd::Failed(error) => error,
            end => panic!("expected the execution to fail, but it ended {end:?}"),
        }
    }

    /// Integer output `name` of the execution's workflow.
    pub async fn output(&self, execution: &str, name: &str) -> Option<i64> {
        output(&self.workflow_outputs(execution).await?, name)
    }

    /// The outputs the execution's workflow produced, read back from the store.
    pub async fn workflow_outputs(&self, execution: &str) -> Option<core::LiteralMap> {
        let uri = crate::paths::ExecutionPaths::new(&self.storage, &execution_id(execution))
            .workflow_outputs();
        let bytes = self.storage.get_uri(&uri).await.ok()?;
        core::LiteralMap::decode(bytes).ok()
    }
}

/// Building workflows for tests, as flytekit compiles them.
pub fn identifier(resource_type: core::ResourceType, name: &str) -> core::Identifier {
    core::Identifier {
        resource_type: resource_type as i32,
        project: PROJECT.into(),
        domain: DOMAIN.into(),
        name: name.into(),
        version: VERSION.into(),
        org: String::new(),
    }
}

pub fn execution_id(name: &str) -> core::WorkflowExecutionIdentifier {
    core::WorkflowExecutionIdentifier {
        project: PROJECT.into(),
        domain: DOMAIN.into(),
        name: name.into(),
        org: String::new(),
    }
}

pub fn integer(value: i64) -> core::Literal {
    core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Primitive(core::Primitive {
                value: Some(core::primitive::Value::Integer(value)),
            })),
        }))),
        ..Default::default()
    }
}

pub fn as_integer(literal: &core::Literal) -> Option<i64> {
    match literal.value.as_ref()? {
        core::literal::Value::Scalar(scalar) => match scalar.value.as_ref()? {
            core::scalar::Value::Primitive(core::Primitive {
                value: Some(core::primitive::Value::Integer(value)),
            }) => Some(*value),
            _ => None,
        },
        _ => None,
    }
}

pub fn literals<'a>(pairs: impl IntoIterator<Item = (&'a str, core::Literal)>) -> core::LiteralMap {
    core::LiteralMap {
        literals: pairs
            .into_iter()
            .map(|(name, literal)| (name.to_string(), literal))
            .collect(),
    }
}

fn integer_variables(names: &[&str]) -> core::VariableMap {
    core::VariableMap {
        variables: names
            .iter()
            .map(|name| {
                (
                    name.to_string(),
                    core::Variable {
                        r#type: Some(core::LiteralType {
                            r#type: Some(core::literal_type::Type::Simple(
                                core::SimpleType::Integer as i32,
                            )),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                )
            })
            .collect(),
    }
}

/// A python task taking and returning integers.
pub fn task(name: &str, inputs: &[&str], outputs: &[&str]) -> core::TaskTemplate {
    core::TaskTemplate {
        id: Some(identifier(core::ResourceType::Task, name)),
        r#type: "python-task".into(),
        interface: Some(core::TypedInterface {
            inputs: Some(integer_variables(inputs)),
            outputs: Some(integer_variables(outputs)),
        }),
        metadata: Some(core::TaskMetadata::default()),
        target: Some(core::task_template::Target::Container(core::Container {
            image: "scripted".into(),
            args: vec!["scripted".into()],
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// `task`, cached at `version` (`@task(cache=True, cache_version=…)`).
pub fn cached(mut task: core::TaskTemplate, version: &str) -> core::TaskTemplate {
    let metadata = task.metadata.get_or_insert_with(Default::default);
    metadata.discoverable = true;
    metadata.discovery_version = version.into();
    task
}

/// A cached `task` whose identical runs take turns (`cache_serialize=True`).
pub fn serialized(mut task: core::TaskTemplate) -> core::TaskTemplate {
    task.metadata
        .get_or_insert_with(Default::default)
        .cache_serializable = true;
    task
}

/// `task` with `retries` retries and an optional timeout.
pub fn with_retries(
    mut task: core::TaskTemplate,
    retries: u32,
    timeout: Option<Duration>,
) -> core::TaskTemplate {
    let metadata = task.metadata.get_or_insert_with(Default::default);
    metadata.retries = Some(core::RetryStrategy { retries });
    metadata.timeout = timeout.and_then(|timeout| prost_types::Duration::try_from(timeout).ok());
    task
}

/// `var` bound to output `output` of node `node` (`start-node` for the scope's inputs).
pub fn promise(var: &str, node: &str, output: &str) -> core::Binding {
    core::Binding {
        var: var.into(),
        binding: Some(core::BindingData {
            value: Some(core::binding_data::Value::Promise(core::OutputReference {
                node_id: node.into(),
                var: output.into(),
                ..Default::default()
            })),
            ..Default::default()
        }),
    }
}

/// `var` bound to a constant.
pub fn constant(var: &str, literal: core::Literal) -> core::Binding {
    core::Binding {
        var: var.into(),
        binding: Some(core::BindingData {
            value: Some(core::binding_data::Value::Scalar(match literal.value {
                Some(core::literal::Value::Scalar(scalar)) => *scalar,
                _ => core::Scalar::default(),
            })),
            ..Default::default()
        }),
    }
}

/// A node running `task` with `inputs`.
pub fn task_node(id: &str, task: &core::TaskTemplate, inputs: Vec<core::Binding>) -> core::Node {
    core::Node {
        id: id.into(),
        inputs,
        target: Some(core::node::Target::TaskNode(core::TaskNode {
            reference: Some(core::task_node::Reference::ReferenceId(
                task.id.clone().unwrap_or_default(),
            )),
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// A workflow of `nodes`, taking integer `inputs` and producing `outputs`.
pub fn workflow(
    name: &str,
    inputs: &[&str],
    nodes: Vec<core::Node>,
    outputs: Vec<core::Binding>,
) -> core::WorkflowTemplate {
    let output_names: Vec<&str> = outputs.iter().map(|binding| binding.var.as_str()).collect();
    core::WorkflowTemplate {
        id: Some(identifier(core::ResourceType::Workflow, name)),
        interface: Some(core::TypedInterface {
            inputs: Some(integer_variables(inputs)),
            outputs: Some(integer_variables(&output_names)),
        }),
        metadata: Some(core::WorkflowMetadata::default()),
        nodes,
        outputs,
        ..Default::default()
    }
}

/// A claim of execution `name` of `workflow`, as admin hands it out.
pub fn claim(
    name: &str,
    workflow: core::WorkflowTemplate,
    tasks: &[core::TaskTemplate],
    sub_workflows: &[core::WorkflowTemplate],
    inputs: core::LiteralMap,
) -> ClaimedExecution {
    ClaimedExecution {
        execution: Some(admin::Execution {
            id: Some(execution_id(name)),
            spec: Some(admin::ExecutionSpec {
                metadata: Some(admin::ExecutionMetadata::default()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        workflow: Some(core::CompiledWorkflowClosure {
            primary: Some(core::CompiledWorkflow {
                template: Some(workflow),
                connections: None,
            }),
            sub_workflows: sub_workflows
                .iter()
                .map(|template| core::CompiledWorkflow {
                    template: Some(template.clone()),
                    connections: None,
                })
                .collect(),
            tasks: tasks
                .iter()
                .map(|template| core::CompiledTask {
                    template: Some(template.clone()),
                })
                .collect(),
            launch_plans: Vec::new(),
        }),
        inputs: Some(inputs),
        ..Default::default()
    }
}

/// The same claim, claimed again after its propeller stopped.
pub fn claimed_again(mut claim: ClaimedExecution, previous_claims: u32) -> ClaimedExecution {
    claim.previous_claims = previous_claims;
    claim.lease_generation = u64::from(previous_claims) + 1;
    claim
}

/// A task that adds one to `x`, giving `o0`.
pub fn add_one() -> Step {
    Step::compute(|inputs| {
        let x = inputs.literals.get("x").and_then(as_integer).unwrap_or(0);
        literals([("o0", integer(x + 1))])
    })
}

/// The node id START_NODE, for bindings to a scope's inputs.
pub const INPUTS: &str = START_NODE;

/// A list of integers.
pub fn integers(values: &[i64]) -> core::Literal {
    core::Literal {
        value: Some(core::literal::Value::Collection(core::LiteralCollection {
            literals: values.iter().map(|value| integer(*value)).collect(),
        })),
        ..Default::default()
    }
}

/// The integers of a list literal.
pub fn as_integers(literal: &core::Literal) -> Option<Vec<i64>> {
    match literal.value.as_ref()? {
        core::literal::Value::Collection(collection) => {
            collection.literals.iter().map(as_integer).collect()
        }
        _ => None,
    }
}

/// Output `name` of `outputs` as an integer.
pub fn output(outputs: &core::LiteralMap, name: &str) -> Option<i64> {
    outputs.literals.get(name).and_then(as_integer)
}

/// A branch node running `then` when integer input `var` equals `value`, and
/// `otherwise` (if given) else.
pub fn branch_node(
    id: &str,
    inputs: Vec<core::Binding>,
    var: &str,
    value: i64,
    then: core::Node,
    otherwise: Option<core::Node>,
) -> core::Node {
    #[allow(deprecated)] // flytekit still sends primitives in conditions.
    let condition = core::BooleanExpression {
        expr: Some(core::boolean_expression::Expr::Comparison(
            core::ComparisonExpression {
                operator: core::comparison_expression::Operator::Eq as i32,
                left_value: Some(core::Operand {
                    val: Some(core::operand::Val::Var(var.into())),
                }),
                right_value: Some(core::Operand {
                    val: Some(core::operand::Val::Primitive(core::Primitive {
                        value: Some(core::primitive::Value::Integer(value)),
                    })),
                }),
            },
        )),
    };
    core::Node {
        id: id.into(),
        inputs,
        target: Some(core::node::Target::BranchNode(Box::new(core::BranchNode {
            if_else: Some(Box::new(core::IfElseBlock {
                case: Some(Box::new(core::IfBlock {
                    condition: Some(condition),
                    then_node: Some(Box::new(then)),
                })),
                other: Vec::new(),
                default: otherwise
                    .map(|node| core::if_else_block::Default::ElseNode(Box::new(node))),
            })),
        }))),
        ..Default::default()
    }
}

/// A node running subworkflow `template`.
pub fn subworkflow_node(
    id: &str,
    template: &core::WorkflowTemplate,
    inputs: Vec<core::Binding>,
) -> core::Node {
    core::Node {
        id: id.into(),
        inputs,
        target: Some(core::node::Target::WorkflowNode(core::WorkflowNode {
            reference: Some(core::workflow_node::Reference::SubWorkflowRef(
                template.id.clone().unwrap_or_default(),
            )),
        })),
        ..Default::default()
    }
}

/// `n0 -> n1 -> … -> n{length-1}`, each adding one (task `add_one`); the
/// workflow returns the last node's `o0`.
pub fn chain(name: &str, length: usize) -> (core::WorkflowTemplate, core::TaskTemplate) {
    let add = task("add_one", &["x"], &["o0"]);
    let nodes = (0..length)
        .map(|index| {
            let input = if index == 0 {
                promise("x", INPUTS, "x")
            } else {
                promise("x", &format!("n{}", index - 1), "o0")
            };
            task_node(&format!("n{index}"), &add, vec![input])
        })
        .collect();
    let last = format!("n{}", length.saturating_sub(1));
    (
        workflow(name, &["x"], nodes, vec![promise("o0", &last, "o0")]),
        add,
    )
}

/// A claim of execution `name` of a `length`-node chain started at `x`.
pub fn chain_claim(name: &str, length: usize, x: i64) -> ClaimedExecution {
    let (template, add) = chain("chain", length);
    claim(name, template, &[add], &[], literals([("x", integer(x))]))
}

/// `width` nodes adding one to the workflow's `x`, all at once.
pub fn wide(name: &str, width: usize) -> (core::WorkflowTemplate, core::TaskTemplate) {
    let add = task("add_one", &["x"], &["o0"]);
    let nodes = (0..width)
        .map(|index| task_node(&format!("n{index}"), &add, vec![promise("x", INPUTS, "x")]))
        .collect();
    (workflow(name, &["x"], nodes, vec![]), add)
}

//! Walking one workflow scope: start every node whose upstream nodes have
//! succeeded (as `max_parallelism` allows), gather their outputs, stop the
//! rest when one fails under the fail-immediately policy or a stop arrives,
//! and resolve the scope's output bindings.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinSet;
use updraft_proto::flyteidl::core::{self, if_else_block, node};

use super::node::run_node;
use super::{
    AbortSignal, BoxFuture, Definitions, END_NODE, NodeEnd, RunContext, START_NODE, StopReason,
    system_error, user_error,
};
use crate::bindings::{NodeOutputs, resolve_bindings};
use crate::events::EventError;
use crate::node_ids::ParentInfo;

/// One workflow scope to run: the primary workflow, a subworkflow, or the
/// workflow a dynamic task generated.
pub(crate) struct Scope {
    pub(crate) nodes: Vec<core::Node>,
    pub(crate) output_bindings: Vec<core::Binding>,
    /// What `start-node` produces: the scope's inputs.
    pub(crate) inputs: core::LiteralMap,
    pub(crate) parent: Option<ParentInfo>,
    pub(crate) fail_immediately: bool,
    pub(crate) definitions: Arc<Definitions>,
    /// Runs once the scope has failed (`@workflow(on_failure=…)`).
    pub(crate) failure_node: Option<core::Node>,
}

impl Scope {
    pub(crate) fn of_workflow(
        workflow: &core::WorkflowTemplate,
        inputs: core::LiteralMap,
        parent: Option<ParentInfo>,
        definitions: Arc<Definitions>,
    ) -> Self {
        Self {
            // A compiled workflow lists the implicit start and end nodes too;
            // they run nothing and are reported by whoever runs the scope.
            nodes: workflow
                .nodes
                .iter()
                .filter(|node| node.id != START_NODE && node.id != END_NODE)
                .cloned()
                .collect(),
            output_bindings: workflow.outputs.clone(),
            inputs,
            parent,
            fail_immediately: workflow.metadata.as_ref().is_none_or(|metadata| {
                metadata.on_failure() == core::workflow_metadata::OnFailurePolicy::FailImmediately
            }),
            definitions,
            failure_node: workflow.failure_node.clone(),
        }
    }
}

/// How a scope ended.
pub(crate) enum ScopeEnd {
    Succeeded(core::LiteralMap),
    Failed(core::ExecutionError),
    Stopped(StopReason),
}

/// Where a node runs: under which parent, with which definitions, seeing
/// which outputs of the nodes before it.
#[derive(Clone)]
pub(crate) struct NodePlace {
    pub(crate) parent: Option<ParentInfo>,
    pub(crate) definitions: Arc<Definitions>,
    pub(crate) outputs: Arc<NodeOutputs>,
    /// For a failure node: the failure it handles, given to its `err` input.
    pub(crate) handled_failure: Option<Arc<core::Error>>,
}

/// Runs the nodes of `scope` as their dependencies allow and resolves its
/// outputs. Boxed because nodes run scopes of their own.
pub(crate) fn run_scope(
    context: Arc<RunContext>,
    scope: Scope,
    stop: AbortSignal,
) -> BoxFuture<Result<ScopeEnd, EventError>> {
    Box::pin(async move {
        let Scope {
            nodes,
            output_bindings,
            inputs,
            parent,
            fail_immediately,
            definitions,
            failure_node,
        } = scope;
        let mut outputs = NodeOutputs::new();
        outputs.insert(START_NODE.to_string(), Arc::new(inputs));
        let mut readiness = Readiness::of(nodes, &outputs);
        let mut running = JoinSet::new();
        // The first failure, and the node it came from.
        let mut failure: Option<(String, core::ExecutionError)> = None;
        let mut stop = stop;
        let mut stop_open = true;
        let mut stopped: Option<StopReason> = stop.borrow().clone();
        // Node runners stop when this carries a reason: a terminate request, a
        // lost lease, or a failed sibling under the fail-immediately policy.
        let (stop_nodes, node_stop_signal) = watch::channel(stopped.clone());
        let mut waiting_for_slot = crate::metrics::WaitingNodes::default();

        loop {
            let round_started = std::time::Instant::now();
            if stopped.is_none() && (failure.is_none() || !fail_immediately) {
                while running.len() < context.max_parallelism {
                    let Some((node, upstream)) = readiness.next_ready() else {
                        break;
                    };
                    // A node sees the outputs of the nodes it depends on, and
                    // no others: shared, never copied.
                    let place = NodePlace {
                        parent: parent.clone(),
                        definitions: Arc::clone(&definitions),
                        outputs: Arc::new(
                            upstream
                                .iter()
                                .filter_map(|id| Some((id.clone(), Arc::clone(outputs.get(id)?))))
                                .collect(),
                        ),
                        handled_failure: None,
                    };
                    let node_id = node.id.clone();
                    running.spawn({
                        let end =
                            run_node(Arc::clone(&context), node, place, node_stop_signal.clone());
                        async move { (node_id, end.await) }
                    });
                }
                // Ready nodes left over wait for a slot under max_parallelism.
                waiting_for_slot.set(readiness.ready_count());
            }
            crate::metrics::record_round(round_started.elapsed());
            if running.is_empty() {
                break;
            }
            tokio::select! {
                joined = running.join_next() => {
                    let Some(joined) = joined else { break };
                    let (node_id, end) = match joined {
                        Ok(result) => result,
                        Err(panic) => {
                            tracing::error!(%panic, "a node runner panicked");
                            failure.get_or_insert((String::new(), system_error("Internal", "a node failed inside updraft; see its log")));
                            continue;
                        }
                    };
                    match end? {
                        NodeEnd::Succeeded(node_outputs) => {
                            readiness.succeeded(&node_id);
                            outputs.insert(node_id, Arc::new(node_outputs));
                        }
                        NodeEnd::Failed(error) => {
                            failure.get_or_insert((node_id, error));
                            if fail_immediately {
                                // The other nodes stop and report ABORTED.
                                stop_nodes.send_replace(Some(StopReason::Terminate("another node of the execution failed".into())));
                            }
                        }
                        NodeEnd::Aborted => {}
                    }
                }
                changed = stop.changed(), if stop_open => {
                    if changed.is_err() {
                        stop_open = false;
                    } else if let Some(reason) = stop.borrow().clone() {
                        tracing::info!(?reason, "stopping nodes");
                        stopped = Some(reason.clone());
                        stop_nodes.send_replace(Some(reason));
                    }
                }
            }
        }

        if let Some(reason) = stopped {
            return Ok(ScopeEnd::Stopped(reason));
        }
        if let Some((failed_node, error)) = failure {
            let Some(handler) = failure_node else {
                return Ok(ScopeEnd::Failed(error));
            };
            // As flytepropeller: once the scope has failed its failure node
            // runs, seeing the scope's inputs and the failure; the scope
            // still fails with the original error unless the handler fails
            // too. The scope's stop signal is used, not the nodes' (which a
            // fail-immediately failure has set).
            let place = NodePlace {
                parent: parent.clone(),
                definitions: Arc::clone(&definitions),
                outputs: Arc::new(outputs),
                handled_failure: Some(Arc::new(core::Error {
                    // The id events and the console show it under.
                    failed_node_id: crate::node_ids::unique_node_id(parent.as_ref(), &failed_node),
                    message: error.message.clone(),
                })),
            };
            return Ok(
                match run_node(Arc::clone(&context), handler, place, stop.clone()).await? {
                    NodeEnd::Failed(handler_error) => ScopeEnd::Failed(handler_error),
                    NodeEnd::Aborted => match stop.borrow().clone() {
                        Some(reason) => ScopeEnd::Stopped(reason),
                        None => ScopeEnd::Failed(error),
                    },
                    NodeEnd::Succeeded(_) => ScopeEnd::Failed(error),
                },
            );
        }
        if let Some(node_id) = readiness.first_never_started() {
            let message =
                format!("node {node_id} can never run: it depends on nodes that did not succeed");
            return Ok(ScopeEnd::Failed(system_error("UnreachableNode", &message)));
        }
        Ok(match resolve_bindings(&output_bindings, &outputs) {
            Ok(scope_outputs) => ScopeEnd::Succeeded(scope_outputs),
            Err(error) => ScopeEnd::Failed(user_error("OutputBinding", &error.to_string())),
        })
    })
}

/// Which nodes of a scope may start: each waits for a count of upstream nodes
/// to succeed, so a node's success touches only its dependents and a scope of
/// n nodes is walked in time linear in n and its edges.
struct Readiness {
    /// Nodes not started yet, in the workflow's order.
    nodes: Vec<Option<core::Node>>,
    upstream: Vec<HashSet<String>>,
    unmet: Vec<usize>,
    dependents: HashMap<String, Vec<usize>>,
    ready: VecDeque<usize>,
}

impl Readiness {
    fn of(nodes: Vec<core::Node>, done: &NodeOutputs) -> Self {
        let upstream: Vec<HashSet<String>> = nodes.iter().map(dependencies_of).collect();
        let mut dependents: HashMap<String, Vec<usize>> = HashMap::new();
        let mut unmet = Vec::with_capacity(nodes.len());
        let mut ready = VecDeque::new();
        for (index, node_upstream) in upstream.iter().enumerate() {
            let waiting: Vec<&String> = node_upstream
                .iter()
                .filter(|id| !done.contains_key(*id))
                .collect();
            for id in &waiting {
                dependents.entry((*id).clone()).or_default().push(index);
            }
            if waiting.is_empty() {
                ready.push_back(index);
            }
            unmet.push(waiting.len());
        }
        Self {
            nodes: nodes.into_iter().map(Some).collect(),
            upstream,
            unmet,
            dependents,
            ready,
        }
    }

    /// The next node that may start, with the ids it depends on.
    fn next_ready(&mut self) -> Option<(core::Node, HashSet<String>)> {
        let index = self.ready.pop_front()?;
        let node = self.nodes[index].take()?;
        Some((node, std::mem::take(&mut self.upstream[index])))
    }

    fn ready_count(&self) -> usize {
        self.ready.len()
    }

    fn succeeded(&mut self, node_id: &str) {
        for index in self.dependents.remove(node_id).unwrap_or_default() {
            self.unmet[index] -= 1;
            if self.unmet[index] == 0 {
                self.ready.push_back(index);
            }
        }
    }

    fn first_never_started(&self) -> Option<&str> {
        self.nodes
            .iter()
            .flatten()
            .map(|node| node.id.as_str())
            .next()
    }
}

/// The nodes of the same scope a node waits for: its upstream ids and every
/// node its bindings (or, for a branch, its candidate nodes' bindings) read.
pub(crate) fn dependencies_of(node: &core::Node) -> HashSet<String> {
    let mut dependencies: HashSet<String> = node.upstream_node_ids.iter().cloned().collect();
    for binding in &node.inputs {
        if let Some(data) = &binding.binding {
            collect_promises(data, &mut dependencies);
        }
    }
    if let Some(node::Target::BranchNode(branch)) = &node.target
        && let Some(if_else) = branch.if_else.as_deref()
    {
        let nested = if_else
            .case
            .as_deref()
            .into_iter()
            .chain(if_else.other.iter())
            .filter_map(|block| block.then_node.as_deref())
            .chain(match &if_else.default {
                Some(if_else_block::Default::ElseNode(else_node)) => Some(else_node.as_ref()),
                _ => None,
            });
        for inner in nested {
            dependencies.extend(dependencies_of(inner));
        }
    }
    dependencies
}

pub(crate) fn collect_promises(data: &core::BindingData, into: &mut HashSet<String>) {
    use core::binding_data::Value;
    match &data.value {
        Some(Value::Promise(reference)) => {
            into.insert(crate::bindings::promised_node(reference).to_string());
        }
        Some(Value::Collection(collection)) => collection
            .bindings
            .iter()
            .for_each(|item| collect_promises(item, into)),
        Some(Value::Map(map)) => map
            .bindings
            .values()
            .for_each(|item| collect_promises(item, into)),
        _ => {}
    }
}

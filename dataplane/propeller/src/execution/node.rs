//! Starting one node: skip what a previous run finished, resolve its inputs,
//! write them once, reuse what a recovered execution's original produced, and
//! hand it to the runner of its kind.

use std::sync::Arc;

use updraft_proto::flyteidl::core::{self, node, task_node, workflow_node};
use updraft_proto::flyteidl::event::node_execution_event;

use super::nodes;
use super::{
    AbortSignal, BoxFuture, NodeEnd, NodePlace, NodeReporter, RunContext, system_error, user_error,
    write_message,
};
use crate::bindings::resolve_bindings;
use crate::events::EventError;

/// Runs one node to its end and reports its phases. Boxed because branch
/// nodes run their chosen node through it.
pub(crate) fn run_node(
    context: Arc<RunContext>,
    node: core::Node,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        let mut reporter = NodeReporter::new(Arc::clone(&context), &node, place.parent.clone());
        // Claimed again after a stop: a node that ended before is not run again.
        if let Some(past) = context.history.own(&reporter.unique_id) {
            if past.succeeded() {
                return Ok(
                    match past.read_outputs(&context.environment.storage).await {
                        Ok((outputs, _)) => NodeEnd::Succeeded(outputs),
                        Err(message) => NodeEnd::Failed(system_error(
                            "ReadOutputs",
                            &format!("node {}: {message}", reporter.unique_id),
                        )),
                    },
                );
            }
            if past.ended_without_outputs() {
                return Ok(NodeEnd::Failed(past.error(&reporter.unique_id)));
            }
        }
        let mut inputs = match resolve_bindings(&node.inputs, &place.outputs) {
            Ok(inputs) => inputs,
            Err(error) => {
                return reporter
                    .fail(user_error(
                        "InputBinding",
                        &format!("node {}: {error}", node.id),
                    ))
                    .await;
            }
        };
        if let Some(failure) = &place.handled_failure {
            give_failure(&mut inputs, failure);
        }
        let input_path = context.paths.node_inputs(&reporter.unique_id);
        if let Err(error) = write_message(&context.environment.storage, &input_path, &inputs).await
        {
            return reporter
                .fail(system_error(
                    "WriteInputs",
                    &format!("node {}: cannot write its inputs: {error}", node.id),
                ))
                .await;
        }
        if let Some(original) = context.history.recoverable(&reporter.unique_id)
            && let Some(end) = recover_node(&reporter, original).await?
        {
            return Ok(end);
        }
        match &node.target {
            Some(node::Target::TaskNode(task_node)) => {
                let task = match &task_node.reference {
                    Some(task_node::Reference::ReferenceId(id)) => {
                        place.definitions.task(id).cloned()
                    }
                    None => None,
                };
                let Some(task) = task else {
                    return reporter
                        .fail(system_error(
                            "TaskNotFound",
                            &format!("node {}: its task is not in the workflow closure", node.id),
                        ))
                        .await;
                };
                nodes::task::run_task_node(reporter, task, inputs, place, stop).await
            }
            Some(node::Target::BranchNode(branch)) => {
                reporter.is_parent = true;
                nodes::branch::run_branch_node(
                    reporter,
                    branch.as_ref().clone(),
                    inputs,
                    place,
                    stop,
                )
                .await
            }
            Some(node::Target::WorkflowNode(workflow)) => match &workflow.reference {
                Some(workflow_node::Reference::SubWorkflowRef(id)) => {
                    reporter.is_parent = true;
                    let template = place.definitions.sub_workflow(id).cloned();
                    let Some(template) = template else {
                        return reporter
                            .fail(system_error(
                                "SubWorkflowNotFound",
                                &format!(
                                    "node {}: subworkflow {} is not in the workflow closure",
                                    node.id, id.name
                                ),
                            ))
                            .await;
                    };
                    nodes::subworkflow::run_subworkflow_node(
                        reporter, template, inputs, place, stop,
                    )
                    .await
                }
                Some(workflow_node::Reference::LaunchplanRef(id)) => {
                    nodes::launch_plan::run_launch_plan_node(reporter, id.clone(), inputs, stop)
                        .await
                }
                None => {
                    reporter
                        .fail(system_error(
                            "EmptyWorkflowNode",
                            &format!(
                                "node {} names neither a subworkflow nor a launch plan",
                                node.id
                            ),
                        ))
                        .await
                }
            },
            Some(node::Target::GateNode(gate)) => {
                nodes::gate::run_gate_node(reporter, gate.clone(), node.clone(), inputs, stop).await
            }
            Some(node::Target::ArrayNode(array)) => {
                reporter.is_array = true;
                nodes::array::run_array_node(reporter, array.as_ref().clone(), inputs, place, stop)
                    .await
            }
            None => {
                reporter
                    .fail(system_error(
                        "EmptyNode",
                        &format!("node {} has no target to run", node.id),
                    ))
                    .await
            }
        }
    })
}

/// A failure node's `err` input (flytekit binds it, optional, when the
/// handler declares it) becomes the failure, as flytepropeller sets it: a
/// union of Flyte's error type, which flytekit reads as a `FlyteError`.
fn give_failure(inputs: &mut core::LiteralMap, failure: &core::Error) {
    let Some(err) = inputs.literals.get_mut(FAILURE_INPUT) else {
        return;
    };
    let error = core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Error(failure.clone())),
        }))),
        ..Default::default()
    };
    *err = core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Union(Box::new(core::Union {
                value: Some(Box::new(error)),
                r#type: Some(core::LiteralType {
                    r#type: Some(core::literal_type::Type::Simple(
                        core::SimpleType::Error as i32,
                    )),
                    structure: Some(core::TypeStructure {
                        tag: "FlyteError".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            }))),
        }))),
        ..Default::default()
    };
}

/// The input of a failure node that receives the failure.
const FAILURE_INPUT: &str = "err";

/// Reuses a node that succeeded in the execution this one recovers: its
/// outputs are copied into this execution and it is reported RECOVERED, as
/// flytepropeller does. `None` when they cannot be read: the node then runs.
pub(crate) async fn recover_node(
    reporter: &NodeReporter,
    original: &crate::history::PastNode,
) -> Result<Option<NodeEnd>, EventError> {
    let outputs = match original
        .read_outputs(&reporter.context.environment.storage)
        .await
    {
        Ok((outputs, _)) => outputs,
        Err(message) => {
            tracing::warn!(node = %reporter.unique_id, message, "cannot reuse the original's outputs; running the node again");
            return Ok(None);
        }
    };
    let path = reporter.outputs_path();
    if let Err(error) = write_message(&reporter.context.environment.storage, &path, &outputs).await
    {
        tracing::warn!(node = %reporter.unique_id, %error, "cannot copy the original's outputs; running the node again");
        return Ok(None);
    }
    reporter
        .report(
            core::node_execution::Phase::Recovered,
            Some(node_execution_event::OutputResult::OutputUri(path.clone())),
        )
        .await?;
    tracing::info!(node = %reporter.unique_id, "recovered from the original execution");
    Ok(Some(NodeEnd::Succeeded(outputs)))
}

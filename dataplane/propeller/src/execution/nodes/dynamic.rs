//! Dynamic nodes: the workflow a dynamic task generated (its `futures.pb`)
//! runs under the task's node, and gives the node its outputs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::event::{self, node_execution_event};

use crate::events::EventError;
use crate::execution::scope::{Scope, ScopeEnd, collect_promises, dependencies_of, run_scope};
use crate::execution::{
    AbortSignal, BoxFuture, END_NODE, NodeEnd, NodePlace, NodeReporter, START_NODE,
};

/// Runs the workflow a dynamic task generated (its `futures.pb`) under the
/// task's node, and takes the node's outputs from it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_dynamic(
    mut reporter: NodeReporter,
    task: core::TaskTemplate,
    spec: core::DynamicJobSpec,
    inputs: core::LiteralMap,
    futures_uri: String,
    attempt: u32,
    place: NodePlace,
    stop: AbortSignal,
) -> BoxFuture<Result<NodeEnd, EventError>> {
    Box::pin(async move {
        reporter.is_dynamic = true;
        reporter.is_parent = true;
        let closure = dynamic_workflow_closure(&task, &spec);
        let workflow_id = closure
            .primary
            .as_ref()
            .and_then(|primary| primary.template.as_ref())
            .and_then(|template| template.id.clone());
        let mut event = reporter.event(core::node_execution::Phase::DynamicRunning, None);
        // A cached dynamic node keeps its cache status beside the workflow.
        let cache_metadata = match event.target_metadata.take() {
            Some(node_execution_event::TargetMetadata::TaskNodeMetadata(metadata)) => metadata,
            _ => event::TaskNodeMetadata::default(),
        };
        event.target_metadata = Some(node_execution_event::TargetMetadata::TaskNodeMetadata(
            event::TaskNodeMetadata {
                dynamic_workflow: Some(event::DynamicWorkflowNodeMetadata {
                    id: workflow_id,
                    compiled_workflow: Some(closure),
                    dynamic_job_spec_uri: futures_uri,
                }),
                ..cache_metadata
            },
        ));
        reporter.send(event).await?;
        let scope = Scope {
            nodes: spec.nodes,
            output_bindings: spec.outputs,
            inputs,
            parent: Some(reporter.as_parent(attempt)),
            fail_immediately: true,
            definitions: Arc::new(place.definitions.extended(spec.tasks, spec.subworkflows)),
            failure_node: None,
        };
        match run_scope(Arc::clone(&reporter.context), scope, stop).await? {
            ScopeEnd::Succeeded(outputs) => reporter.succeed(outputs).await,
            ScopeEnd::Failed(error) => reporter.fail(error).await,
            ScopeEnd::Stopped(reason) => reporter.stopped(Some(reason)).await,
        }
    })
}

/// The generated workflow as a compiled closure, for admin to serve and the
/// console and flytekit to show: the spec's nodes wired by their bindings.
pub(crate) fn dynamic_workflow_closure(
    task: &core::TaskTemplate,
    spec: &core::DynamicJobSpec,
) -> core::CompiledWorkflowClosure {
    let task_id = task.id.clone().unwrap_or_default();
    let id = core::Identifier {
        resource_type: core::ResourceType::Workflow as i32,
        ..task_id
    };
    let mut upstream: HashMap<String, core::connection_set::IdList> = HashMap::new();
    let mut downstream: HashMap<String, core::connection_set::IdList> = HashMap::new();
    let mut connect = |from: &str, to: &str| {
        downstream
            .entry(from.to_string())
            .or_default()
            .ids
            .push(to.to_string());
        upstream
            .entry(to.to_string())
            .or_default()
            .ids
            .push(from.to_string());
    };
    for node in &spec.nodes {
        let mut sources: Vec<String> = dependencies_of(node).into_iter().collect();
        sources.sort();
        if sources.is_empty() {
            sources.push(START_NODE.to_string());
        }
        for source in sources {
            connect(&source, &node.id);
        }
    }
    let mut output_sources = HashSet::new();
    for binding in &spec.outputs {
        if let Some(data) = &binding.binding {
            collect_promises(data, &mut output_sources);
        }
    }
    let mut output_sources: Vec<String> = output_sources.into_iter().collect();
    output_sources.sort();
    for source in output_sources {
        connect(&source, END_NODE);
    }
    core::CompiledWorkflowClosure {
        primary: Some(core::CompiledWorkflow {
            template: Some(core::WorkflowTemplate {
                id: Some(id),
                interface: task.interface.clone(),
                nodes: spec.nodes.clone(),
                outputs: spec.outputs.clone(),
                ..Default::default()
            }),
            connections: Some(core::ConnectionSet {
                downstream,
                upstream,
            }),
        }),
        sub_workflows: spec
            .subworkflows
            .iter()
            .map(|template| core::CompiledWorkflow {
                template: Some(template.clone()),
                connections: None,
            })
            .collect(),
        tasks: spec
            .tasks
            .iter()
            .map(|template| core::CompiledTask {
                template: Some(template.clone()),
            })
            .collect(),
        launch_plans: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use updraft_proto::flyteidl::core::node_execution::Phase as NodePhase;

    use super::core;
    use crate::execution::ExecutionEnd;
    use crate::testing::*;

    #[tokio::test]
    async fn the_generated_workflow_runs_under_the_task_node_and_gives_its_outputs() {
        let bed = TestBed::default();
        let add = task("add_one", &["x"], &["o0"]);
        let generator = task("generate", &["x"], &["o0"]);
        let spec = core::DynamicJobSpec {
            nodes: vec![
                task_node("d0", &add, vec![promise("x", INPUTS, "x")]),
                task_node("d1", &add, vec![promise("x", "d0", "o0")]),
            ],
            outputs: vec![promise("o0", "d1", "o0")],
            tasks: vec![add.clone()],
            ..Default::default()
        };
        bed.runtime.script("generate", vec![Step::Dynamic(spec)]);
        bed.runtime.script("add_one", vec![add_one()]);
        let template = workflow(
            "wf",
            &["x"],
            vec![task_node("n0", &generator, vec![promise("x", INPUTS, "x")])],
            vec![promise("o0", "n0", "o0")],
        );
        // The generated task need not be in the closure: the spec carries it.
        let end = bed
            .run(claim(
                "e1",
                template,
                &[generator],
                &[],
                literals([("x", integer(5))]),
            ))
            .await;
        assert_eq!(end, ExecutionEnd::Succeeded);
        assert_eq!(
            output(&bed.workflow_outputs("e1").await.expect("outputs"), "o0"),
            Some(7)
        );
        let phases = bed.admin.node_phases("e1", "n0");
        assert!(phases.contains(&NodePhase::DynamicRunning), "{phases:?}");
        assert_eq!(phases.last(), Some(&NodePhase::Succeeded));
        assert_eq!(
            bed.admin.node_parent("e1", "n0-0-d1").as_deref(),
            Some("n0")
        );
        let dynamic_event = bed
            .admin
            .node_events()
            .into_iter()
            .find(|event| event.phase() == NodePhase::DynamicRunning)
            .expect("the DYNAMIC_RUNNING event");
        assert!(dynamic_event.is_dynamic && dynamic_event.is_parent);
    }
}

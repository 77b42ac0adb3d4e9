//! The claimed execution, checked once at the boundary: what the engine runs
//! is an [`ExecutionPlan`] whose parts are all there and agree, so nothing
//! further in reads a protobuf field with `unwrap_or_default` and runs an
//! empty graph by accident.

use std::collections::HashMap;

use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, node, task_node, workflow_node};
use updraft_proto::updraft::admin::v1::ClaimedExecution;

/// A claimed execution, ready to run.
#[derive(Debug)]
pub(crate) struct ExecutionPlan {
    pub(crate) execution_id: core::WorkflowExecutionIdentifier,
    pub(crate) execution: admin::Execution,
    pub(crate) spec: admin::ExecutionSpec,
    /// The primary workflow of the compiled closure.
    pub(crate) workflow: core::WorkflowTemplate,
    /// The tasks and subworkflows its nodes refer to.
    pub(crate) definitions: Definitions,
    pub(crate) inputs: core::LiteralMap,
    /// How often the execution was claimed before this claim.
    pub(crate) previous_claims: u32,
}

/// What is missing from, or inconsistent in, a claim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the claim carries no execution")]
    NoExecution,
    #[error("the claimed execution has no id")]
    NoExecutionId,
    #[error("the claim of execution {execution} lacks {part}")]
    Missing {
        execution: String,
        part: &'static str,
    },
    #[error(
        "execution {execution}: node {node} refers to {what} {name}, which its workflow closure does not hold"
    )]
    UnknownReference {
        execution: String,
        node: String,
        what: &'static str,
        name: String,
    },
}

impl PlanError {
    /// The execution the broken claim is for, when it names one: it can then
    /// be failed, saying why, rather than claimed again and again.
    pub(crate) fn reportable(&self) -> bool {
        !matches!(self, Self::NoExecution | Self::NoExecutionId)
    }
}

impl ExecutionPlan {
    pub(crate) fn from_claim(claimed: ClaimedExecution) -> Result<Self, PlanError> {
        let execution = claimed.execution.ok_or(PlanError::NoExecution)?;
        let execution_id = execution.id.clone().ok_or(PlanError::NoExecutionId)?;
        let missing = |part| PlanError::Missing {
            execution: execution_id.name.clone(),
            part,
        };
        let spec = execution.spec.clone().ok_or_else(|| missing("its spec"))?;
        let closure = claimed
            .workflow
            .ok_or_else(|| missing("a compiled workflow"))?;
        let workflow = closure
            .primary
            .as_ref()
            .and_then(|primary| primary.template.clone())
            .ok_or_else(|| missing("the primary workflow of its compiled closure"))?;
        let inputs = claimed.inputs.ok_or_else(|| missing("its inputs"))?;
        let definitions = Definitions::of_closure(&closure);
        definitions.check_references(&execution_id.name, &workflow)?;
        for sub_workflow in definitions.sub_workflows.values() {
            definitions.check_references(&execution_id.name, sub_workflow)?;
        }
        Ok(Self {
            execution_id,
            execution,
            spec,
            workflow,
            definitions,
            inputs,
            previous_claims: claimed.previous_claims,
        })
    }
}

/// The tasks and subworkflows nodes may refer to: the compiled closure's,
/// plus those a dynamic task generated.
#[derive(Debug, Default)]
pub(crate) struct Definitions {
    tasks: HashMap<IdentifierKey, core::TaskTemplate>,
    sub_workflows: HashMap<IdentifierKey, core::WorkflowTemplate>,
}

impl Definitions {
    pub(crate) fn of_closure(closure: &core::CompiledWorkflowClosure) -> Self {
        Self::default().extended(
            closure
                .tasks
                .iter()
                .filter_map(|compiled| compiled.template.clone()),
            closure
                .sub_workflows
                .iter()
                .filter_map(|compiled| compiled.template.clone()),
        )
    }

    pub(crate) fn extended(
        &self,
        tasks: impl IntoIterator<Item = core::TaskTemplate>,
        sub_workflows: impl IntoIterator<Item = core::WorkflowTemplate>,
    ) -> Self {
        let mut extended = Self {
            tasks: self.tasks.clone(),
            sub_workflows: self.sub_workflows.clone(),
        };
        for task in tasks {
            if let Some(id) = task.id.as_ref() {
                extended.tasks.insert(IdentifierKey::of(id), task);
            }
        }
        for workflow in sub_workflows {
            if let Some(id) = workflow.id.as_ref() {
                extended
                    .sub_workflows
                    .insert(IdentifierKey::of(id), workflow);
            }
        }
        extended
    }

    pub(crate) fn task(&self, id: &core::Identifier) -> Option<&core::TaskTemplate> {
        self.tasks.get(&IdentifierKey::of(id))
    }

    pub(crate) fn sub_workflow(&self, id: &core::Identifier) -> Option<&core::WorkflowTemplate> {
        self.sub_workflows.get(&IdentifierKey::of(id))
    }

    /// Every task and subworkflow the nodes of `workflow` name is here,
    /// nested branch nodes included.
    fn check_references(
        &self,
        execution: &str,
        workflow: &core::WorkflowTemplate,
    ) -> Result<(), PlanError> {
        let mut nodes: Vec<&core::Node> = workflow
            .nodes
            .iter()
            .chain(workflow.failure_node.iter())
            .collect();
        while let Some(node) = nodes.pop() {
            let unknown = |what, name: &str| PlanError::UnknownReference {
                execution: execution.to_string(),
                node: node.id.clone(),
                what,
                name: name.to_string(),
            };
            match &node.target {
                Some(node::Target::TaskNode(core::TaskNode {
                    reference: Some(task_node::Reference::ReferenceId(id)),
                    ..
                })) if self.task(id).is_none() => return Err(unknown("task", &id.name)),
                Some(node::Target::WorkflowNode(core::WorkflowNode {
                    reference: Some(workflow_node::Reference::SubWorkflowRef(id)),
                    ..
                })) if self.sub_workflow(id).is_none() => {
                    return Err(unknown("subworkflow", &id.name));
                }
                Some(node::Target::BranchNode(branch)) => {
                    if let Some(if_else) = branch.if_else.as_deref() {
                        nodes.extend(
                            if_else
                                .case
                                .as_deref()
                                .into_iter()
                                .chain(if_else.other.iter())
                                .filter_map(|block| block.then_node.as_deref()),
                        );
                        if let Some(core::if_else_block::Default::ElseNode(else_node)) =
                            &if_else.default
                        {
                            nodes.push(else_node);
                        }
                    }
                }
                Some(node::Target::ArrayNode(array)) => {
                    if let Some(inner) = array.node.as_deref() {
                        nodes.push(inner);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Task ids compared by what identifies them (project, domain, name, version).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct IdentifierKey(String, String, String, String);

impl IdentifierKey {
    pub(crate) fn of(id: &core::Identifier) -> Self {
        Self(
            id.project.clone(),
            id.domain.clone(),
            id.name.clone(),
            id.version.clone(),
        )
    }
}

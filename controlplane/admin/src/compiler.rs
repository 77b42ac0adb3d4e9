//! The workflow compiler: turns a registered `WorkflowTemplate` into the
//! `CompiledWorkflow` flytekit and propeller read, with the `start-node` and
//! `end-node` sentinels and the upstream/downstream connections computed from
//! each node's bindings and explicit `upstream_node_ids`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use updraft_proto::flyteidl::core;

/// The sentinel node whose outputs are the workflow's inputs.
pub const START_NODE_ID: &str = "start-node";
/// The sentinel node whose inputs are the workflow's outputs.
pub const END_NODE_ID: &str = "end-node";

/// Why a workflow does not compile; every message names the offending node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// The template is missing.
    #[error("workflow {workflow} has no template")]
    MissingTemplate { workflow: String },
    /// The workflow has no nodes.
    #[error("workflow {workflow} has no nodes")]
    NoNodes { workflow: String },
    /// A node has no id.
    #[error("workflow {workflow} has a node without an id")]
    EmptyNodeId { workflow: String },
    /// Two nodes share an id.
    #[error("workflow {workflow} has more than one node with id {node}")]
    DuplicateNodeId { workflow: String, node: String },
    /// A node uses a reserved id.
    #[error("node id {node} is reserved")]
    ReservedNodeId { node: String },
    /// A binding or `upstream_node_ids` names a node that does not exist.
    #[error(
        "node {node} depends on node {referenced}, which does not exist in workflow {workflow}"
    )]
    UnknownNode {
        workflow: String,
        node: String,
        referenced: String,
    },
    /// A workflow node names a sub-workflow that is not in the spec.
    #[error("node {node} references sub-workflow {sub_workflow}, which is not part of the request")]
    UnknownSubWorkflow { node: String, sub_workflow: String },
    /// The nodes' dependencies form a cycle.
    #[error("workflow {workflow} has a dependency cycle through nodes {nodes}")]
    Cycle { workflow: String, nodes: String },
}

/// A task, sub-workflow or launch plan a node refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeReference {
    /// A task node's task.
    Task { node: String, id: core::Identifier },
    /// A workflow node's launch plan.
    LaunchPlan { node: String, id: core::Identifier },
    /// A workflow node's sub-workflow.
    SubWorkflow { node: String, id: core::Identifier },
}

/// Every reference made by the nodes of `template`, nested nodes included.
pub fn node_references(template: &core::WorkflowTemplate) -> Vec<NodeReference> {
    let mut references = Vec::new();
    for node in template.nodes.iter().chain(template.failure_node.iter()) {
        collect_references(node, &mut references);
    }
    references
}

fn collect_references(node: &core::Node, references: &mut Vec<NodeReference>) {
    use core::node::Target;
    match &node.target {
        Some(Target::TaskNode(task_node)) => {
            if let Some(core::task_node::Reference::ReferenceId(id)) = &task_node.reference {
                references.push(NodeReference::Task {
                    node: node.id.clone(),
                    id: id.clone(),
                });
            }
        }
        Some(Target::WorkflowNode(workflow_node)) => match &workflow_node.reference {
            Some(core::workflow_node::Reference::LaunchplanRef(id)) => {
                references.push(NodeReference::LaunchPlan {
                    node: node.id.clone(),
                    id: id.clone(),
                });
            }
            Some(core::workflow_node::Reference::SubWorkflowRef(id)) => {
                references.push(NodeReference::SubWorkflow {
                    node: node.id.clone(),
                    id: id.clone(),
                });
            }
            None => {}
        },
        Some(Target::BranchNode(branch)) => {
            for nested in branch_nodes(branch) {
                collect_references(nested, references);
            }
        }
        Some(Target::ArrayNode(array)) => {
            if let Some(nested) = &array.node {
                collect_references(nested, references);
            }
        }
        Some(Target::GateNode(_)) | None => {}
    }
}

/// The nodes a branch may run: its `then` nodes and its `else` node.
fn branch_nodes(branch: &core::BranchNode) -> Vec<&core::Node> {
    let mut nodes = Vec::new();
    if let Some(if_else) = &branch.if_else {
        for block in if_else
            .case
            .as_deref()
            .into_iter()
            .chain(if_else.other.iter())
        {
            if let Some(then_node) = &block.then_node {
                nodes.push(then_node.as_ref());
            }
        }
        if let Some(core::if_else_block::Default::ElseNode(else_node)) = &if_else.default {
            nodes.push(else_node.as_ref());
        }
    }
    nodes
}

/// Node ids whose outputs `bindings` read (`promise.node_id`), in order, deduplicated.
fn promised_nodes(bindings: &[core::Binding]) -> Vec<String> {
    fn walk(data: &core::BindingData, found: &mut Vec<String>) {
        use core::binding_data::Value;
        match &data.value {
            Some(Value::Promise(reference)) if !found.contains(&reference.node_id) => {
                found.push(reference.node_id.clone());
            }
            Some(Value::Collection(collection)) => {
                for item in &collection.bindings {
                    walk(item, found);
                }
            }
            Some(Value::Map(map)) => {
                // Sorted so the compiled output does not depend on hash order.
                let sorted: BTreeMap<_, _> = map.bindings.iter().collect();
                for item in sorted.values() {
                    walk(item, found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for binding in bindings {
        if let Some(data) = &binding.binding {
            walk(data, &mut found);
        }
    }
    found
}

/// The outer nodes a node depends on through its own bindings and, for
/// branches and array nodes, those of the nodes nested in it.
fn binding_dependencies(node: &core::Node) -> Vec<String> {
    use core::node::Target;
    let mut dependencies = promised_nodes(&node.inputs);
    let nested: Vec<&core::Node> = match &node.target {
        Some(Target::BranchNode(branch)) => branch_nodes(branch),
        Some(Target::ArrayNode(array)) => array.node.as_deref().into_iter().collect(),
        _ => Vec::new(),
    };
    let nested_ids: HashSet<&str> = nested.iter().map(|inner| inner.id.as_str()).collect();
    for inner in nested {
        for dependency in binding_dependencies(inner) {
            if !nested_ids.contains(dependency.as_str()) && !dependencies.contains(&dependency) {
                dependencies.push(dependency);
            }
        }
    }
    dependencies
}

fn normalise_node_id(id: &str) -> &str {
    // flytekit writes workflow inputs as promises of the empty node id or of
    // the start node; both mean the start node.
    if id.is_empty() { START_NODE_ID } else { id }
}

fn id_label(id: Option<&core::Identifier>) -> String {
    id.map(|id| format!("{}/{}/{}/{}", id.project, id.domain, id.name, id.version))
        .unwrap_or_else(|| "(unnamed)".to_string())
}

/// The dependency graph in both directions, sorted for stable output.
#[derive(Default)]
struct Edges {
    upstream: BTreeMap<String, BTreeSet<String>>,
    downstream: BTreeMap<String, BTreeSet<String>>,
}

impl Edges {
    fn add(&mut self, from: &str, to: &str) {
        self.upstream
            .entry(to.to_string())
            .or_default()
            .insert(from.to_string());
        self.downstream
            .entry(from.to_string())
            .or_default()
            .insert(to.to_string());
    }
}

/// Compiles one workflow template into its compiled form.
pub fn compile_workflow(
    template: &core::WorkflowTemplate,
) -> Result<core::CompiledWorkflow, CompileError> {
    let workflow = id_label(template.id.as_ref());
    if template.nodes.is_empty() {
        return Err(CompileError::NoNodes { workflow });
    }
    let mut node_ids = HashSet::new();
    for node in &template.nodes {
        if node.id.is_empty() {
            return Err(CompileError::EmptyNodeId { workflow });
        }
        if node.id == START_NODE_ID || node.id == END_NODE_ID {
            return Err(CompileError::ReservedNodeId {
                node: node.id.clone(),
            });
        }
        if !node_ids.insert(node.id.as_str()) {
            return Err(CompileError::DuplicateNodeId {
                workflow,
                node: node.id.clone(),
            });
        }
    }

    let mut edges = Edges::default();
    let check_exists = |node: &str, referenced: &str| {
        if referenced == START_NODE_ID || node_ids.contains(referenced) {
            Ok(())
        } else {
            Err(CompileError::UnknownNode {
                workflow: workflow.clone(),
                node: node.to_string(),
                referenced: referenced.to_string(),
            })
        }
    };

    let mut compiled_nodes = Vec::with_capacity(template.nodes.len() + 2);
    compiled_nodes.push(core::Node {
        id: START_NODE_ID.to_string(),
        ..Default::default()
    });
    compiled_nodes.push(core::Node {
        id: END_NODE_ID.to_string(),
        inputs: template.outputs.clone(),
        ..Default::default()
    });
    for node in &template.nodes {
        let mut compiled = node.clone();
        for explicit in &node.upstream_node_ids {
            let explicit = normalise_node_id(explicit);
            check_exists(&node.id, explicit)?;
            edges.add(explicit, &node.id);
        }
        for dependency in binding_dependencies(node) {
            let dependency = normalise_node_id(&dependency);
            check_exists(&node.id, dependency)?;
            edges.add(dependency, &node.id);
            // Node-to-node dependencies are also listed on the node itself;
            // the start node never is (flytekit fails to rebuild the workflow
            // when it sees it there).
            if dependency != START_NODE_ID
                && !compiled.upstream_node_ids.iter().any(|id| id == dependency)
            {
                compiled.upstream_node_ids.push(dependency.to_string());
            }
        }
        compiled
            .upstream_node_ids
            .retain(|id| !id.is_empty() && id != START_NODE_ID);
        compiled_nodes.push(compiled);
    }
    for dependency in promised_nodes(&template.outputs) {
        let dependency = normalise_node_id(&dependency);
        check_exists(END_NODE_ID, dependency)?;
        edges.add(dependency, END_NODE_ID);
    }
    // Nodes that need nothing start with the workflow; nodes nothing needs
    // must still finish before the workflow does.
    for node in &template.nodes {
        if !edges.upstream.contains_key(&node.id) {
            edges.add(START_NODE_ID, &node.id);
        }
        if !edges.downstream.contains_key(&node.id) {
            edges.add(&node.id, END_NODE_ID);
        }
    }
    detect_cycles(
        &workflow,
        &template.nodes,
        &edges.upstream,
        &edges.downstream,
    )?;

    let mut compiled_template = template.clone();
    compiled_template.nodes = compiled_nodes;
    let to_lists = |edges: BTreeMap<String, BTreeSet<String>>| -> HashMap<String, core::connection_set::IdList> {
        edges
            .into_iter()
            .map(|(node, ids)| {
                (
                    node,
                    core::connection_set::IdList {
                        ids: ids.into_iter().collect(),
                    },
                )
            })
            .collect()
    };
    Ok(core::CompiledWorkflow {
        template: Some(compiled_template),
        connections: Some(core::ConnectionSet {
            upstream: to_lists(edges.upstream),
            downstream: to_lists(edges.downstream),
        }),
    })
}

/// Kahn's algorithm from the start node: any node never freed sits on a cycle.
fn detect_cycles(
    workflow: &str,
    nodes: &[core::Node],
    upstream: &BTreeMap<String, BTreeSet<String>>,
    downstream: &BTreeMap<String, BTreeSet<String>>,
) -> Result<(), CompileError> {
    let mut waiting: HashMap<&str, usize> = upstream
        .iter()
        .map(|(node, ids)| (node.as_str(), ids.len()))
        .collect();
    let mut ready = VecDeque::from([START_NODE_ID]);
    while let Some(node) = ready.pop_front() {
        for next in downstream.get(node).into_iter().flatten() {
            if let Some(count) = waiting.get_mut(next.as_str()) {
                *count -= 1;
                if *count == 0 {
                    ready.push_back(next.as_str());
                }
            }
        }
    }
    let mut stuck: Vec<&str> = nodes
        .iter()
        .map(|node| node.id.as_str())
        .filter(|id| waiting.get(id).is_some_and(|count| *count > 0))
        .collect();
    if stuck.is_empty() {
        Ok(())
    } else {
        stuck.sort_unstable();
        Err(CompileError::Cycle {
            workflow: workflow.to_string(),
            nodes: stuck.join(", "),
        })
    }
}

/// Compiles the primary workflow and its sub-workflows into a closure with the
/// given (already resolved) tasks and launch plans.
pub fn compile_closure(
    primary: &core::WorkflowTemplate,
    sub_workflows: &[core::WorkflowTemplate],
    tasks: Vec<core::TaskTemplate>,
    launch_plans: Vec<core::LaunchPlanTemplate>,
) -> Result<core::CompiledWorkflowClosure, CompileError> {
    let known_sub_workflows: Vec<&core::Identifier> = sub_workflows
        .iter()
        .filter_map(|sub_workflow| sub_workflow.id.as_ref())
        .collect();
    for template in std::iter::once(primary).chain(sub_workflows.iter()) {
        for reference in node_references(template) {
            if let NodeReference::SubWorkflow { node, id } = reference
                && !known_sub_workflows.iter().any(|known| same_id(known, &id))
            {
                return Err(CompileError::UnknownSubWorkflow {
                    node,
                    sub_workflow: id_label(Some(&id)),
                });
            }
        }
    }
    Ok(core::CompiledWorkflowClosure {
        primary: Some(compile_workflow(primary)?),
        sub_workflows: sub_workflows
            .iter()
            .map(compile_workflow)
            .collect::<Result<_, _>>()?,
        tasks: tasks
            .into_iter()
            .map(|template| core::CompiledTask {
                template: Some(template),
            })
            .collect(),
        launch_plans: launch_plans
            .into_iter()
            .map(|template| core::CompiledLaunchPlan {
                template: Some(template),
            })
            .collect(),
    })
}

/// Whether two identifiers name the same version (resource type and org aside).
pub fn same_id(left: &core::Identifier, right: &core::Identifier) -> bool {
    left.project == right.project
        && left.domain == right.domain
        && left.name == right.name
        && left.version == right.version
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promise(node: &str, var: &str) -> core::BindingData {
        core::BindingData {
            value: Some(core::binding_data::Value::Promise(core::OutputReference {
                node_id: node.to_string(),
                var: var.to_string(),
                attr_path: vec![],
            })),
            ..Default::default()
        }
    }

    fn binding(var: &str, data: core::BindingData) -> core::Binding {
        core::Binding {
            var: var.to_string(),
            binding: Some(data),
        }
    }

    fn task_node(id: &str, inputs: Vec<core::Binding>) -> core::Node {
        core::Node {
            id: id.to_string(),
            inputs,
            target: Some(core::node::Target::TaskNode(core::TaskNode {
                reference: Some(core::task_node::Reference::ReferenceId(core::Identifier {
                    resource_type: core::ResourceType::Task as i32,
                    project: "p".to_string(),
                    domain: "d".to_string(),
                    name: format!("task_{id}"),
                    version: "v1".to_string(),
                    org: String::new(),
                })),
                overrides: None,
            })),
            ..Default::default()
        }
    }

    fn template(nodes: Vec<core::Node>, outputs: Vec<core::Binding>) -> core::WorkflowTemplate {
        core::WorkflowTemplate {
            id: Some(core::Identifier {
                resource_type: core::ResourceType::Workflow as i32,
                project: "p".to_string(),
                domain: "d".to_string(),
                name: "wf".to_string(),
                version: "v1".to_string(),
                org: String::new(),
            }),
            nodes,
            outputs,
            ..Default::default()
        }
    }

    fn ids(compiled: &core::CompiledWorkflow, side: &str, node: &str) -> Vec<String> {
        let connections = compiled.connections.as_ref().unwrap();
        let map = if side == "up" {
            &connections.upstream
        } else {
            &connections.downstream
        };
        map.get(node)
            .map(|list| list.ids.clone())
            .unwrap_or_default()
    }

    #[test]
    fn chains_nodes_through_bindings_and_sentinels() {
        // n0 <- workflow input a; n1 <- n0.o0 and input b; outputs <- n1.o0
        let workflow = template(
            vec![
                task_node("n0", vec![binding("x", promise("", "a"))]),
                task_node(
                    "n1",
                    vec![
                        binding("x", promise("n0", "o0")),
                        binding("y", promise("start-node", "b")),
                    ],
                ),
            ],
            vec![binding("o0", promise("n1", "o0"))],
        );
        let compiled = compile_workflow(&workflow).unwrap();
        assert_eq!(ids(&compiled, "up", "n0"), vec!["start-node"]);
        assert_eq!(ids(&compiled, "up", "n1"), vec!["n0", "start-node"]);
        assert_eq!(ids(&compiled, "up", "end-node"), vec!["n1"]);
        assert_eq!(ids(&compiled, "down", "start-node"), vec!["n0", "n1"]);
        assert_eq!(ids(&compiled, "down", "n0"), vec!["n1"]);
        assert_eq!(ids(&compiled, "down", "n1"), vec!["end-node"]);
        let nodes = &compiled.template.as_ref().unwrap().nodes;
        let names: Vec<&str> = nodes.iter().map(|node| node.id.as_str()).collect();
        assert_eq!(names, vec!["start-node", "end-node", "n0", "n1"]);
        assert_eq!(nodes[3].upstream_node_ids, vec!["n0"]);
        assert!(nodes[2].upstream_node_ids.is_empty());
        assert_eq!(nodes[1].inputs, workflow.outputs);
    }

    #[test]
    fn connects_orphans_and_explicit_dependencies() {
        let mut second = task_node("n1", vec![]);
        second.upstream_node_ids = vec!["n0".to_string()];
        let compiled =
            compile_workflow(&template(vec![task_node("n0", vec![]), second], vec![])).unwrap();
        assert_eq!(ids(&compiled, "up", "n0"), vec!["start-node"]);
        assert_eq!(ids(&compiled, "up", "n1"), vec!["n0"]);
        assert_eq!(ids(&compiled, "up", "end-node"), vec!["n1"]);
    }

    #[test]
    fn rejects_unknown_nodes_naming_them() {
        let workflow = template(
            vec![task_node("n0", vec![binding("x", promise("n7", "o0"))])],
            vec![],
        );
        let error = compile_workflow(&workflow).unwrap_err();
        assert_eq!(
            error,
            CompileError::UnknownNode {
                workflow: "p/d/wf/v1".to_string(),
                node: "n0".to_string(),
                referenced: "n7".to_string()
            }
        );
        assert!(error.to_string().contains("node n0"));
        let workflow = template(
            vec![task_node("n0", vec![])],
            vec![binding("o0", promise("ghost", "o0"))],
        );
        assert!(matches!(
            compile_workflow(&workflow).unwrap_err(),
            CompileError::UnknownNode { node, .. } if node == "end-node"
        ));
    }

    #[test]
    fn rejects_cycles_duplicates_and_empty_workflows() {
        let workflow = template(
            vec![
                task_node("a", vec![binding("x", promise("b", "o0"))]),
                task_node("b", vec![binding("x", promise("a", "o0"))]),
                task_node("c", vec![]),
            ],
            vec![],
        );
        assert_eq!(
            compile_workflow(&workflow).unwrap_err(),
            CompileError::Cycle {
                workflow: "p/d/wf/v1".to_string(),
                nodes: "a, b".to_string()
            }
        );
        let workflow = template(vec![task_node("a", vec![]), task_node("a", vec![])], vec![]);
        assert!(matches!(
            compile_workflow(&workflow).unwrap_err(),
            CompileError::DuplicateNodeId { .. }
        ));
        assert!(matches!(
            compile_workflow(&template(vec![], vec![])).unwrap_err(),
            CompileError::NoNodes { .. }
        ));
    }

    #[test]
    fn collects_references_inside_branches() {
        let branch = core::Node {
            id: "b0".to_string(),
            target: Some(core::node::Target::BranchNode(Box::new(core::BranchNode {
                if_else: Some(Box::new(core::IfElseBlock {
                    case: Some(Box::new(core::IfBlock {
                        condition: None,
                        then_node: Some(Box::new(task_node(
                            "b0-n0",
                            vec![binding("x", promise("n0", "o0"))],
                        ))),
                    })),
                    other: vec![],
                    default: Some(core::if_else_block::Default::ElseNode(Box::new(task_node(
                        "b0-n1",
                        vec![],
                    )))),
                })),
            }))),
            ..Default::default()
        };
        let workflow = template(vec![task_node("n0", vec![]), branch], vec![]);
        let references = node_references(&workflow);
        assert_eq!(references.len(), 3);
        let compiled = compile_workflow(&workflow).unwrap();
        assert_eq!(ids(&compiled, "up", "b0"), vec!["n0"]);
    }

    #[test]
    fn closure_rejects_missing_sub_workflows() {
        let node = core::Node {
            id: "n0".to_string(),
            target: Some(core::node::Target::WorkflowNode(core::WorkflowNode {
                reference: Some(core::workflow_node::Reference::SubWorkflowRef(
                    core::Identifier {
                        name: "sub".to_string(),
                        ..Default::default()
                    },
                )),
            })),
            ..Default::default()
        };
        let error =
            compile_closure(&template(vec![node], vec![]), &[], vec![], vec![]).unwrap_err();
        assert!(matches!(error, CompileError::UnknownSubWorkflow { node, .. } if node == "n0"));
    }
}

//! A workflow's DAG, laid out on the server: left to right in layers (a node
//! sits one layer after the latest of its upstream nodes), ordered within a
//! layer to keep edges short. The browser only draws what arrives, so the
//! layout code never ships in the WASM.

use serde::{Deserialize, Serialize};

/// Width and height of a node box, in SVG units.
pub const NODE_WIDTH: u32 = 184;
pub const NODE_HEIGHT: u32 = 44;
const LAYER_GAP: u32 = 56;
const ROW_GAP: u32 = 16;
const MARGIN: u32 = 12;

/// A laid-out graph, ready to draw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphLayout {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    pub width: u32,
    pub height: u32,
}

/// One node box: the node id (what executions report phases under), what it
/// runs, and where its top-left corner is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphNode {
    pub id: String,
    pub label: String,
    pub kind: String,
    pub x: u32,
    pub y: u32,
}

/// An edge as an SVG path (`d` attribute), from upstream to downstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    pub path: String,
}

/// What the layout needs of one node: id, label, kind, and the ids it waits for.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub id: String,
    pub label: String,
    pub kind: String,
    pub upstream: Vec<String>,
}

/// Lays out `nodes` (given in the workflow's own order). Unknown upstream ids
/// are ignored; a cycle, which compiled workflows never have, cannot hang it.
pub fn lay_out(nodes: &[NodeSpec]) -> GraphLayout {
    use std::collections::HashMap;

    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(position, node)| (node.id.as_str(), position))
        .collect();
    let upstream: Vec<Vec<usize>> = nodes
        .iter()
        .map(|node| {
            let mut ids: Vec<usize> = node
                .upstream
                .iter()
                .filter_map(|id| index.get(id.as_str()).copied())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        })
        .collect();
    let mut downstream = vec![Vec::new(); nodes.len()];
    for (node, ups) in upstream.iter().enumerate() {
        for &up in ups {
            downstream[up].push(node);
        }
    }

    // Longest path from the sources, relaxed at most once per node: enough
    // for a DAG, and a cycle merely stops growing.
    let mut layer = vec![0usize; nodes.len()];
    for _ in 0..nodes.len() {
        let mut changed = false;
        for node in 0..nodes.len() {
            let wanted = upstream[node]
                .iter()
                .map(|&up| layer[up] + 1)
                .max()
                .unwrap_or(0);
            if wanted > layer[node] {
                layer[node] = wanted;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let layer_count = layer.iter().max().map_or(0, |max| max + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
    for (node, &at) in layer.iter().enumerate() {
        layers[at].push(node);
    }

    // Barycentre sweeps: order each layer by the mean position of its
    // neighbours in the layer before (then after), which untangles most
    // crossings of workflow-shaped graphs in a few passes.
    let mut row = vec![0f64; nodes.len()];
    let place_rows = |layers: &Vec<Vec<usize>>, row: &mut Vec<f64>| {
        for members in layers {
            for (position, &node) in members.iter().enumerate() {
                row[node] = position as f64;
            }
        }
    };
    place_rows(&layers, &mut row);
    for sweep in 0..4 {
        let downward = sweep % 2 == 0;
        let order: Vec<usize> = if downward {
            (1..layer_count).collect()
        } else {
            (0..layer_count.saturating_sub(1)).rev().collect()
        };
        for at in order {
            let neighbours = if downward { &upstream } else { &downstream };
            let mut keyed: Vec<(f64, usize)> = layers[at]
                .iter()
                .map(|&node| {
                    let around = &neighbours[node];
                    let key = if around.is_empty() {
                        row[node]
                    } else {
                        around.iter().map(|&other| row[other]).sum::<f64>() / around.len() as f64
                    };
                    (key, node)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            layers[at] = keyed.into_iter().map(|(_, node)| node).collect();
            for (position, &node) in layers[at].iter().enumerate() {
                row[node] = position as f64;
            }
        }
    }

    let tallest = layers.iter().map(Vec::len).max().unwrap_or(0) as u32;
    let height = 2 * MARGIN + tallest * NODE_HEIGHT + tallest.saturating_sub(1) * ROW_GAP;
    let width = 2 * MARGIN
        + layer_count as u32 * NODE_WIDTH
        + (layer_count as u32).saturating_sub(1) * LAYER_GAP;
    let mut position = vec![(0u32, 0u32); nodes.len()];
    for (at, members) in layers.iter().enumerate() {
        let count = members.len() as u32;
        let column_height = count * NODE_HEIGHT + count.saturating_sub(1) * ROW_GAP;
        // Short layers are centred against the tallest one.
        let top = MARGIN + (height - 2 * MARGIN - column_height) / 2;
        for (slot, &node) in members.iter().enumerate() {
            position[node] = (
                MARGIN + at as u32 * (NODE_WIDTH + LAYER_GAP),
                top + slot as u32 * (NODE_HEIGHT + ROW_GAP),
            );
        }
    }

    let mut edges = Vec::new();
    for (node, ups) in upstream.iter().enumerate() {
        for &up in ups {
            let (from_x, from_y) = position[up];
            let (to_x, to_y) = position[node];
            let (start_x, start_y) = (from_x + NODE_WIDTH, from_y + NODE_HEIGHT / 2);
            let (end_x, end_y) = (to_x, to_y + NODE_HEIGHT / 2);
            let bend = (end_x.saturating_sub(start_x)) / 2;
            edges.push(GraphEdge {
                from: nodes[up].id.clone(),
                to: nodes[node].id.clone(),
                path: format!(
                    "M{start_x} {start_y} C{} {start_y} {} {end_y} {end_x} {end_y}",
                    start_x + bend,
                    end_x.saturating_sub(bend)
                ),
            });
        }
    }
    GraphLayout {
        nodes: nodes
            .iter()
            .enumerate()
            .map(|(at, node)| GraphNode {
                id: node.id.clone(),
                label: node.label.clone(),
                kind: node.kind.clone(),
                x: position[at].0,
                y: position[at].1,
            })
            .collect(),
        edges,
        width,
        height,
    }
}

/// The graph of a compiled workflow: its nodes between a start and an end,
/// connected as the compiler recorded.
#[cfg(feature = "ssr")]
pub fn workflow_graph(compiled: &updraft_proto::flyteidl::core::CompiledWorkflow) -> GraphLayout {
    use updraft_proto::flyteidl::core::node::Target;
    use updraft_proto::flyteidl::core::{task_node, workflow_node};

    let Some(template) = compiled.template.as_ref() else {
        return GraphLayout::default();
    };
    let upstream_of = |id: &str| -> Vec<String> {
        compiled
            .connections
            .as_ref()
            .and_then(|connections| connections.upstream.get(id))
            .map(|list| list.ids.clone())
            .unwrap_or_default()
    };
    let short = |name: &str| name.rsplit('.').next().unwrap_or(name).to_string();
    let mut specs = vec![NodeSpec {
        id: "start-node".into(),
        label: "start".into(),
        kind: "start".into(),
        upstream: Vec::new(),
    }];
    // A compiled template may list the start and end nodes itself; they are
    // drawn once, as the ends of the graph.
    let work = template
        .nodes
        .iter()
        .filter(|node| node.id != "start-node" && node.id != "end-node");
    for node in work.clone() {
        let (kind, runs) = match &node.target {
            Some(Target::TaskNode(task)) => (
                "task",
                match &task.reference {
                    Some(task_node::Reference::ReferenceId(id)) => short(&id.name),
                    None => String::new(),
                },
            ),
            Some(Target::WorkflowNode(workflow)) => match &workflow.reference {
                Some(workflow_node::Reference::SubWorkflowRef(id)) => {
                    ("subworkflow", short(&id.name))
                }
                Some(workflow_node::Reference::LaunchplanRef(id)) => {
                    ("launch plan", short(&id.name))
                }
                None => ("workflow", String::new()),
            },
            Some(Target::BranchNode(_)) => ("branch", String::new()),
            Some(Target::GateNode(_)) => ("gate", String::new()),
            Some(Target::ArrayNode(_)) => ("map", String::new()),
            None => ("node", String::new()),
        };
        let mut upstream = upstream_of(&node.id);
        // Nodes that wait for nothing start when the workflow does.
        if upstream.is_empty() {
            upstream.push("start-node".into());
        }
        specs.push(NodeSpec {
            id: node.id.clone(),
            label: if runs.is_empty() {
                node.id.clone()
            } else {
                format!("{} · {runs}", node.id)
            },
            kind: kind.into(),
            upstream,
        });
    }
    let mut end_upstream = upstream_of("end-node");
    if end_upstream.is_empty() {
        end_upstream = work.map(|node| node.id.clone()).collect();
    }
    specs.push(NodeSpec {
        id: "end-node".into(),
        label: "end".into(),
        kind: "end".into(),
        upstream: end_upstream,
    });
    let mut layout = lay_out(&specs);
    if let Some(handler) = &template.failure_node {
        // The failure handler is no step of the workflow: it runs only once
        // the workflow has failed, so it is drawn apart, under the graph,
        // with no edges.
        let runs = match &handler.target {
            Some(Target::TaskNode(task)) => match &task.reference {
                Some(task_node::Reference::ReferenceId(id)) => short(&id.name),
                None => String::new(),
            },
            Some(Target::WorkflowNode(workflow)) => match &workflow.reference {
                Some(workflow_node::Reference::SubWorkflowRef(id))
                | Some(workflow_node::Reference::LaunchplanRef(id)) => short(&id.name),
                None => String::new(),
            },
            _ => String::new(),
        };
        layout.nodes.push(GraphNode {
            id: handler.id.clone(),
            label: if runs.is_empty() {
                format!("on failure · {}", handler.id)
            } else {
                format!("on failure · {runs}")
            },
            kind: FAILURE_HANDLER_KIND.into(),
            x: MARGIN,
            y: layout.height + ROW_GAP,
        });
        layout.height += ROW_GAP + NODE_HEIGHT + MARGIN;
        layout.width = layout.width.max(2 * MARGIN + NODE_WIDTH);
    }
    layout
}

/// The kind of a workflow's failure node (`@workflow(on_failure=…)`).
pub const FAILURE_HANDLER_KIND: &str = "failure handler";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_node_is_drawn_apart_under_the_graph_with_no_edges() {
        use updraft_proto::flyteidl::core;
        let task = |id: &str| core::Node {
            id: id.into(),
            target: Some(core::node::Target::TaskNode(core::TaskNode {
                reference: Some(core::task_node::Reference::ReferenceId(core::Identifier {
                    name: format!("app.{id}_task"),
                    ..Default::default()
                })),
                overrides: None,
            })),
            ..Default::default()
        };
        let compiled = core::CompiledWorkflow {
            template: Some(core::WorkflowTemplate {
                nodes: vec![task("n0")],
                failure_node: Some(task("fn0")),
                ..Default::default()
            }),
            connections: None,
        };
        let layout = workflow_graph(&compiled);
        let handler = layout
            .nodes
            .iter()
            .find(|node| node.id == "fn0")
            .expect("the failure node is drawn");
        assert_eq!(handler.kind, FAILURE_HANDLER_KIND);
        assert_eq!(handler.label, "on failure · fn0_task");
        let lowest_step = layout
            .nodes
            .iter()
            .filter(|node| node.id != "fn0")
            .map(|node| node.y)
            .max()
            .unwrap_or_default();
        assert!(handler.y > lowest_step);
        assert!(handler.y + NODE_HEIGHT <= layout.height);
        assert!(
            layout
                .edges
                .iter()
                .all(|edge| edge.from != "fn0" && edge.to != "fn0")
        );
    }

    fn spec(id: &str, upstream: &[&str]) -> NodeSpec {
        NodeSpec {
            id: id.into(),
            label: id.into(),
            kind: "task".into(),
            upstream: upstream.iter().map(ToString::to_string).collect(),
        }
    }

    fn node<'a>(layout: &'a GraphLayout, id: &str) -> &'a GraphNode {
        layout.nodes.iter().find(|node| node.id == id).unwrap()
    }

    #[test]
    fn a_node_sits_right_of_everything_it_waits_for() {
        let layout = lay_out(&[
            spec("start", &[]),
            spec("a", &["start"]),
            spec("b", &["start"]),
            spec("c", &["a", "b"]),
            spec("d", &["start", "c"]),
        ]);
        for edge in &layout.edges {
            assert!(
                node(&layout, &edge.from).x < node(&layout, &edge.to).x,
                "{edge:?}"
            );
        }
        assert_eq!(node(&layout, "a").x, node(&layout, "b").x);
        assert_ne!(node(&layout, "a").y, node(&layout, "b").y);
        assert_eq!(layout.edges.len(), 6);
        for graph_node in &layout.nodes {
            assert!(graph_node.x + NODE_WIDTH <= layout.width);
            assert!(graph_node.y + NODE_HEIGHT <= layout.height);
        }
    }

    #[test]
    fn unknown_upstream_ids_and_cycles_do_not_break_the_layout() {
        let layout = lay_out(&[spec("a", &["b", "ghost"]), spec("b", &["a"])]);
        assert_eq!(layout.nodes.len(), 2);
        assert_eq!(layout.edges.len(), 2);
    }

    #[test]
    fn barycentre_ordering_keeps_parallel_chains_apart() {
        // Two chains drawn crossed at first: x1 feeds y2, x2 feeds y1.
        let layout = lay_out(&[
            spec("x1", &[]),
            spec("x2", &[]),
            spec("y2", &["x2"]),
            spec("y1", &["x1"]),
        ]);
        let above = |upper: &str, lower: &str| node(&layout, upper).y < node(&layout, lower).y;
        assert_eq!(above("x1", "x2"), above("y1", "y2"), "{layout:?}");
    }
}

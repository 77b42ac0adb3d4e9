//! A workflow's DAG as the server laid it out: edges drawn in SVG, nodes as
//! real links on top (focusable, readable by screen readers), coloured by
//! phase when an execution's phases are given.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::components::phase::{phase_label, phase_tone, tone_colours, tone_symbol};
use crate::graph::{GraphLayout, NODE_HEIGHT, NODE_WIDTH};

/// Draws `layout`. With `phases` (node id → phase) nodes take their phase's
/// colours; with `node_href`, nodes that ran link to it (their drawer).
#[component]
pub fn GraphView(
    layout: GraphLayout,
    #[prop(optional)] phases: HashMap<String, String>,
    #[prop(optional, into)] node_href: Option<Callback<String, String>>,
) -> impl IntoView {
    if layout.nodes.is_empty() {
        return view! {
            <p class="mt-3 text-sm text-slate-500 dark:text-slate-400">"There is no graph to draw."</p>
        }
        .into_any();
    }
    let size = format!("width:{}px;height:{}px", layout.width, layout.height);
    let edges = layout
        .edges
        .into_iter()
        .map(|edge| view! { <path d=edge.path fill="none" stroke-width="1.5" class="stroke-slate-400 dark:stroke-slate-600" /> })
        .collect_view();
    let nodes = layout
        .nodes
        .into_iter()
        .map(|node| {
            let phase = phases.get(&node.id).cloned();
            let tone = phase.as_deref().map(phase_tone);
            let colours = tone.map_or(
                "bg-white text-slate-800 ring-slate-300 dark:bg-slate-900 dark:text-slate-200 dark:ring-slate-700",
                tone_colours,
            );
            let style = format!(
                "left:{}px;top:{}px;width:{NODE_WIDTH}px;height:{NODE_HEIGHT}px",
                node.x, node.y
            );
            // The failure handler stands apart from the workflow's steps.
            let outline = if node.kind == crate::graph::FAILURE_HANDLER_KIND {
                "border border-dashed border-slate-400"
            } else {
                ""
            };
            let class = format!(
                "absolute flex flex-col justify-center overflow-hidden rounded-md px-2 text-xs ring-1 ring-inset {colours} {outline}"
            );
            let status = phase.as_deref().map(|phase| {
                format!("{} {}", tone_symbol(phase_tone(phase)), phase_label(phase))
            });
            let title = match &status {
                Some(status) => format!("{} ({}) — {status}", node.label, node.kind),
                None => format!("{} ({})", node.label, node.kind),
            };
            let body = view! {
                <span class="truncate font-mono font-medium">{node.label.clone()}</span>
                <span class="truncate opacity-80">{status.unwrap_or_else(|| node.kind.clone())}</span>
            };
            let href = node_href
                .filter(|_| phase.is_some() && !matches!(node.kind.as_str(), "start" | "end"))
                .map(|href| href.run(node.id.clone()));
            match href {
                Some(href) => view! {
                    <a href=href title=title style=style data-node=node.id.clone()
                        class=format!("{class} hover:ring-2 focus-visible:outline-2 focus-visible:outline-sky-500")>
                        {body}
                    </a>
                }
                .into_any(),
                None => view! {
                    <div title=title style=style data-node=node.id.clone() class=class>{body}</div>
                }
                .into_any(),
            }
        })
        .collect_view();
    view! {
        <div data-graph-scroll class="mt-3 overflow-auto rounded-lg border border-slate-200 dark:border-slate-800" role="group" aria-label="Workflow graph">
            <div class="relative" style=size.clone()>
                <svg class="absolute inset-0" style=size.clone() aria-hidden="true">{edges}</svg>
                {nodes}
            </div>
        </div>
    }
    .into_any()
}

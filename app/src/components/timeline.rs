//! An execution's nodes on one time axis (a Gantt chart): when each started
//! and how long it ran, coloured by phase.

use leptos::prelude::*;

use crate::api::NodeExecutionSummary;
use crate::components::phase::{phase_label, phase_tone, tone_colours};
use crate::components::time::DurationText;

/// One bar per node that started. A node still running reaches as far as the
/// latest moment any node is known to have reached, so the server's and the
/// browser's render agree.
#[component]
pub fn Timeline(
    nodes: Vec<NodeExecutionSummary>,
    #[prop(into)] node_href: Callback<String, String>,
) -> impl IntoView {
    let spans: Vec<(NodeExecutionSummary, i64, Option<i64>)> = nodes
        .into_iter()
        .filter_map(|node| {
            let start = node.started_at?;
            let end = node.duration_millis.map(|millis| start + millis);
            Some((node, start, end))
        })
        .collect();
    let Some(first) = spans.iter().map(|(_, start, _)| *start).min() else {
        return view! {
            <p class="mt-3 text-sm text-slate-500 dark:text-slate-400">"No node has started yet."</p>
        }
        .into_any();
    };
    let last = spans
        .iter()
        .map(|(_, start, end)| end.unwrap_or(*start))
        .max()
        .unwrap_or(first);
    let total = (last - first).max(1);
    let rows = spans
        .into_iter()
        .map(|(node, start, end)| {
            let reach = end.unwrap_or(last);
            let left = (start - first) as f64 * 100.0 / total as f64;
            let width = ((reach - start) as f64 * 100.0 / total as f64).max(0.4);
            let tone = phase_tone(&node.phase);
            let bar = format!("left:{left:.2}%;width:{width:.2}%");
            let label = format!(
                "{}: {}, from +{} ms",
                node.node_id,
                phase_label(&node.phase),
                start - first
            );
            view! {
                <li class="grid grid-cols-[12rem_1fr_5rem] items-center gap-3 py-1 text-xs">
                    <a href=node_href.run(node.node_id.clone())
                        class="truncate font-mono text-sky-700 hover:underline focus-visible:outline-2 focus-visible:outline-sky-500 dark:text-sky-400">
                        {node.node_id.clone()}
                    </a>
                    <div class="relative h-4 rounded bg-slate-100 dark:bg-slate-900">
                        <div class=format!("absolute inset-y-0 rounded ring-1 ring-inset {}", tone_colours(tone))
                            style=bar title=label.clone() role="img" aria-label=label></div>
                    </div>
                    <span class="text-right tabular-nums"><DurationText millis=node.duration_millis /></span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="mt-3">
            <div class="grid grid-cols-[12rem_1fr_5rem] gap-3 text-xs text-slate-500 dark:text-slate-400">
                <span>"Node"</span>
                <span class="flex justify-between"><span>"0 s"</span><span><DurationText millis=Some(total) /></span></span>
                <span class="text-right">"Duration"</span>
            </div>
            <ol class="mt-1 divide-y divide-slate-100 dark:divide-slate-900">{rows}</ol>
        </div>
    }
    .into_any()
}

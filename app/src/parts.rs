//! Parts of the console whose code is not in the WASM every page loads: the
//! graph, the timeline and the node drawer (with its log viewer) are fetched
//! the first time a page shows them. `scripts/build-site` cuts them out at
//! these `#[lazy]` functions.
//!
//! Each part's outermost element carries `data-part`, so that before hydrating
//! a page the server rendered, the browser can load the parts it shows:
//! hydration only polls a part once, and a part not loaded yet would not
//! match the server's HTML.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::api::NodeExecutionSummary;
use crate::components::graph::{GraphView, GraphViewProps};
use crate::components::timeline::Timeline;
use crate::graph::GraphLayout;

/// `data-part` of the graph's outermost element.
pub const GRAPH: &str = "graph";
/// `data-part` of the timeline's outermost element.
pub const TIMELINE: &str = "timeline";
/// `data-part` of the node drawer's outermost element.
pub const NODE_DRAWER: &str = "node-drawer";

/// A workflow's graph (see [`GraphView`]), loaded on first use.
#[lazy]
pub fn graph_part(
    layout: GraphLayout,
    phases: HashMap<String, String>,
    node_href: Option<Callback<String, String>>,
) -> AnyView {
    let graph = GraphView(GraphViewProps {
        layout,
        phases,
        node_href,
    });
    view! { <div data-part=GRAPH>{graph}</div> }.into_any()
}

/// An execution's timeline (see [`Timeline`]), loaded on first use.
#[lazy]
pub fn timeline_part(
    nodes: Vec<NodeExecutionSummary>,
    node_href: Callback<String, String>,
) -> AnyView {
    view! { <div data-part=TIMELINE><Timeline nodes node_href /></div> }.into_any()
}

/// Loads the parts the server-rendered page shows, before it is hydrated.
#[cfg(feature = "hydrate")]
pub async fn load_parts_on_the_page() {
    let document = document();
    let shown = |part: &str| {
        document
            .query_selector(&format!("[data-part=\"{part}\"]"))
            .ok()
            .flatten()
            .is_some()
    };
    if shown(GRAPH) {
        __preload_graph_part().await;
    }
    if shown(TIMELINE) {
        __preload_timeline_part().await;
    }
    if shown(NODE_DRAWER) {
        crate::pages::execution::__preload_node_drawer_part().await;
    }
}

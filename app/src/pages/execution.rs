use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{
    ArchiveExecution, AttemptView, CacheStatus, EvictCachedResult, EvictExecutionCache,
    ExecutionData, ExecutionDetail, ExecutionRef, GateKind, GateView, LaunchOptions, MapIndexView,
    NODE_EXECUTIONS_LIMIT, NodeCacheView, NodeDetail, NodeExecutionSummary, NodePage, NodePhases,
    RecoverExecution, SetGateSignal, TaskTemplateView, TerminateExecution, get_execution,
    get_execution_data, get_execution_graph, get_node_detail, get_node_phases,
    list_node_executions,
};
use crate::components::access::NeedsRole;
use crate::components::cache::{CacheBadge, ConfirmedEviction, cache_counts};
use crate::components::live::{LiveIndicator, use_live_updates};
use crate::components::logs::LogViewer;
use crate::components::phase::{
    PhaseBadge, is_terminal_execution_phase, phase_label, phase_tone, tone_colours,
};
use crate::components::states::{ErrorNotice, Loading};
use crate::components::styles;
use crate::components::time::{DurationText, LocalTime};
use crate::components::values::ValueTable;
use crate::error::ConsoleError;
use crate::pages::executions::LaunchedLink;
use crate::pages::project::{ProjectHeader, use_project_domain};
use crate::pages::{append_query, encode_component, project_path, query_string, use_query_value};
use crate::parts::{NODE_DRAWER, graph_part, timeline_part};

/// `/console/projects/{project}/domains/{domain}/executions/{name}`.
#[component]
pub fn ExecutionPage() -> impl IntoView {
    let params = use_params_map();
    let (project, domain) = use_project_domain();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    let terminate = ServerAction::<TerminateExecution>::new();
    let archive = ServerAction::<ArchiveExecution>::new();
    // The terminate panel lives outside the header, which is drawn anew on
    // every pushed change: a person typing a cause keeps it.
    let terminate_open = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(terminate.value().get(), Some(Ok(()))) {
            terminate_open.set(false);
        }
    });
    let execution_eviction = ServerAction::<EvictExecutionCache>::new();
    // Another execution's page starts with the panel closed.
    Effect::new(move |_| {
        name.track();
        terminate_open.set(false);
        execution_eviction.clear();
    });
    // Bumped by every pushed change; every resource below refetches with it.
    let (refresh, live) = use_live_updates(move || {
        format!(
            "/api/live/executions/{}/{}/{}",
            encode_component(&project.get()),
            encode_component(&domain.get()),
            encode_component(&name.get())
        )
    });
    let key = move || {
        (
            project.get(),
            domain.get(),
            name.get(),
            refresh.get(),
            terminate.version().get() + archive.version().get(),
        )
    };
    let execution = Resource::new(key, |(project, domain, name, _, _)| {
        get_execution(project, domain, name)
    });
    let data = Resource::new(key, |(project, domain, name, _, _)| {
        get_execution_data(project, domain, name)
    });
    // Parents whose children the table shows (`?expand=n1,n3`).
    let expand = use_query_value("expand");
    // The first row of the page of nodes shown (`?from=500`).
    let from = use_query_value("from");
    let nodes = Resource::new(
        move || (key(), expand.get(), from.get()),
        |((project, domain, name, _, _), expand, from)| {
            list_node_executions(
                project,
                domain,
                name,
                expanded_parents(&expand),
                from.parse().unwrap_or(0),
            )
        },
    );
    // The open node lives in the URL (`?node=…&attempt=…`): shareable, and
    // kept across a reload.
    let open_node = use_query_value("node");
    let chosen_attempt = use_query_value("attempt");
    // One index of an open map node (`?index=3`): its own log.
    let chosen_index = use_query_value("index");
    let gate_signal = ServerAction::<SetGateSignal>::new();
    let node_detail = Resource::new(
        move || {
            (
                project.get(),
                domain.get(),
                name.get(),
                open_node.get(),
                refresh.get(),
                gate_signal.version().get(),
                expand.get(),
            )
        },
        |(project, domain, name, node, _, _, expand)| async move {
            if node.is_empty() {
                Ok(None)
            } else {
                get_node_detail(project, domain, name, node, expanded_parents(&expand))
                    .await
                    .map(Some)
            }
        },
    );
    // How the nodes are shown (`?view=graph|timeline`, the table when
    // absent), kept in every link the page makes.
    let view_mode = use_query_value("view");
    let view_path = Signal::derive(move || {
        project_path(
            &project.get(),
            &domain.get(),
            &format!("/executions/{}", encode_component(&name.get())),
        ) + &query_string(&[("view", &view_mode.get())])
    });
    let page_path = Signal::derive(move || {
        append_query(
            &view_path.get(),
            &[("expand", &expand.get()), ("from", &from.get())],
        )
    });
    let node_href = Callback::new(move |node_id: String| {
        append_query(&page_path.get_untracked(), &[("node", &node_id)])
    });
    let graph = Resource::new(
        move || {
            (
                project.get(),
                domain.get(),
                name.get(),
                view_mode.get() == "graph",
            )
        },
        |(project, domain, name, wanted)| async move {
            if wanted {
                get_execution_graph(project, domain, name).await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    // The graph shows every top-level node, not one page of the table, and
    // its colours follow the run: the first read takes every node, each later
    // one only those changed since, folded into what is known.
    let known_phases = StoredValue::new(None::<(String, NodePhases)>);
    let graph_phases = Resource::new(
        move || (key(), view_mode.get() == "graph"),
        move |((project, domain, name, _, _), wanted)| async move {
            if !wanted {
                return Ok(HashMap::new());
            }
            // Moving to another execution in place starts over.
            let execution = format!("{project}/{domain}/{name}");
            let since = known_phases.with_value(|known| match known {
                Some((of, known)) if *of == execution => Some(known.read_at),
                _ => None,
            });
            let changed = get_node_phases(project, domain, name, since).await?;
            known_phases.update_value(|known| match known {
                // A read that started before the one already folded in
                // brings nothing newer.
                Some((of, known)) if *of == execution => {
                    if changed.read_at > known.read_at {
                        known.phases.extend(changed.phases);
                        known.read_at = changed.read_at;
                    }
                }
                _ => *known = Some((execution, changed)),
            });
            Ok(known_phases.with_value(|known| {
                known
                    .as_ref()
                    .map(|(_, known)| known.phases.clone())
                    .unwrap_or_default()
            }))
        },
    );

    let list_href = move || project_path(&project.get(), &domain.get(), "/executions");
    view! {
        <Title text=move || format!("Execution {}", name.get()) />
        <ProjectHeader />
        <nav aria-label="Breadcrumb" class="mt-6 text-sm text-slate-500 dark:text-slate-400">
            <a href=list_href class="text-sky-700 hover:underline dark:text-sky-400">"Executions"</a>
            <span aria-hidden="true">" / "</span>
            <span aria-current="page">{move || name.get()}</span>
            <span class="ml-3"><LiveIndicator state=live /></span>
        </nav>
        // Drops down under the header's buttons.
        <TerminatePanel open=terminate_open name terminate />
        <Transition fallback=|| view! { <Loading what="the execution" /> }>
            {move || Suspend::new(async move {
                match execution.await {
                    Ok(detail) => view! { <ExecutionHeader detail terminate terminate_open archive /> }.into_any(),
                    Err(error) => view! {
                        <h2 class="mt-2 break-all text-xl font-semibold">{name.get_untracked()}</h2>
                        <div class="mt-4"><ErrorNotice error /></div>
                    }.into_any(),
                }
            })}
        </Transition>
        <section class="mt-8" aria-labelledby="data-heading">
            <h3 id="data-heading" class="sr-only">"Inputs and outputs"</h3>
            <Transition fallback=|| view! { <Loading what="inputs and outputs" /> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(data) => view! { <InputsOutputs data /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="mt-8" aria-labelledby="nodes-heading">
            <div class="flex flex-wrap items-baseline gap-4">
                <h3 id="nodes-heading" class="text-lg font-semibold">"Nodes"</h3>
                <NodeViewTabs view_mode base=Signal::derive(move || project_path(
                    &project.get(),
                    &domain.get(),
                    &format!("/executions/{}", encode_component(&name.get())),
                )) />
                <div class="ml-auto">
                    <NeedsRole role="contributor" label="Evict all cached results of this execution">
                        <ExecutionCacheEviction name eviction=execution_eviction />
                    </NeedsRole>
                </div>
            </div>
            <Transition fallback=|| view! { <Loading what="nodes" /> }>
                {move || Suspend::new(async move {
                    if view_mode.get() == "graph" {
                        return match (graph.await, graph_phases.await) {
                            (Ok(layout), Ok(phases)) => {
                                graph_part(layout.unwrap_or_default(), phases, Some(node_href)).await
                            }
                            (Err(error), _) | (_, Err(error)) => {
                                view! { <div class="mt-3"><ErrorNotice error /></div> }.into_any()
                            }
                        };
                    }
                    let NodePage { nodes, from, more } = match nodes.await {
                        Ok(page) => page,
                        Err(error) => return view! { <div class="mt-3"><ErrorNotice error /></div> }.into_any(),
                    };
                    let shown = nodes.len();
                    let rows = if view_mode.get() == "timeline" {
                        let nodes = nodes.into_iter().filter(|node| node.map_index.is_none()).collect();
                        timeline_part(nodes, node_href).await
                    } else {
                        view! { <NodeTable nodes page_path view_path expand open_node chosen_index from /> }.into_any()
                    };
                    view! { {rows} <NodePager from shown more view_path expand /> }.into_any()
                })}
            </Transition>
        </section>
        {move || {
            let node_id = open_node.get();
            (!node_id.is_empty()).then(|| Suspend::new(async move {
                node_drawer_part(node_id, page_path, chosen_attempt, chosen_index, node_detail, gate_signal).await
            }))
        }}
    }
}

/// Table, graph or timeline: links that switch `?view=`, the open node closed.
#[component]
fn NodeViewTabs(view_mode: Memo<String>, base: Signal<String>) -> impl IntoView {
    let tabs = [("", "Table"), ("graph", "Graph"), ("timeline", "Timeline")];
    view! {
        <nav aria-label="Node views" class="flex gap-1 text-sm">
            {tabs.into_iter().map(|(mode, label)| {
                let current = move || view_mode.get() == mode;
                view! {
                    <a href=move || base.get() + &query_string(&[("view", mode)])
                        aria-current=move || current().then_some("page")
                        class=move || if current() {
                            "rounded-md bg-slate-200 px-2 py-0.5 font-medium dark:bg-slate-800"
                        } else {
                            "rounded-md px-2 py-0.5 text-sky-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-500 dark:text-sky-400 dark:hover:bg-slate-900"
                        }>
                        {label}
                    </a>
                }
            }).collect_view()}
        </nav>
    }
}

#[component]
fn ExecutionHeader(
    detail: ExecutionDetail,
    terminate: ServerAction<TerminateExecution>,
    terminate_open: RwSignal<bool>,
    archive: ServerAction<ArchiveExecution>,
) -> impl IntoView {
    let summary = detail.summary.clone();
    let workflow = summary.workflow.clone().map(|id| {
        let href = project_path(&id.project, &id.domain, &format!("/workflows/{}", encode_component(&id.name)));
        view! {
            <a href=href class="text-sky-700 hover:underline dark:text-sky-400">{id.name.clone()}</a>
            <span class="text-slate-500 dark:text-slate-400">{format!(" ({})", id.version)}</span>
        }
    });
    let launched_label = if summary.launched_task {
        "Task"
    } else {
        "Launch plan"
    };
    let launched_version = summary
        .launch_plan
        .as_ref()
        .map(|id| format!(" ({})", id.version));
    let launched = summary.clone();
    let (created_at, started_at, duration_millis) = (
        summary.created_at,
        summary.started_at,
        summary.duration_millis,
    );
    let principal = summary.principal.clone();
    let recovered = detail.mode == "RECOVERED";
    // A relaunch opens the launch form of the same version, prefilled.
    let relaunch_href = summary.launch_plan.as_ref().map(|id| {
        let segment = if summary.launched_task {
            "tasks"
        } else {
            "launchPlans"
        };
        project_path(
            &id.project,
            &id.domain,
            &format!(
                "/{segment}/{}/launch?relaunch={}",
                encode_component(&id.name),
                encode_component(&summary.name)
            ),
        )
    });
    view! {
        <div class="mt-2 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h2 class="flex flex-wrap items-center gap-3 break-all text-xl font-semibold tracking-tight">
                    {summary.name.clone()}
                    <PhaseBadge phase=summary.phase.clone() />
                </h2>
            </div>
            <div class="flex items-start gap-2">
                {relaunch_href.map(|href| view! {
                    <NeedsRole role="contributor" label="Relaunch">
                        <a href=href.clone() accesskey="r" aria-keyshortcuts="Alt+R"
                            class=styles::BUTTON_SECONDARY>
                            "Relaunch"
                        </a>
                    </NeedsRole>
                })}
                {(summary.phase == "FAILED").then(|| {
                    let name = summary.name.clone();
                    view! {
                        <NeedsRole role="contributor" label="Recover">
                            <RecoverControl name=name.clone() />
                        </NeedsRole>
                    }
                })}
                {
                    let (name, phase, archived) = (summary.name.clone(), summary.phase.clone(), detail.archived);
                    view! {
                        <NeedsRole role="contributor" label=if archived { "Unarchive" } else { "Archive" }>
                            <ArchiveControl name=name.clone() phase=phase.clone() archived archive />
                        </NeedsRole>
                    }
                }
                {
                    let phase = summary.phase.clone();
                    view! {
                        <NeedsRole role="contributor" label="Terminate">
                            <TerminateControl phase=phase.clone() open=terminate_open terminate />
                        </NeedsRole>
                    }
                }
            </div>
        </div>
        <dl class="mt-4 grid grid-cols-1 gap-x-8 gap-y-2 text-sm md:grid-cols-2">
            <HeaderField label=launched_label>
                <LaunchedLink execution=launched />
                <span class="text-slate-500 dark:text-slate-400">{launched_version}</span>
            </HeaderField>
            {workflow.map(|link| view! { <HeaderField label="Workflow">{link}</HeaderField> })}
            <HeaderField label="Created">
                {created_at.map(|millis| view! { <LocalTime epoch_millis=millis /> })}
            </HeaderField>
            <HeaderField label="Started">
                {match started_at {
                    Some(millis) => view! { <LocalTime epoch_millis=millis /> }.into_any(),
                    None => view! { <span class="text-slate-500">"not yet"</span> }.into_any(),
                }}
            </HeaderField>
            <HeaderField label="Duration"><DurationText millis=duration_millis /></HeaderField>
            {(!principal.is_empty()).then(|| view! {
                <HeaderField label="Launched by">{launched_by(&principal)}</HeaderField>
            })}
            {(!detail.mode.is_empty()).then(|| view! {
                <HeaderField label="Mode">{phase_label(&detail.mode)}</HeaderField>
            })}
            {detail.parent.map(|(parent, node_id)| view! {
                <HeaderField label="Started by">
                    <ExecutionLink execution=parent />
                    <span class="text-slate-500 dark:text-slate-400">{format!(" (node {node_id})")}</span>
                </HeaderField>
            })}
            {detail.reference.map(|original| view! {
                <HeaderField label=if recovered { "Recovered from" } else { "Relaunched from" }>
                    <ExecutionLink execution=original />
                </HeaderField>
            })}
            {(!detail.labels.is_empty()).then(|| view! {
                <HeaderField label="Labels">
                    <ul class="flex flex-wrap gap-1" aria-label="Labels">
                        {detail.labels.into_iter().map(|(key, value)| view! {
                            <li class="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs dark:bg-slate-800">{format!("{key}={value}")}</li>
                        }).collect_view()}
                    </ul>
                </HeaderField>
            })}
            {detail.cluster.clone().map(|cluster| view! {
                <HeaderField label="Cluster"><span class="break-all font-mono text-xs">{cluster}</span></HeaderField>
            })}
            {detail.cluster_label.clone().map(|label| view! {
                <HeaderField label="Cluster label"><span class="break-all font-mono text-xs">{label}</span></HeaderField>
            })}
            <LaunchSettings options=detail.options />
        </dl>
        {detail.awaiting_data_plane.then(|| view! {
            <p role="status" class="mt-4 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
                {waiting_for_data_plane(detail.cluster_label.as_deref())}
            </p>
        })}
        {detail.error.map(|error| view! {
            <div role="alert" class=format!("mt-4 {}", styles::ALERT)>
                <p class="font-semibold">
                    {match error.kind.as_str() {
                        "USER" => "The workflow's code failed".to_string(),
                        "SYSTEM" => "The platform failed to run the workflow".to_string(),
                        _ => "The execution failed".to_string(),
                    }}
                    {(!error.code.is_empty()).then(|| format!(" ({})", error.code))}
                </p>
                <pre class="mt-2 max-h-96 overflow-auto whitespace-pre-wrap font-mono text-xs">{error.message}</pre>
            </div>
        })}
        {detail.abort_cause.map(|cause| view! {
            <p class="mt-4 rounded-lg border border-slate-300 bg-slate-100 p-3 text-sm dark:border-slate-700 dark:bg-slate-900">
                {match detail.abort_principal {
                    Some(principal) => format!("Terminated by {principal}: {cause}"),
                    None => format!("Terminated: {cause}"),
                }}
            </p>
        })}
    }
}

/// Why an execution does not start: no live propeller serves its label (or,
/// unlabelled, none is connected at all).
fn waiting_for_data_plane(cluster_label: Option<&str>) -> String {
    match cluster_label {
        Some(label) => format!(
            "Waiting for a data plane labelled {label}: no running propeller serves this label, so the execution stays queued until one does."
        ),
        None => "Waiting for a data plane: no propeller is connected, so the execution stays queued until one is.".to_string(),
    }
}

/// The options an execution was launched with, those that were set.
#[component]
fn LaunchSettings(options: LaunchOptions) -> impl IntoView {
    let LaunchOptions {
        annotations,
        raw_output_prefix,
        max_parallelism,
        overwrite_cache,
        service_account,
        ..
    } = options;
    let text_field = |label: &'static str, value: String| {
        (!value.is_empty()).then(|| view! {
            <HeaderField label=label><span class="break-all font-mono text-xs">{value}</span></HeaderField>
        })
    };
    view! {
        {(!annotations.is_empty()).then(|| view! {
            <HeaderField label="Annotations">
                <ul class="flex flex-wrap gap-1" aria-label="Annotations">
                    {annotations.lines().map(|line| view! {
                        <li class="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs dark:bg-slate-800">{line.to_string()}</li>
                    }).collect_view()}
                </ul>
            </HeaderField>
        })}
        {text_field("Service account", service_account)}
        {text_field("Raw output prefix", raw_output_prefix)}
        {text_field("Max parallelism", max_parallelism)}
        {overwrite_cache.then(|| view! { <HeaderField label="Cache">"Overwrites cached outputs"</HeaderField> })}
    }
}

/// A link to another execution's page, named by the execution.
#[component]
fn ExecutionLink(execution: ExecutionRef) -> impl IntoView {
    let href = project_path(
        &execution.project,
        &execution.domain,
        &format!("/executions/{}", encode_component(&execution.name)),
    );
    view! { <a href=href class="font-mono text-sky-700 hover:underline dark:text-sky-400">{execution.name}</a> }
}

/// Recover: a new execution that reuses what succeeded in this failed one;
/// the page moves to it.
#[component]
fn RecoverControl(name: String) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let recover = ServerAction::<RecoverExecution>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(recovered)) = recover.value().get() {
            navigate(
                &project_path(
                    &project.get_untracked(),
                    &domain.get_untracked(),
                    &format!("/executions/{}", encode_component(&recovered)),
                ),
                Default::default(),
            );
        }
    });
    let pending = recover.pending();
    view! {
        <div class="max-w-xs text-right">
            <ActionForm action=recover>
                <input type="hidden" name="project" value=move || project.get() />
                <input type="hidden" name="domain" value=move || domain.get() />
                <input type="hidden" name="name" value=name />
                <button type="submit" disabled=move || pending.get()
                    title="Run it again, reusing the nodes that succeeded"
                    class=styles::BUTTON_SECONDARY>
                    {move || if pending.get() { "Recovering…" } else { "Recover" }}
                </button>
            </ActionForm>
            {move || recover.value().get().and_then(Result::err).map(|error| view! {
                <div class="mt-2 w-80 text-left"><ErrorNotice error /></div>
            })}
        </div>
    }
}

/// Archive (or bring back) a finished execution; a running one says why not.
#[component]
fn ArchiveControl(
    name: String,
    phase: String,
    archived: bool,
    archive: ServerAction<ArchiveExecution>,
) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let finished = is_terminal_execution_phase(&phase);
    let pending = archive.pending();
    let label = if archived { "Unarchive" } else { "Archive" };
    view! {
        <div class="max-w-xs text-right">
            <ActionForm action=archive>
                <input type="hidden" name="project" value=move || project.get() />
                <input type="hidden" name="domain" value=move || domain.get() />
                <input type="hidden" name="name" value=name />
                <input type="hidden" name="archived" value=if archived { "false" } else { "true" } />
                <button type="submit" disabled=move || !finished || pending.get()
                    aria-describedby=(!finished).then_some("archive-note")
                    class=styles::BUTTON_SECONDARY>
                    {label}
                </button>
            </ActionForm>
            {(!finished).then(|| view! {
                <p id="archive-note" class="mt-1 text-xs text-slate-500 dark:text-slate-400">"Only finished executions can be archived."</p>
            })}
            {archived.then(|| view! {
                <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">"Archived: hidden from the executions list unless archived ones are shown."</p>
            })}
            {move || archive.value().get().and_then(Result::err).map(|error| view! {
                <div class="mt-2 w-80 text-left"><ErrorNotice error /></div>
            })}
        </div>
    }
}

#[component]
fn HeaderField(#[prop(into)] label: String, children: Children) -> impl IntoView {
    view! {
        <div class="flex gap-2">
            <dt class="w-28 shrink-0 text-slate-500 dark:text-slate-400">{label}</dt>
            <dd class="min-w-0 break-all">{children()}</dd>
        </div>
    }
}

/// The Terminate button: opens the panel that asks for a cause, or says why
/// it cannot be used.
#[component]
fn TerminateControl(
    phase: String,
    open: RwSignal<bool>,
    terminate: ServerAction<TerminateExecution>,
) -> impl IntoView {
    if is_terminal_execution_phase(&phase) {
        // It ended while a cause was being typed: nothing is left to stop.
        open.set(false);
        return view! {
            <div class="max-w-xs text-right">
                <button type="button" disabled aria-describedby="terminate-note"
                    class=styles::BUTTON_UNAVAILABLE>
                    "Terminate"
                </button>
                <p id="terminate-note" class="mt-1 text-xs text-slate-500 dark:text-slate-400">
                    {format!("Already {}: only queued or running executions can be terminated.", phase_label(&phase).to_lowercase())}
                </p>
            </div>
        }
        .into_any();
    }
    let result = terminate.value();
    view! {
        <div>
            <div class="text-right">
                <button type="button" id=TERMINATE_TOGGLE
                    aria-expanded=move || if open.get() { "true" } else { "false" }
                    aria-controls="terminate-form"
                    on:click=move |_| open.update(|open| *open = !*open)
                    class=styles::BUTTON_DANGER>
                    "Terminate"
                </button>
            </div>
            {move || result.get().map(|outcome| match outcome {
                Ok(()) => view! { <p role="status" class="mt-1 text-right text-sm">"Termination requested."</p> }.into_any(),
                Err(error) => view! { <div class="mt-2 w-80"><ErrorNotice error /></div> }.into_any(),
            })}
        </div>
    }
    .into_any()
}

const TERMINATE_TOGGLE: &str = "terminate-toggle";

/// The panel the Terminate button opens: takes focus when opened; Escape or
/// Cancel closes it and gives focus back to the button.
#[component]
fn TerminatePanel(
    open: RwSignal<bool>,
    name: Memo<String>,
    terminate: ServerAction<TerminateExecution>,
) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let pending = terminate.pending();
    let cause = NodeRef::<leptos::html::Textarea>::new();
    // A cause typed for one execution is never sent for another.
    Effect::new(move |_| {
        name.track();
        if let Some(cause) = cause.get_untracked() {
            cause.set_value("");
        }
    });
    Effect::new(move |_| {
        if open.get() {
            // After the panel is shown: a hidden field takes no focus.
            request_animation_frame(move || {
                if let Some(cause) = cause.get_untracked() {
                    let _ = cause.focus();
                }
            });
        }
    });
    let close = move || {
        open.set(false);
        #[cfg(feature = "hydrate")]
        if let Some(toggle) = document()
            .get_element_by_id(TERMINATE_TOGGLE)
            .and_then(|element| {
                wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(element).ok()
            })
        {
            let _ = toggle.focus();
        }
    };
    let close_on_escape = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape" {
            event.stop_propagation();
            close();
        }
    };
    view! {
        <div class="relative h-0">
            <div id="terminate-form" on:keydown=close_on_escape class="absolute right-0 top-16 z-10 w-80 rounded-lg border border-slate-200 bg-white p-3 shadow-lg dark:border-slate-700 dark:bg-slate-900" class:hidden=move || !open.get()>
                <ActionForm action=terminate>
                    <input type="hidden" name="project" value=move || project.get() />
                    <input type="hidden" name="domain" value=move || domain.get() />
                    <input type="hidden" name="name" value=move || name.get() />
                    <label class="block text-sm">
                        <span class="font-medium">"Cause"</span>
                        <textarea name="cause" required rows="2" node_ref=cause
                            placeholder="Why stop it? The cause is kept with the execution."
                            class=styles::INPUT></textarea>
                    </label>
                    <div class="mt-2 flex justify-end gap-2">
                        <button type="button" on:click=move |_| close()
                            class="rounded-md px-3 py-1.5 text-sm hover:bg-slate-100 dark:hover:bg-slate-800">"Cancel"</button>
                        <button type="submit" disabled=move || pending.get()
                            class="rounded-md bg-red-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-800 disabled:opacity-60">
                            {move || if pending.get() { "Terminating…" } else { "Terminate execution" }}
                        </button>
                    </div>
                </ActionForm>
            </div>
        </div>
    }
}

/// Who launched an execution, as a person reads it: flytekit sends
/// `placeholder` when nobody is signed in (the stored value stays as it is).
fn launched_by(principal: &str) -> String {
    match principal {
        "placeholder" => "anonymous (no login)".to_string(),
        other => other.to_string(),
    }
}

#[component]
fn InputsOutputs(data: ExecutionData) -> impl IntoView {
    view! {
        <div class="grid gap-6 lg:grid-cols-2">
            <div>
                <h4 class="mb-1 text-lg font-semibold">"Inputs"</h4>
                {if data.inputs.is_empty() {
                    match data.inputs_uri {
                        Some(uri) => view! { <p class="text-sm">"Too large to show here; stored at " <code class="break-all text-xs">{uri}</code></p> }.into_any(),
                        None => view! { <p class="text-sm text-slate-500 dark:text-slate-400">"No inputs."</p> }.into_any(),
                    }
                } else {
                    view! { <ValueTable caption="Inputs" values=data.inputs /> }.into_any()
                }}
            </div>
            <div>
                <h4 class="mb-1 text-lg font-semibold">"Outputs"</h4>
                {if data.outputs.is_empty() {
                    match data.outputs_uri {
                        Some(uri) => view! { <p class="text-sm">"Too large to show here; stored at " <code class="break-all text-xs">{uri}</code></p> }.into_any(),
                        None => view! { <p class="text-sm text-slate-500 dark:text-slate-400">"No outputs (yet): they appear once the execution succeeds."</p> }.into_any(),
                    }
                } else {
                    view! { <ValueTable caption="Outputs" values=data.outputs /> }.into_any()
                }}
            </div>
        </div>
    }
}

/// The parents the table shows the children of, from `?expand=n1,n3`.
fn expanded_parents(expand: &str) -> Vec<String> {
    expand
        .split(',')
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .collect()
}

#[component]
fn NodeTable(
    nodes: Vec<NodeExecutionSummary>,
    page_path: Signal<String>,
    /// The page's path without the expanded parents.
    view_path: Signal<String>,
    expand: Memo<String>,
    open_node: Memo<String>,
    chosen_index: Memo<String>,
    /// The page's first row (`?from=`), kept when a parent opens or closes.
    from: usize,
) -> impl IntoView {
    if nodes.is_empty() {
        return view! { <p class="mt-3 text-sm text-slate-500 dark:text-slate-400">"No node has started yet."</p> }.into_any();
    }
    view! {
        <table class="mt-3 w-full text-left text-sm">
            <caption class="sr-only">"Nodes"</caption>
            <thead class="text-xs uppercase text-slate-500 dark:text-slate-400">
                <tr>
                    <th scope="col" class="py-2 pr-4">"Node"</th>
                    <th scope="col" class="py-2 pr-4">"Phase"</th>
                    <th scope="col" class="py-2 pr-4">"Cache"</th>
                    <th scope="col" class="py-2 pr-4">"Started"</th>
                    <th scope="col" class="py-2">"Duration"</th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                <For each=move || nodes.clone() key=|node| (node.node_id.clone(), node.map_index.as_ref().map(|index| (index.index, index.cache_status)), node.phase.clone(), node.cache.as_ref().map(|cache| cache.status)) children=move |node| {
                    if let Some(index) = node.map_index.clone() {
                        return view! { <MapIndexRow node_id=node.node_id.clone() index depth=node.depth page_path open_node chosen_index /> }.into_any();
                    }
                    let selected = {
                        let node_id = node.node_id.clone();
                        move || open_node.get() == node_id
                    };
                    let href = {
                        let node_id = node.node_id.clone();
                        move || append_query(&page_path.get(), &[("node", &node_id)])
                    };
                    let row_class = {
                        let selected = selected.clone();
                        move || if selected() { "align-top bg-sky-50 dark:bg-sky-950" } else { "align-top" }
                    };
                    let toggle = node.has_children.then(|| {
                        let node_id = node.node_id.clone();
                        let expanded = {
                            let node_id = node_id.clone();
                            move || expand.get().split(',').any(|id| id == node_id)
                        };
                        let toggle_href = {
                            let node_id = node_id.clone();
                            move || {
                                let current = expand.get();
                                let mut ids: Vec<&str> = current.split(',').filter(|id| !id.is_empty()).collect();
                                match ids.iter().position(|id| *id == node_id) {
                                    Some(at) => {
                                        ids.remove(at);
                                    }
                                    None => ids.push(&node_id),
                                }
                                let from = if from == 0 { String::new() } else { from.to_string() };
                                append_query(&view_path.get(), &[("expand", &ids.join(",")), ("from", &from), ("node", &open_node.get())])
                            }
                        };
                        let label = {
                            let expanded = expanded.clone();
                            let node_id = node_id.clone();
                            move || format!("{} children of {node_id}", if expanded() { "Hide" } else { "Show" })
                        };
                        let expanded_attribute = expanded.clone();
                        view! {
                            <a href=toggle_href aria-label=label aria-expanded=move || if expanded_attribute() { "true" } else { "false" }
                                class="mr-1 inline-block w-4 text-slate-500 hover:text-sky-700 dark:text-slate-400">
                                {move || if expanded() { "▾" } else { "▸" }}
                            </a>
                        }
                    });
                    let indent = format!("padding-left: {}rem", node.depth);
                    view! {
                        <tr class=row_class>
                            <td class="py-2 pr-4 font-mono" style=indent>
                                {toggle}
                                <a href=href aria-current=move || selected().then_some("true") data-node-link=node.node_id.clone()
                                    class="text-sky-700 hover:underline focus-visible:outline-2 focus-visible:outline-sky-500 dark:text-sky-400">
                                    {node.node_id.clone()}
                                </a>
                                {node.is_failure_handler.then(|| view! {
                                    <span class="ml-2 rounded border border-dashed border-slate-400 px-1 font-sans text-xs text-slate-600 dark:text-slate-300"
                                        title="The workflow's failure handler (on_failure): it runs only once the workflow has failed, and the workflow still fails">
                                        "on failure"
                                    </span>
                                })}
                                {node.child_execution.clone().map(|child| view! {
                                    <span class="ml-2 font-sans text-xs text-slate-500 dark:text-slate-400">"started "</span>
                                    <ExecutionLink execution=child />
                                })}
                                {node.error.clone().map(|message| view! {
                                    <p class="mt-1 whitespace-pre-wrap font-sans text-xs text-red-800 dark:text-red-300">{message}</p>
                                })}
                            </td>
                            <td class="py-2 pr-4"><PhaseBadge phase=node.phase.clone() /></td>
                            <td class="py-2 pr-4">{node.cache.as_ref().map(|cache| view! { <CacheBadge status=cache.status /> })}</td>
                            <td class="py-2 pr-4">{node.started_at.map(|millis| view! { <LocalTime epoch_millis=millis /> })}</td>
                            <td class="py-2"><DurationText millis=node.duration_millis /></td>
                        </tr>
                    }.into_any()
                } />
            </tbody>
        </table>
    }
    .into_any()
}

/// The row of one index of an open map node: its phase and retry, opening
/// the map node's drawer on that index's log.
#[component]
fn MapIndexRow(
    node_id: String,
    index: MapIndexView,
    depth: u32,
    page_path: Signal<String>,
    open_node: Memo<String>,
    chosen_index: Memo<String>,
) -> impl IntoView {
    let number = index.index.to_string();
    let selected = {
        let (node_id, number) = (node_id.clone(), number.clone());
        move || open_node.get() == node_id && chosen_index.get() == number
    };
    let href = {
        let (node_id, number) = (node_id.clone(), number.clone());
        move || append_query(&page_path.get(), &[("node", &node_id), ("index", &number)])
    };
    let row_class = {
        let selected = selected.clone();
        move || {
            if selected() {
                "align-top bg-sky-50 dark:bg-sky-950"
            } else {
                "align-top"
            }
        }
    };
    let retry = (index.retry_attempt > 0).then(|| view! {
        <span class="ml-2 font-sans text-xs text-slate-500 dark:text-slate-400">{format!("retry {}", index.retry_attempt)}</span>
    });
    view! {
        <tr class=row_class data-map-index=number.clone()>
            <td class="py-2 pr-4 font-mono" style=format!("padding-left: {}rem", depth + 1)>
                <a href=href aria-current=move || selected().then_some("true")
                    class="text-sky-700 hover:underline focus-visible:outline-2 focus-visible:outline-sky-500 dark:text-sky-400">
                    {format!("{node_id}[{number}]")}
                </a>
                {retry}
            </td>
            <td class="py-2 pr-4"><PhaseBadge phase=index.phase.clone() /></td>
            <td class="py-2 pr-4">{index.cache_status.map(|status| view! { <CacheBadge status /> })}</td>
            <td class="py-2 pr-4"></td>
            <td class="py-2"></td>
        </tr>
    }
}

/// Where a page of the node table sits among all its rows, with links to
/// the pages before and after it (`?from=`), when there are any.
#[component]
fn NodePager(
    from: usize,
    shown: usize,
    more: bool,
    view_path: Signal<String>,
    expand: Memo<String>,
) -> impl IntoView {
    if from == 0 && !more {
        return ().into_any();
    }
    let page_href = move |first: usize| {
        let first = if first == 0 {
            String::new()
        } else {
            first.to_string()
        };
        append_query(
            &view_path.get(),
            &[("expand", &expand.get()), ("from", &first)],
        )
    };
    let previous = (from > 0).then(|| {
        let href = move || page_href(from.saturating_sub(NODE_EXECUTIONS_LIMIT));
        view! { <a href=href rel="prev" class="text-sky-700 hover:underline dark:text-sky-400">{format!("Previous {NODE_EXECUTIONS_LIMIT}")}</a> }
    });
    let next = more.then(|| {
        let href = move || page_href(from + shown);
        view! { <a href=href rel="next" class="text-sky-700 hover:underline dark:text-sky-400">{format!("Next {NODE_EXECUTIONS_LIMIT}")}</a> }
    });
    view! {
        <nav aria-label="Pages of nodes" class="mt-3 flex items-center gap-4 text-sm">
            <span class="text-slate-500 dark:text-slate-400">{format!("Rows {}–{}", from + 1, from + shown)}</span>
            {previous}
            {next}
        </nav>
    }
    .into_any()
}

/// The side panel of one node: its phase, gate, attempts, data and the log of
/// the chosen attempt. Closed by its close link or Esc. Its code (and the log
/// viewer's) is loaded the first time a node is opened.
#[lazy]
pub(crate) fn node_drawer_part(
    node_id: String,
    page_path: Signal<String>,
    chosen_attempt: Memo<String>,
    chosen_index: Memo<String>,
    detail: Resource<Result<Option<NodeDetail>, ConsoleError>>,
    gate_signal: ServerAction<SetGateSignal>,
) -> AnyView {
    view! { <NodeDrawer node_id page_path chosen_attempt chosen_index detail gate_signal /> }
        .into_any()
}

/// Whose log the drawer shows: an attempt of the node, or of one index of
/// a map node.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LogChoice {
    attempt: u32,
    map_index: Option<u32>,
    inline: bool,
}

impl LogChoice {
    fn label(&self) -> String {
        match self.map_index {
            Some(index) => format!("index {index}, attempt {}", self.attempt + 1),
            None => format!("attempt {}", self.attempt + 1),
        }
    }
}

#[component]
fn NodeDrawer(
    node_id: String,
    page_path: Signal<String>,
    chosen_attempt: Memo<String>,
    chosen_index: Memo<String>,
    detail: Resource<Result<Option<NodeDetail>, ConsoleError>>,
    gate_signal: ServerAction<SetGateSignal>,
) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    // Here rather than in the summary, which is drawn anew on every pushed
    // change: the outcome of an eviction stays shown.
    let node_eviction = ServerAction::<EvictCachedResult>::new();
    #[cfg(feature = "hydrate")]
    {
        let navigate = leptos_router::hooks::use_navigate();
        let handle = window_event_listener(leptos::ev::keydown, move |event| {
            if event.key() == "Escape" {
                navigate(&page_path.get_untracked(), Default::default());
            }
        });
        on_cleanup(move || handle.remove());
    }
    // The log viewer is rendered in the browser only, and only again when the
    // chosen attempt changes, not on every refresh of the details.
    let (mounted, set_mounted) = signal(false);
    Effect::new(move |_| set_mounted.set(true));
    // A hit ran no task: its log is the source execution's. Known only once
    // mounted, as the log's choice is, so hydration meets the server's text.
    let read_from_cache = Memo::new(move |_| {
        mounted.get()
            && detail
                .get()
                .and_then(Result::ok)
                .flatten()
                .and_then(|detail| detail.cache)
                .is_some_and(|cache| cache.status == CacheStatus::Hit)
    });
    let log_attempt = Memo::new(move |_| {
        if !mounted.get() {
            return None;
        }
        let detail = detail.get()?.ok()??;
        let inline = detail.logs_inline;
        // A chosen index of a map node reads that index's newest retry.
        if let Ok(chosen) = chosen_index.get().parse::<u32>()
            && let Some(index) = detail.attempts.last().and_then(|attempt| {
                attempt
                    .map_indexes
                    .iter()
                    .find(|index| index.index == chosen)
            })
        {
            return Some(LogChoice {
                attempt: index.retry_attempt,
                map_index: Some(chosen),
                inline,
            });
        }
        let attempt = chosen_attempt
            .get()
            .parse::<u32>()
            .ok()
            .filter(|chosen| detail.attempts.iter().any(|a| a.retry_attempt == *chosen))
            .or_else(|| detail.attempts.last().map(|a| a.retry_attempt))?;
        Some(LogChoice {
            attempt,
            map_index: None,
            inline,
        })
    });
    let title_id = "node-drawer-title";
    let heading = node_id.clone();
    let log_node_id = node_id.clone();
    // Keyboard users land in the drawer when it opens, and back on the
    // node's row when it closes.
    let title_ref = NodeRef::<leptos::html::H2>::new();
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| {
            if let Some(title) = title_ref.get() {
                let _ = title.focus();
            }
        });
        let closed_node = node_id.clone();
        on_cleanup(move || {
            let link = document()
                .query_selector(&format!("[data-node-link=\"{closed_node}\"]"))
                .ok()
                .flatten();
            if let Some(link) = link.and_then(|element| {
                wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(element).ok()
            }) {
                let _ = link.focus();
            }
        });
    }
    view! {
        <aside role="dialog" aria-modal="false" aria-labelledby=title_id data-part=NODE_DRAWER
            class="fixed inset-y-0 right-0 z-20 w-full max-w-2xl overflow-y-auto border-l border-slate-200 bg-white p-6 shadow-2xl dark:border-slate-800 dark:bg-slate-950">
            <div class="flex items-start justify-between gap-4">
                <h2 id=title_id node_ref=title_ref tabindex="-1" class="break-all text-lg font-semibold focus:outline-none">
                    <span class="text-slate-500 dark:text-slate-400">"Node "</span>
                    <span class="font-mono">{heading}</span>
                </h2>
                <a href=move || page_path.get() aria-label="Close node details" aria-keyshortcuts="Escape"
                    class="rounded-md px-2 py-1 text-lg leading-none hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-500 dark:hover:bg-slate-800">
                    "×"
                </a>
            </div>
            <Transition fallback=|| view! { <Loading what="the node" /> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(Some(detail)) => view! {
                            <NodeSummary detail page_path gate_signal node_eviction />
                        }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <div class="mt-4"><ErrorNotice error /></div> }.into_any(),
                    }
                })}
            </Transition>
            <section class="mt-6" aria-labelledby="node-log-heading">
                <h3 id="node-log-heading" class="text-base font-semibold">
                    "Log"
                    {move || log_attempt.get().map(|choice| view! {
                        <span class="ml-2 text-sm font-normal text-slate-500 dark:text-slate-400">{choice.label()}</span>
                    })}
                </h3>
                {move || match log_attempt.get() {
                    Some(choice) if choice.inline => {
                        let url = format!(
                            "/api/live/logs/{}/{}/{}/{}/{}{}",
                            encode_component(&project.get_untracked()),
                            encode_component(&domain.get_untracked()),
                            encode_component(&name.get_untracked()),
                            encode_component(&log_node_id),
                            choice.attempt,
                            choice.map_index.map(|index| format!("?index={index}")).unwrap_or_default(),
                        );
                        view! { <LogViewer url label=format!("Log of {}", choice.label()) /> }.into_any()
                    }
                    Some(_) => view! {
                        <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">"This console streams no logs; open the attempt's log links above."</p>
                    }.into_any(),
                    None if read_from_cache.get() => view! {
                        <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">"No log: the outputs were read from the cache and no task ran. The source execution's node has the log of the run that produced them."</p>
                    }.into_any(),
                    None => view! {
                        <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">"No task attempt yet: logs appear once the node runs a task."</p>
                    }.into_any(),
                }}
            </section>
        </aside>
    }
}

#[component]
fn NodeSummary(
    detail: NodeDetail,
    page_path: Signal<String>,
    gate_signal: ServerAction<SetGateSignal>,
    node_eviction: ServerAction<EvictCachedResult>,
) -> impl IntoView {
    let node_id = detail.node_id.clone();
    let not_cacheable = detail
        .task
        .as_ref()
        .and_then(|task| task.not_cacheable.clone());
    let cache_section = (detail.cache.is_some() || not_cacheable.is_some()).then(|| {
        view! {
            <NodeCache cache=detail.cache.clone() not_cacheable node_id=detail.node_id.clone() node_eviction />
        }
    });
    view! {
        <div class="mt-3 flex flex-wrap items-center gap-x-6 gap-y-2 text-sm">
            <PhaseBadge phase=detail.phase.clone() />
            <span>
                <span class="text-slate-500 dark:text-slate-400">"Started "</span>
                {match detail.started_at {
                    Some(millis) => view! { <LocalTime epoch_millis=millis /> }.into_any(),
                    None => view! { <span>"not yet"</span> }.into_any(),
                }}
            </span>
            <span>
                <span class="text-slate-500 dark:text-slate-400">"Duration "</span>
                <DurationText millis=detail.duration_millis />
            </span>
        </div>
        {cache_section}
        {detail.error.clone().map(|message| view! {
            <div role="alert" class=format!("mt-4 {}", styles::ALERT)>
                <p class="font-semibold">"The node failed"</p>
                <pre class="mt-1 max-h-64 overflow-auto whitespace-pre-wrap font-mono text-xs">{message}</pre>
            </div>
        })}
        {detail.gate.clone().map(|gate| {
            let phase = detail.phase.clone();
            let waiting = gate.waiting && !matches!(gate.kind, GateKind::Sleep);
            if waiting {
                view! {
                    <div class="mt-4">
                        <NeedsRole role="contributor" label="Answer this gate">
                            <GateControls gate=gate.clone() phase=phase.clone() gate_signal />
                        </NeedsRole>
                    </div>
                }
                .into_any()
            } else {
                view! { <GateControls gate phase gate_signal /> }.into_any()
            }
        })}
        {(!detail.attempts.is_empty()).then(|| view! {
            <AttemptTable attempts=detail.attempts.clone() node_id page_path />
        })}
        {detail
            .attempts
            .last()
            .filter(|attempt| !attempt.map_indexes.is_empty())
            .map(|attempt| view! { <MapIndexes indexes=attempt.map_indexes.clone() node_id=detail.node_id.clone() page_path /> })}
        {detail.task.clone().map(|task| view! { <TaskTemplate task /> })}
        <section class="mt-6 grid gap-4" aria-label="Node inputs and outputs">
            <div>
                <h3 class="mb-1 text-base font-semibold">"Inputs"</h3>
                {if detail.inputs.is_empty() {
                    view! { <p class="text-sm text-slate-500 dark:text-slate-400">"No inputs."</p> }.into_any()
                } else {
                    view! { <ValueTable caption="Node inputs" values=detail.inputs.clone() /> }.into_any()
                }}
            </div>
            <div>
                <h3 class="mb-1 text-base font-semibold">"Outputs"</h3>
                {if detail.outputs.is_empty() {
                    view! { <p class="text-sm text-slate-500 dark:text-slate-400">"No outputs (yet)."</p> }.into_any()
                } else {
                    view! { <ValueTable caption="Node outputs" values=detail.outputs.clone() /> }.into_any()
                }}
            </div>
        </section>
    }
}

#[component]
fn AttemptTable(
    attempts: Vec<AttemptView>,
    node_id: String,
    page_path: Signal<String>,
) -> impl IntoView {
    view! {
        <table class="mt-6 w-full text-left text-sm">
            <caption class="mb-1 text-left text-base font-semibold">"Attempts"</caption>
            <thead class="text-xs uppercase text-slate-500 dark:text-slate-400">
                <tr>
                    <th scope="col" class="py-2 pr-4">"Attempt"</th>
                    <th scope="col" class="py-2 pr-4">"Phase"</th>
                    <th scope="col" class="py-2 pr-4">"Started"</th>
                    <th scope="col" class="py-2">"Duration"</th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                {attempts.into_iter().map(|attempt| {
                    let number = attempt.retry_attempt.to_string();
                    let href = {
                        let node_id = node_id.clone();
                        move || append_query(&page_path.get(), &[("node", &node_id), ("attempt", &number)])
                    };
                    view! {
                        <tr class="align-top">
                            <td class="py-2 pr-4">
                                <a href=href class="text-sky-700 hover:underline dark:text-sky-400">
                                    {format!("Attempt {}", attempt.retry_attempt + 1)}
                                </a>
                                {(!attempt.log_links.is_empty()).then(|| view! {
                                    <ul class="mt-1 text-xs">
                                        {attempt.log_links.iter().map(|(name, uri)| view! {
                                            <li><a href=uri.clone() target="_blank" rel="noopener" class="text-sky-700 hover:underline dark:text-sky-400">{if name.is_empty() { "Log link".to_string() } else { name.clone() }}</a></li>
                                        }).collect_view()}
                                    </ul>
                                })}
                            </td>
                            <td class="py-2 pr-4">
                                <PhaseBadge phase=attempt.phase.clone() />
                                {attempt.error.clone().map(|message| view! {
                                    <pre class="mt-1 max-h-40 overflow-auto whitespace-pre-wrap font-mono text-xs text-red-800 dark:text-red-300">{message}</pre>
                                })}
                            </td>
                            <td class="py-2 pr-4">{attempt.started_at.map(|millis| view! { <LocalTime epoch_millis=millis /> })}</td>
                            <td class="py-2"><DurationText millis=attempt.duration_millis /></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// A map task's indexes: how many are in each phase, then each index.
#[component]
fn MapIndexes(
    indexes: Vec<MapIndexView>,
    node_id: String,
    page_path: Signal<String>,
) -> impl IntoView {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for index in &indexes {
        match counts.iter_mut().find(|(phase, _)| *phase == index.phase) {
            Some((_, count)) => *count += 1,
            None => counts.push((index.phase.clone(), 1)),
        }
    }
    let summary = counts
        .iter()
        .map(|(phase, count)| format!("{count} {}", phase_label(phase).to_lowercase()))
        .collect::<Vec<_>>()
        .join(", ");
    // An uncached map reports every index as not cached: nothing to count.
    let cache_summary = cache_counts(
        indexes
            .iter()
            .filter_map(|index| index.cache_status)
            .filter(|status| *status != CacheStatus::Disabled),
    );
    view! {
        <section class="mt-6" aria-labelledby="map-indexes-heading">
            <h3 id="map-indexes-heading" class="text-base font-semibold">{format!("Map indexes ({})", indexes.len())}</h3>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{summary}</p>
            {cache_summary.map(|counts| view! {
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{format!("Cache: {counts}")}</p>
            })}
            <ol class="mt-2 flex max-h-64 flex-wrap gap-1 overflow-auto text-xs" aria-label="Each index">
                {indexes.into_iter().map(|index| {
                    let colours = tone_colours(phase_tone(&index.phase));
                    let cached = index.cache_status.filter(|status| *status != CacheStatus::Disabled);
                    let label = format!(
                        "index {}: {}{}{}",
                        index.index,
                        phase_label(&index.phase).to_lowercase(),
                        if index.retry_attempt > 0 { format!(", retry {}", index.retry_attempt) } else { String::new() },
                        cached.map(|status| format!(", {}", status.label().to_lowercase())).unwrap_or_default()
                    );
                    let href = {
                        let (node_id, number) = (node_id.clone(), index.index.to_string());
                        move || append_query(&page_path.get(), &[("node", &node_id), ("index", &number)])
                    };
                    view! {
                        <li>
                            <a href=href title=label.clone() aria-label=label
                                class=format!("block min-w-8 rounded px-1 py-0.5 text-center font-mono ring-1 ring-inset hover:underline {colours}")>
                                {index.index}
                                {cached.map(|status| view! { <span aria-hidden="true" class="ml-0.5">{status.symbol()}</span> })}
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

/// What the cache did for a node: its status and what it means, the
/// execution a hit came from, why a task is never cached, and evicting its
/// cached result.
#[component]
fn NodeCache(
    cache: Option<NodeCacheView>,
    /// Why the node's task is never cached, when its template says so.
    not_cacheable: Option<String>,
    node_id: String,
    node_eviction: ServerAction<EvictCachedResult>,
) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    let status = cache.as_ref().map(|cache| cache.status);
    let key = cache.and_then(|cache| cache.key);
    let explanation = match (&not_cacheable, status) {
        // The template is the more precise reason a run was not cached.
        (Some(reason), None | Some(CacheStatus::Disabled)) => format!("Not cacheable: {reason}."),
        (_, Some(status)) => status.meaning().to_string(),
        (None, None) => String::new(),
    };
    let source = key
        .as_ref()
        .filter(|_| status == Some(CacheStatus::Hit))
        .and_then(|key| key.source.clone())
        .map(|(execution, source_node)| {
            let href = project_path(
                &execution.project,
                &execution.domain,
                &format!("/executions/{}", encode_component(&execution.name)),
            );
            view! {
                <a href=href class="text-sky-700 hover:underline dark:text-sky-400">"View source execution"</a>
                <span class="text-xs text-slate-500 dark:text-slate-400">{format!("{}, node {source_node}", execution.name)}</span>
            }
        });
    let entry = key.as_ref().map(|key| {
        view! {
            <dl class="mt-2 grid gap-1 text-xs">
                <div class="flex gap-2">
                    <dt class="w-16 shrink-0 text-slate-500 dark:text-slate-400">"Dataset"</dt>
                    <dd class="min-w-0 break-all font-mono">{format!("{} ({})", key.dataset.name, key.dataset.version)}</dd>
                </div>
                <div class="flex gap-2">
                    <dt class="w-16 shrink-0 text-slate-500 dark:text-slate-400">"Tag"</dt>
                    <dd class="min-w-0 break-all font-mono">{key.tag.clone()}</dd>
                </div>
            </dl>
        }
    });
    let evictable = key.is_some() && status.is_some_and(CacheStatus::has_entry);
    let eviction = evictable.then(|| {
        let on_confirm = Callback::new(move |()| {
            node_eviction.dispatch(EvictCachedResult {
                project: project.get_untracked(),
                domain: domain.get_untracked(),
                name: name.get_untracked(),
                node_id: node_id.clone(),
            });
        });
        view! {
            <div class="mt-3">
                <NeedsRole role="contributor" label="Evict cached result">
                    <ConfirmedEviction label="Evict cached result"
                        question="Evict this cached result? The next run of this task with the same inputs, in any execution, runs it again instead of reading these outputs."
                        nothing_left="this result is no longer in the cache."
                        pending=node_eviction.pending().into()
                        outcome=Signal::derive(move || node_eviction.value().get())
                        on_confirm />
                </NeedsRole>
            </div>
        }
    });
    view! {
        <section class="mt-4 text-sm" aria-labelledby="node-cache-heading">
            <h3 id="node-cache-heading" class="text-base font-semibold">"Cache"</h3>
            <div class="mt-1 flex flex-wrap items-center gap-x-3 gap-y-1">
                {status.map(|status| view! { <CacheBadge status /> })}
                {source}
            </div>
            <p class="mt-1 text-slate-600 dark:text-slate-400">{explanation}</p>
            {entry}
            {eviction}
        </section>
    }
}

/// Evicting everything an execution wrote to the cache, after asking.
#[component]
fn ExecutionCacheEviction(
    name: Memo<String>,
    eviction: ServerAction<EvictExecutionCache>,
) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let on_confirm = Callback::new(move |()| {
        eviction.dispatch(EvictExecutionCache {
            project: project.get_untracked(),
            domain: domain.get_untracked(),
            name: name.get_untracked(),
        });
    });
    view! {
        <ConfirmedEviction label="Evict all cached results of this execution"
            question="Evict every result this execution wrote to the cache? Later runs with the same inputs run those tasks again. Results it read from earlier runs stay cached: evict those from their nodes."
            nothing_left="this execution has no cached result left in the catalog."
            pending=eviction.pending().into()
            outcome=Signal::derive(move || eviction.value().get())
            on_confirm />
    }
}

/// What the node's task is: type, image, command, resources, retries, cache.
#[component]
fn TaskTemplate(task: TaskTemplateView) -> impl IntoView {
    let row = |label: &'static str, value: String| {
        view! {
            <div class="flex gap-2">
                <dt class="w-28 shrink-0 text-slate-500 dark:text-slate-400">{label}</dt>
                <dd class="min-w-0 break-all font-mono text-xs">{value}</dd>
            </div>
        }
    };
    view! {
        <details class="mt-6 text-sm">
            <summary class="cursor-pointer text-base font-semibold">"Task template"</summary>
            <dl class="mt-2 grid gap-1">
                {row("Task", format!("{} ({})", task.name, task.version))}
                {row("Type", task.kind.clone())}
                {task.image.clone().map(|image| row("Image", image))}
                {(!task.command.is_empty()).then(|| row("Command", task.command.join(" ")))}
                {task.resources.iter().map(|(name, value)| row("Resource", format!("{name}: {value}"))).collect_view()}
                {row("Retries", task.retries.to_string())}
                {task.timeout_millis.map(|millis| row("Timeout", format!("{} s", millis / 1000)))}
                {row("Cache", match (&task.not_cacheable, &task.cache_version) {
                    (Some(reason), _) => format!("off: {reason}"),
                    (None, Some(version)) => format!("on, version {version}"),
                    (None, None) => "off".to_string(),
                })}
                {task.interruptible.then(|| row("Interruptible", "yes".to_string()))}
            </dl>
        </details>
    }
}

/// Approve/Reject for an approval gate, a typed field for an input gate.
#[component]
fn GateControls(
    gate: GateView,
    phase: String,
    gate_signal: ServerAction<SetGateSignal>,
) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    let pending = gate_signal.pending();
    let signal_id = gate.signal_id.clone();
    let send = move |value: String| {
        gate_signal.dispatch(SetGateSignal {
            project: project.get_untracked(),
            domain: domain.get_untracked(),
            name: name.get_untracked(),
            signal_id: signal_id.clone(),
            value,
        });
    };
    let outcome = move || {
        gate_signal.value().get().map(|result| match result {
            Ok(()) => view! { <p role="status" class="mt-2 text-sm">"Sent; the gate continues in a moment."</p> }.into_any(),
            Err(error) => view! { <div class="mt-2"><ErrorNotice error /></div> }.into_any(),
        })
    };
    let frame = "mt-4 rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm dark:border-amber-800 dark:bg-amber-950";
    if !gate.waiting {
        let text = match (&gate.kind, is_terminal_node_phase(&phase)) {
            (GateKind::Sleep, _) => "A sleep gate: it continues on its own.".to_string(),
            (_, true) => format!(
                "Gate {}: {}.",
                gate.signal_id,
                phase_label(&phase).to_lowercase()
            ),
            (_, false) => format!("Gate {}: not waiting yet.", gate.signal_id),
        };
        return view! { <p class="mt-4 text-sm text-slate-600 dark:text-slate-400">{text}</p> }
            .into_any();
    }
    match gate.kind {
        GateKind::Sleep => view! {
            <p class=frame>"Sleeping: it continues on its own."</p>
        }
        .into_any(),
        GateKind::Approve => {
            let (approve, reject) = (send.clone(), send);
            view! {
                <section class=frame aria-labelledby="gate-heading">
                    <h3 id="gate-heading" class="font-semibold">{format!("Waiting for approval: {}", gate.signal_id)}</h3>
                    <p class="mt-1">"Approve to pass the value on; reject to fail this node."</p>
                    <div class="mt-3 flex gap-2">
                        <button type="button" disabled=move || pending.get() on:click=move |_| approve("true".into())
                            class=styles::BUTTON_APPROVE>"Approve"</button>
                        <button type="button" disabled=move || pending.get() on:click=move |_| reject("false".into())
                            class=styles::BUTTON_DANGER>"Reject"</button>
                    </div>
                    {outcome}
                </section>
            }.into_any()
        }
        GateKind::Input { type_name, kind } => {
            let (text, set_text) = signal(String::new());
            let (problem, set_problem) = signal(None::<String>);
            let hint = kind.hint();
            let on_submit = move |event: leptos::ev::SubmitEvent| {
                event.prevent_default();
                let value = text.get_untracked();
                // Checked here first so a bad value is refused next to its field.
                match kind.parse_field(&value) {
                    Ok(Some(_)) => {
                        set_problem.set(None);
                        send(value);
                    }
                    Ok(None) => set_problem.set(Some("give a value".into())),
                    Err(reason) => set_problem.set(Some(reason)),
                }
            };
            view! {
                <section class=frame aria-labelledby="gate-heading">
                    <h3 id="gate-heading" class="font-semibold">{format!("Waiting for input: {}", gate.signal_id)}</h3>
                    <form class="mt-2" on:submit=on_submit>
                        <label for="gate-input" class="block font-medium">{format!("Value ({type_name})")}</label>
                        <input id="gate-input" type="text" autocomplete="off"
                            aria-invalid=move || problem.get().map(|_| "true")
                            aria-describedby="gate-input-hint"
                            on:input=move |event| set_text.set(event_target_value(&event))
                            prop:value=move || text.get()
                            class=format!("{} font-mono", styles::INPUT) />
                        <p id="gate-input-hint" class="mt-1 text-xs text-slate-600 dark:text-slate-400">{hint}</p>
                        {move || problem.get().map(|reason| view! { <p role="alert" class="mt-1 text-xs text-red-800 dark:text-red-300">{reason}</p> })}
                        <button type="submit" disabled=move || pending.get()
                            class=format!("mt-2 {}", styles::BUTTON_PRIMARY)>"Submit"</button>
                    </form>
                    {outcome}
                </section>
            }.into_any()
        }
    }
}

fn is_terminal_node_phase(phase: &str) -> bool {
    matches!(
        phase,
        "SUCCEEDED" | "FAILED" | "ABORTED" | "SKIPPED" | "TIMED_OUT" | "RECOVERED"
    )
}

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{
    ExecutionData, ExecutionDetail, NODE_EXECUTIONS_LIMIT, NodeExecutionSummary,
    TerminateExecution, get_execution, get_execution_data, list_node_executions,
};
use crate::components::live::{LiveIndicator, use_live_updates};
use crate::components::phase::{PhaseBadge, is_terminal_execution_phase, phase_label};
use crate::components::states::{ErrorNotice, Loading};
use crate::components::time::{DurationText, LocalTime};
use crate::components::values::ValueTable;
use crate::pages::executions::LaunchedLink;
use crate::pages::project::{ProjectHeader, use_project_domain};
use crate::pages::{encode_component, project_path};

/// `/console/projects/{project}/domains/{domain}/executions/{name}`.
#[component]
pub fn ExecutionPage() -> impl IntoView {
    let params = use_params_map();
    let (project, domain) = use_project_domain();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    let terminate = ServerAction::<TerminateExecution>::new();
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
            terminate.version().get(),
        )
    };
    let execution = Resource::new(key, |(project, domain, name, _, _)| {
        get_execution(project, domain, name)
    });
    let data = Resource::new(key, |(project, domain, name, _, _)| {
        get_execution_data(project, domain, name)
    });
    let nodes = Resource::new(key, |(project, domain, name, _, _)| {
        list_node_executions(project, domain, name)
    });

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
        <Transition fallback=|| view! { <Loading what="the execution" /> }>
            {move || Suspend::new(async move {
                match execution.await {
                    Ok(detail) => view! { <ExecutionHeader detail terminate /> }.into_any(),
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
            <h3 id="nodes-heading" class="text-lg font-semibold">"Nodes"</h3>
            <Transition fallback=|| view! { <Loading what="nodes" /> }>
                {move || Suspend::new(async move {
                    match nodes.await {
                        Ok(nodes) => view! { <NodeTable nodes /> }.into_any(),
                        Err(error) => view! { <div class="mt-3"><ErrorNotice error /></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ExecutionHeader(
    detail: ExecutionDetail,
    terminate: ServerAction<TerminateExecution>,
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
                    <a href=href accesskey="r" aria-keyshortcuts="Alt+R"
                        class="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-500 dark:border-slate-700 dark:hover:bg-slate-800">
                        "Relaunch"
                    </a>
                })}
                <TerminateControl phase=summary.phase.clone() name=summary.name.clone() terminate />
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
                <HeaderField label="Launched by">{principal.clone()}</HeaderField>
            })}
            {(!detail.mode.is_empty()).then(|| view! {
                <HeaderField label="Mode">{phase_label(&detail.mode)}</HeaderField>
            })}
        </dl>
        {detail.error.map(|error| view! {
            <div role="alert" class="mt-4 rounded-lg border border-red-300 bg-red-50 p-4 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
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

#[component]
fn HeaderField(#[prop(into)] label: String, children: Children) -> impl IntoView {
    view! {
        <div class="flex gap-2">
            <dt class="w-28 shrink-0 text-slate-500 dark:text-slate-400">{label}</dt>
            <dd class="min-w-0 break-all">{children()}</dd>
        </div>
    }
}

/// The Terminate button: asks for a cause, or says why it cannot be used.
#[component]
fn TerminateControl(
    phase: String,
    name: String,
    terminate: ServerAction<TerminateExecution>,
) -> impl IntoView {
    let (project, domain) = use_project_domain();
    if is_terminal_execution_phase(&phase) {
        return view! {
            <div class="max-w-xs text-right">
                <button type="button" disabled aria-describedby="terminate-note"
                    class="cursor-not-allowed rounded-md border border-slate-300 px-3 py-1.5 text-sm text-slate-400 dark:border-slate-700">
                    "Terminate"
                </button>
                <p id="terminate-note" class="mt-1 text-xs text-slate-500 dark:text-slate-400">
                    {format!("Already {}: only queued or running executions can be terminated.", phase_label(&phase).to_lowercase())}
                </p>
            </div>
        }
        .into_any();
    }
    let (open, set_open) = signal(false);
    let pending = terminate.pending();
    let result = terminate.value();
    view! {
        <div class="relative">
            <div class="text-right">
                <button type="button"
                    aria-expanded=move || if open.get() { "true" } else { "false" }
                    aria-controls="terminate-form"
                    on:click=move |_| set_open.update(|o| *o = !*o)
                    class="rounded-md border border-red-300 px-3 py-1.5 text-sm font-medium text-red-800 hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-red-500 dark:border-red-800 dark:text-red-200 dark:hover:bg-red-950">
                    "Terminate"
                </button>
            </div>
            // Outside the panel: the header is re-rendered when the action
            // completes, which closes the panel.
            {move || result.get().map(|outcome| match outcome {
                Ok(()) => view! { <p role="status" class="mt-1 text-right text-sm">"Termination requested."</p> }.into_any(),
                Err(error) => view! { <div class="mt-2 w-80"><ErrorNotice error /></div> }.into_any(),
            })}
            <div id="terminate-form" class="absolute right-0 z-10 mt-2 w-80 rounded-lg border border-slate-200 bg-white p-3 shadow-lg dark:border-slate-700 dark:bg-slate-900" class:hidden=move || !open.get()>
                <ActionForm action=terminate>
                    <input type="hidden" name="project" value=move || project.get() />
                    <input type="hidden" name="domain" value=move || domain.get() />
                    <input type="hidden" name="name" value=name.clone() />
                    <label class="block text-sm">
                        <span class="font-medium">"Cause"</span>
                        <textarea name="cause" required rows="2"
                            placeholder="Why stop it? The cause is kept with the execution."
                            class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-950"></textarea>
                    </label>
                    <div class="mt-2 flex justify-end gap-2">
                        <button type="button" on:click=move |_| set_open.set(false)
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
    .into_any()
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

#[component]
fn NodeTable(nodes: Vec<NodeExecutionSummary>) -> impl IntoView {
    if nodes.is_empty() {
        return view! { <p class="mt-3 text-sm text-slate-500 dark:text-slate-400">"No node has started yet."</p> }.into_any();
    }
    let truncated = nodes.len() >= NODE_EXECUTIONS_LIMIT;
    view! {
        <table class="mt-3 w-full text-left text-sm">
            <caption class="sr-only">"Nodes"</caption>
            <thead class="text-xs uppercase text-slate-500 dark:text-slate-400">
                <tr>
                    <th scope="col" class="py-2 pr-4">"Node"</th>
                    <th scope="col" class="py-2 pr-4">"Phase"</th>
                    <th scope="col" class="py-2 pr-4">"Started"</th>
                    <th scope="col" class="py-2">"Duration"</th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                <For each=move || nodes.clone() key=|node| (node.node_id.clone(), node.phase.clone()) let:node>
                    <tr class="align-top">
                        <td class="py-2 pr-4 font-mono">
                            {node.node_id.clone()}
                            {node.error.clone().map(|message| view! {
                                <p class="mt-1 whitespace-pre-wrap font-sans text-xs text-red-800 dark:text-red-300">{message}</p>
                            })}
                        </td>
                        <td class="py-2 pr-4"><PhaseBadge phase=node.phase.clone() /></td>
                        <td class="py-2 pr-4">{node.started_at.map(|millis| view! { <LocalTime epoch_millis=millis /> })}</td>
                        <td class="py-2"><DurationText millis=node.duration_millis /></td>
                    </tr>
                </For>
            </tbody>
        </table>
        {truncated.then(|| view! {
            <p class="mt-2 text-xs text-slate-500 dark:text-slate-400">{format!("Showing the first {NODE_EXECUTIONS_LIMIT} nodes.")}</p>
        })}
    }
    .into_any()
}

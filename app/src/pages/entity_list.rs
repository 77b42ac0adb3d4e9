use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{EntityKind, flytekit_config_hint, list_executions, list_named_entities};
use crate::components::states::{CommandLine, EmptyState, ErrorNotice, Loading};
use crate::pages::not_found::NotFoundPage;
use crate::pages::project::{ProjectHeader, use_project_domain};

/// `/console/projects/{project}/domains/{domain}/{workflows|tasks|launchPlans|executions}`.
#[component]
pub fn EntityListPage() -> impl IntoView {
    let params = use_params_map();
    let kind_segment = move || params.with(|p| p.get("kind").unwrap_or_default());
    move || {
        let segment = kind_segment();
        if segment == "executions" {
            view! {
                <Title text="Executions" />
                <ProjectHeader />
                <div class="mt-6"><ExecutionsTable /></div>
            }
            .into_any()
        } else if let Some(kind) = EntityKind::from_route_segment(&segment) {
            view! {
                <Title text=kind.plural() />
                <ProjectHeader />
                <div class="mt-6"><NamedEntityTable kind /></div>
            }
            .into_any()
        } else {
            view! { <NotFoundPage /> }.into_any()
        }
    }
}

#[component]
fn NamedEntityTable(kind: EntityKind) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let entities = Resource::new(
        move || (project.get(), domain.get()),
        move |(project, domain)| list_named_entities(project, domain, kind),
    );
    view! {
        <Transition fallback=move || view! { <Loading what=kind.plural() /> }>
            {move || Suspend::new(async move {
                match entities.await {
                    Ok(list) if list.is_empty() => view! { <RegisterHint what=kind.plural() /> }.into_any(),
                    Ok(list) => view! {
                        <table class="w-full text-left text-sm">
                            <thead class="text-xs uppercase text-slate-500 dark:text-slate-400">
                                <tr><th scope="col" class="py-2">"Name"</th><th scope="col" class="py-2">"Description"</th></tr>
                            </thead>
                            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                                {list.into_iter().map(|entity| view! {
                                    <tr>
                                        <td class="py-2 font-medium">{entity.name}</td>
                                        <td class="py-2 text-slate-600 dark:text-slate-400">{entity.description}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The newest executions of the project and domain in the URL.
#[component]
pub fn ExecutionsTable() -> impl IntoView {
    let (project, domain) = use_project_domain();
    let executions = Resource::new(
        move || (project.get(), domain.get()),
        |(project, domain)| list_executions(project, domain),
    );
    view! {
        <Transition fallback=|| view! { <Loading what="executions" /> }>
            {move || Suspend::new(async move {
                match executions.await {
                    Ok(list) if list.is_empty() => view! { <RunHint /> }.into_any(),
                    Ok(list) => view! {
                        <table class="w-full text-left text-sm">
                            <thead class="text-xs uppercase text-slate-500 dark:text-slate-400">
                                <tr>
                                    <th scope="col" class="py-2">"Execution"</th>
                                    <th scope="col" class="py-2">"Phase"</th>
                                    <th scope="col" class="py-2">"Launch plan"</th>
                                    <th scope="col" class="py-2">"Created"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                                {list.into_iter().map(|execution| view! {
                                    <tr>
                                        <td class="py-2 font-mono">{execution.name}</td>
                                        <td class="py-2">{execution.phase}</td>
                                        <td class="py-2">{execution.launched}</td>
                                        <td class="py-2">{execution.created_at.unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RegisterHint(#[prop(into)] what: String) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let hint = Resource::new(|| (), |_| flytekit_config_hint());
    view! {
        <EmptyState title=format!("No {what} registered here yet")>
            <p>"Register a flytekit package into this project and domain:"</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let config = hint.await.ok().flatten().unwrap_or_else(|| "flytekit.yaml".into());
                    view! { <CommandLine command=format!("pyflyte --config {config} register --project {} --domain {} ./workflows", project.get_untracked(), domain.get_untracked()) /> }
                })}
            </Suspense>
        </EmptyState>
    }
}

#[component]
fn RunHint() -> impl IntoView {
    let (project, domain) = use_project_domain();
    let hint = Resource::new(|| (), |_| flytekit_config_hint());
    view! {
        <EmptyState title="No executions yet">
            <p>"Run a workflow remotely and it shows up here as it runs:"</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let config = hint.await.ok().flatten().unwrap_or_else(|| "flytekit.yaml".into());
                    view! { <CommandLine command=format!("pyflyte --config {config} run --remote --project {} --domain {} workflows.py my_workflow", project.get_untracked(), domain.get_untracked()) /> }
                })}
            </Suspense>
        </EmptyState>
    }
}

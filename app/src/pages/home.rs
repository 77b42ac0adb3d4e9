use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{flytekit_config_hint, list_projects};
use crate::components::states::{CommandLine, EmptyState, ErrorNotice, Loading};

/// The project picker: every project with a link into each of its domains.
#[component]
pub fn HomePage() -> impl IntoView {
    let projects = Resource::new(|| (), |_| list_projects());
    view! {
        <Title text="Projects" />
        <h1 class="text-2xl font-semibold tracking-tight">"Projects"</h1>
        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Pick a project and a domain to see its workflows and executions."</p>
        <div class="mt-6">
            <Transition fallback=|| view! { <Loading what="projects" /> }>
                {move || Suspend::new(async move {
                    match projects.await {
                        Ok(list) if list.is_empty() => view! { <NoProjects /> }.into_any(),
                        Ok(list) => view! {
                            <ul class="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Projects">
                                {list.into_iter().map(|project| view! {
                                    <li class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
                                        <h2 class="font-semibold">{project.name.clone()}</h2>
                                        <p class="mt-1 min-h-5 text-sm text-slate-600 dark:text-slate-400">{project.description.clone()}</p>
                                        <div class="mt-3 flex flex-wrap gap-2">
                                            {project.domains.iter().map(|domain| view! {
                                                <a href=format!("/console/projects/{}/domains/{}", project.id, domain.id)
                                                    class="rounded-full border border-slate-300 px-2.5 py-0.5 text-xs hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
                                                    {domain.name.clone()}
                                                </a>
                                            }).collect_view()}
                                        </div>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn NoProjects() -> impl IntoView {
    let hint = Resource::new(|| (), |_| flytekit_config_hint());
    view! {
        <EmptyState title="No projects yet">
            <p>"Create one with flytekit's command line:"</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let config = hint.await.ok().flatten().unwrap_or_else(|| "flytekit.yaml".into());
                    view! { <CommandLine command=format!("pyflyte --config {config} create project --id myproject --name myproject") /> }
                })}
            </Suspense>
        </EmptyState>
    }
}

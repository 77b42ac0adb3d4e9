use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{EntityKind, recent_executions_by_phase};
use crate::components::layout::NavTab;
use crate::components::layout::use_project_list;
use crate::components::phase_chart::PhaseChartView;
use crate::components::states::{ErrorNotice, Loading};
use crate::pages::executions::ExecutionsList;

/// The project and domain being viewed, from the URL.
pub fn use_project_domain() -> (Memo<String>, Memo<String>) {
    let params = use_params_map();
    let project = Memo::new(move |_| params.with(|p| p.get("project").unwrap_or_default()));
    let domain = Memo::new(move |_| params.with(|p| p.get("domain").unwrap_or_default()));
    (project, domain)
}

/// The heading, domain switch and tabs shared by every page inside a project.
#[component]
pub fn ProjectHeader() -> impl IntoView {
    let (project, domain) = use_project_domain();
    let base = move || {
        format!(
            "/console/projects/{}/domains/{}",
            project.get(),
            domain.get()
        )
    };
    view! {
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <p class="text-xs uppercase tracking-wide text-slate-500 dark:text-slate-400">"Project"</p>
                <h1 class="text-2xl font-semibold tracking-tight">{move || project.get()}</h1>
            </div>
            <DomainSwitch project domain />
        </div>
        <nav aria-label="Sections" class="mt-4 flex gap-1 border-b border-slate-200 pb-2 dark:border-slate-800">
            <NavTab href=Signal::derive(base) label="Dashboard" exact=true />
            {move || [EntityKind::Workflow, EntityKind::Task, EntityKind::LaunchPlan].into_iter().map(|kind| {
                let label = match kind { EntityKind::Workflow => "Workflows", EntityKind::Task => "Tasks", EntityKind::LaunchPlan => "Launch plans" };
                view! { <NavTab href=format!("{}/{}", base(), kind.route_segment()) label /> }
            }).collect_view()}
            <NavTab href=Signal::derive(move || format!("{}/executions", base())) label="Executions" />
        </nav>
    }
}

/// Links to the project's domains, as admin lists them; the current one
/// alone until they are known (or if admin cannot say).
#[component]
fn DomainSwitch(project: Memo<String>, domain: Memo<String>) -> impl IntoView {
    let projects = use_project_list();
    let links = move |domains: Vec<String>| {
        view! {
            <nav aria-label="Domain" class="flex gap-1 rounded-lg bg-slate-100 p-1 dark:bg-slate-800">
                {domains.into_iter().map(|candidate| {
                    let href = format!("/console/projects/{}/domains/{}", project.get(), candidate);
                    let current = domain.get() == candidate;
                    view! {
                        <a href=href aria-current=if current { Some("page") } else { None }
                            class="rounded-md px-3 py-1 text-sm aria-[current=page]:bg-white aria-[current=page]:shadow-sm dark:aria-[current=page]:bg-slate-950">
                            {candidate}
                        </a>
                    }
                }).collect_view()}
            </nav>
        }
    };
    view! {
        <Transition fallback=move || links(vec![domain.get()])>
            {move || Suspend::new(async move {
                let known = projects.await.ok().and_then(|list| {
                    list.into_iter()
                        .find(|candidate| candidate.id == project.get_untracked())
                        .map(|found| found.domains.into_iter().map(|d| d.id).collect::<Vec<_>>())
                });
                links(known.filter(|domains| !domains.is_empty()).unwrap_or_else(|| vec![domain.get_untracked()]))
            })}
        </Transition>
    }
}

/// The project dashboard: the last days' executions by phase, and the most
/// recent ones, of the chosen domain.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let (project, domain) = use_project_domain();
    let chart = Resource::new(
        move || (project.get(), domain.get()),
        |(project, domain)| recent_executions_by_phase(project, domain),
    );
    view! {
        <Title text=move || format!("{} · {}", project.get(), domain.get()) />
        <ProjectHeader />
        <section class="mt-6" aria-labelledby="activity-heading">
            <h2 id="activity-heading" class="text-lg font-semibold">"Activity"</h2>
            <Transition fallback=|| view! { <Loading what="the activity chart" /> }>
                {move || Suspend::new(async move {
                    match chart.await {
                        Ok(chart) => view! { <PhaseChartView chart /> }.into_any(),
                        Err(error) => view! { <div class="mt-3"><ErrorNotice error /></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="mt-6">
            <h2 class="text-lg font-semibold">"Recent executions"</h2>
            <div class="mt-3"><ExecutionsList controls=false /></div>
        </section>
    }
}

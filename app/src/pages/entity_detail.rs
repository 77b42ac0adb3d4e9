use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{
    EntityKind, EntityOverview, LaunchPlanLink, SetLaunchPlanActive, get_entity_overview,
};
use crate::components::access::{NeedsRole, RoleCheck, RoleMissing};
use crate::components::states::{ErrorNotice, Loading};
use crate::components::styles;
use crate::components::time::LocalTime;
use crate::components::values::{ValueTable, VariableTable};
use crate::pages::entity_list::capitalised;
use crate::pages::executions::ExecutionsList;
use crate::pages::not_found::NotFoundPage;
use crate::pages::project::{ProjectHeader, use_project_domain};
use crate::pages::{append_query, encode_component, project_path, use_query_value};
use crate::parts::graph_part;

/// `/console/projects/{project}/domains/{domain}/{workflows|tasks|launchPlans}/{name}`.
#[component]
pub fn EntityDetailPage() -> impl IntoView {
    let params = use_params_map();
    let kind = Memo::new(move |_| {
        params.with(|p| EntityKind::from_route_segment(&p.get("kind").unwrap_or_default()))
    });
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    // Another entity is another page: rebuilt whole, so nothing of the old
    // one reacts to the new name while it is being torn down.
    move || match kind.get() {
        Some(kind) => view! { <EntityDetail kind name=name.get() /> }.into_any(),
        None => view! { <NotFoundPage /> }.into_any(),
    }
}

#[component]
fn EntityDetail(kind: EntityKind, name: String) -> impl IntoView {
    let (project, domain) = use_project_domain();
    // A version other than the newest (`?version=`), as FlyteConsole's
    // version pages and flytekit's links to them show.
    let version = use_query_value("version");
    let activation = ServerAction::<SetLaunchPlanActive>::new();
    let role_check = RoleCheck::from_context();
    let overview = Resource::new(
        {
            let name = name.clone();
            move || {
                (
                    project.get(),
                    domain.get(),
                    name.clone(),
                    version.get(),
                    activation.version().get(),
                )
            }
        },
        move |(project, domain, name, version, _)| {
            get_entity_overview(project, domain, kind, name, version)
        },
    );
    let list_href = move || {
        project_path(
            &project.get(),
            &domain.get(),
            &format!("/{}", kind.route_segment()),
        )
    };
    let launch_href = {
        let name = name.clone();
        move || {
            let path = project_path(
                &project.get(),
                &domain.get(),
                &format!(
                    "/{}/{}/launch",
                    kind.route_segment(),
                    encode_component(&name)
                ),
            );
            append_query(&path, &[("version", &version.get())])
        }
    };
    view! {
        <Title text=name.clone() />
        <ProjectHeader />
        <nav aria-label="Breadcrumb" class="mt-6 text-sm text-slate-500 dark:text-slate-400">
            <a href=list_href class="text-sky-700 hover:underline dark:text-sky-400">{capitalised(kind.plural())}</a>
            <span aria-hidden="true">" / "</span>
            <span aria-current="page">{name.clone()}</span>
        </nav>
        <div class="mt-2 flex flex-wrap items-end justify-between gap-3">
            <div>
                <p class="text-xs uppercase tracking-wide text-slate-500 dark:text-slate-400">{capitalised(kind.singular())}</p>
                <h2 class="break-all text-xl font-semibold tracking-tight">{name.clone()}</h2>
            </div>
            <NeedsRole role="contributor" label=format!("Launch {}", kind.singular())>
                <a href=launch_href.clone() accesskey="l" aria-keyshortcuts="Alt+L"
                    class=styles::BUTTON_CALL_TO_ACTION>
                    {format!("Launch {}", kind.singular())}
                </a>
            </NeedsRole>
        </div>
        <Transition fallback=move || view! { <Loading what=kind.singular() /> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => {
                        let may_not_change = role_check
                            .missing(&project.get_untracked(), "contributor")
                            .await;
                        view! { <Overview overview activation may_not_change /> }.into_any()
                    }
                    Err(error) => view! { <div class="mt-4"><ErrorNotice error /></div> }.into_any(),
                }
            })}
        </Transition>
        <section class="mt-8" aria-labelledby="recent-executions">
            <h3 id="recent-executions" class="text-lg font-semibold">"Recent executions"</h3>
            <div class="mt-3">
                <ExecutionsList entity=(kind, name) />
            </div>
        </section>
    }
}

/// The launch plans that run a workflow, with their state and schedule.
#[component]
fn WorkflowLaunchPlans(launch_plans: Vec<LaunchPlanLink>) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let rows = launch_plans
        .into_iter()
        .map(|launch_plan| {
            let href = project_path(
                &project.get_untracked(),
                &domain.get_untracked(),
                &format!("/launchPlans/{}", encode_component(&launch_plan.name)),
            );
            view! {
                <tr>
                    <td class="py-2 pr-4"><a href=href class="text-sky-700 hover:underline dark:text-sky-400">{launch_plan.name}</a></td>
                    <td class="py-2 pr-4">{if launch_plan.active { "Active" } else { "Inactive" }}</td>
                    <td class="py-2">{launch_plan.schedule.unwrap_or_else(|| "none".to_string())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="mt-8" aria-labelledby="launch-plans-heading">
            <h3 id="launch-plans-heading" class="text-lg font-semibold">"Launch plans"</h3>
            <table class="mt-3 w-full text-left text-sm">
                <caption class="sr-only">"Launch plans of this workflow"</caption>
                <thead class="text-xs uppercase text-slate-500 dark:text-slate-400">
                    <tr>
                        <th scope="col" class="py-2 pr-4">"Launch plan"</th>
                        <th scope="col" class="py-2 pr-4">"State"</th>
                        <th scope="col" class="py-2">"Schedule"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-200 dark:divide-slate-800">{rows}</tbody>
            </table>
        </section>
    }
}

/// Whether the launch plan version shown is active, and the button that
/// turns it the other way.
#[component]
fn LaunchPlanState(
    name: String,
    version: String,
    active: bool,
    activation: ServerAction<SetLaunchPlanActive>,
    may_not_change: Option<String>,
) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let pending = activation.pending();
    let (state, label) = if active {
        ("Active: its schedule and triggers run.", "Deactivate")
    } else {
        ("Inactive: no schedule runs it.", "Activate")
    };
    let action = match may_not_change {
        Some(reason) => {
            view! { <RoleMissing role="contributor" label=label.to_string() reason /> }.into_any()
        }
        None => view! {
            <ActionForm action=activation>
                <input type="hidden" name="project" value=move || project.get() />
                <input type="hidden" name="domain" value=move || domain.get() />
                <input type="hidden" name="name" value=name />
                <input type="hidden" name="version" value=version />
                <input type="hidden" name="active" value=if active { "false" } else { "true" } />
                <button type="submit" disabled=move || pending.get() class=styles::BUTTON_SECONDARY>
                    {label}
                </button>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <div>
            <div class="flex flex-wrap items-center gap-3">
                <p>{state}</p>
                {action}
            </div>
            {move || activation.value().get().and_then(Result::err).map(|error| view! {
                <div class="mt-2"><ErrorNotice error /></div>
            })}
        </div>
    }
}

#[component]
fn Overview(
    overview: EntityOverview,
    activation: ServerAction<SetLaunchPlanActive>,
    /// Why the person may not change the entity, if they may not.
    may_not_change: Option<String>,
) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let entity_path = project_path(
        &project.get_untracked(),
        &domain.get_untracked(),
        &format!(
            "/{}/{}",
            overview.kind.route_segment(),
            encode_component(&overview.name)
        ),
    );
    let EntityOverview {
        kind,
        shown_version,
        description,
        versions,
        more_versions,
        inputs,
        outputs,
        task_type,
        launch_plan,
        graph,
        launch_plans,
        ..
    } = overview;
    let is_launch_plan = kind == EntityKind::LaunchPlan;
    let overview_name = overview.name.clone();
    let older_shown = versions
        .first()
        .is_some_and(|newest| newest.version != shown_version);
    let newest_href = entity_path.clone();
    let graph_version = shown_version.clone();
    view! {
        <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">
            "Version " <span class="font-mono">{shown_version.clone()}</span>
            {older_shown.then(|| view! {
                <span>" (not the newest: "
                    <a href=newest_href class="text-sky-700 hover:underline dark:text-sky-400">"show the newest"</a>
                ")"</span>
            })}
        </p>
        <div class="mt-3 space-y-1 text-sm">
            {(!description.is_empty()).then(|| view! { <p class="text-slate-700 dark:text-slate-300">{description.clone()}</p> })}
            {task_type.map(|task_type| view! {
                <p>"Task type: " <code class="rounded bg-slate-100 px-1.5 py-0.5 text-xs dark:bg-slate-800">{task_type}</code></p>
            })}
            {launch_plan.as_ref().map(|details| {
                let workflow = details.workflow.clone().map(|id| {
                    let href = project_path(&id.project, &id.domain, &format!("/workflows/{}", encode_component(&id.name)));
                    view! {
                        <p>"Runs workflow "
                            <a href=href class="text-sky-700 hover:underline dark:text-sky-400">{id.name.clone()}</a>
                            <span class="text-slate-500 dark:text-slate-400">{format!(" (version {})", id.version)}</span>
                        </p>
                    }
                });
                let schedule = match &details.schedule {
                    Some(schedule) => format!("Schedule: {schedule}"),
                    None => "No schedule: it runs when launched.".to_string(),
                };
                view! {
                    {workflow}
                    <LaunchPlanState name=overview_name.clone() version=shown_version.clone() active=details.active activation may_not_change=may_not_change.clone() />
                    <p>{schedule}</p>
                }
            })}
        </div>
        <section class="mt-6" aria-labelledby="interface-heading">
            <h3 id="interface-heading" class="text-lg font-semibold">"Interface"</h3>
            <p class="text-xs text-slate-500 dark:text-slate-400">{format!("Of version {shown_version}.")}</p>
            <div class="mt-3 grid gap-6 lg:grid-cols-2">
                <div>
                    <h4 class="mb-1 font-medium">"Inputs"</h4>
                    <VariableTable caption="Inputs" variables=inputs show_defaults=is_launch_plan />
                </div>
                <div>
                    <h4 class="mb-1 font-medium">"Outputs"</h4>
                    <VariableTable caption="Outputs" variables=outputs />
                </div>
            </div>
            {launch_plan.and_then(|details| (!details.fixed_inputs.is_empty()).then(|| view! {
                <div class="mt-4">
                    <h4 class="mb-1 font-medium">"Fixed inputs"</h4>
                    <ValueTable caption="Fixed inputs" values=details.fixed_inputs />
                </div>
            }))}
        </section>
        {(kind == EntityKind::Workflow).then(|| view! { <WorkflowLaunchPlans launch_plans /> })}
        {graph.map(|layout| view! {
            <section class="mt-8" aria-labelledby="graph-heading">
                <h3 id="graph-heading" class="text-lg font-semibold">"Graph"</h3>
                <p class="text-xs text-slate-500 dark:text-slate-400">{format!("Of version {graph_version}.")}</p>
                {Suspend::new(async move { graph_part(layout, Default::default(), None).await })}
            </section>
        })}
        <section class="mt-8" aria-labelledby="versions-heading">
            <h3 id="versions-heading" class="text-lg font-semibold">"Versions"</h3>
            <table class="mt-3 w-full text-left text-sm">
                <caption class="sr-only">"Versions, newest first"</caption>
                <thead class="text-xs uppercase text-slate-500 dark:text-slate-400">
                    <tr><th scope="col" class="py-2 pr-4">"Version"</th><th scope="col" class="py-2">"Registered"</th></tr>
                </thead>
                <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                    <For each=move || versions.clone() key=|version| version.version.clone() let:version>
                        <tr class=if version.version == shown_version { "bg-sky-50 dark:bg-sky-950" } else { "" }>
                            <td class="py-2 pr-4 font-mono">
                                <a href=append_query(&entity_path, &[("version", &version.version)])
                                    aria-current=(version.version == shown_version).then_some("true")
                                    class="text-sky-700 hover:underline dark:text-sky-400">{version.version.clone()}</a>
                                {(version.version == shown_version).then(|| view! {
                                    <span class="ml-2 font-sans text-xs text-slate-500 dark:text-slate-400">"shown above"</span>
                                })}
                            </td>
                            <td class="py-2">{version.created_at.map(|millis| view! { <LocalTime epoch_millis=millis /> })}</td>
                        </tr>
                    </For>
                </tbody>
            </table>
            {more_versions.then(|| view! {
                <p class="mt-2 text-xs text-slate-500 dark:text-slate-400">
                    {format!("Showing the newest {} versions.", crate::api::VERSIONS_SHOWN)}
                </p>
            })}
        </section>
    }
}

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_navigate};

use crate::api::{
    CREATED_WITHIN, DURATIONS, EXECUTION_SORTS, EntityKind, ExecutionQuery, ExecutionSummary,
    list_executions,
};
use crate::components::access::SignedInOnly;
use crate::components::live::{LiveIndicator, use_live_updates};
use crate::components::phase::{EXECUTION_PHASES, PhaseBadge, phase_label};
use crate::components::states::{EmptyState, ErrorNotice, Loading};
use crate::components::styles;
use crate::components::time::{DurationText, LocalTime};
use crate::pages::entity_list::{Pagination, RunHint};
use crate::pages::project::{ProjectHeader, use_project_domain};
use crate::pages::{append_query, encode_component, project_path, query_string, use_query_value};

/// `/console/projects/{project}/domains/{domain}/executions`.
#[component]
pub fn ExecutionsPage() -> impl IntoView {
    view! {
        <Title text="Executions" />
        <ProjectHeader />
        <section class="mt-6" aria-labelledby="executions-heading">
            <h2 id="executions-heading" class="sr-only">"Executions"</h2>
            <ExecutionsList />
        </section>
    }
}

/// The executions of the project and domain in the URL (or of one entity),
/// filtered, sorted and paged by the URL's `phase`, `sort` and `token`.
#[component]
pub fn ExecutionsList(
    /// Only the executions of this workflow, task or launch plan.
    #[prop(optional)]
    entity: Option<(EntityKind, String)>,
    /// Whether to show the filter controls and pagination.
    #[prop(default = true)]
    controls: bool,
) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let location = use_location();
    let phase = use_query_value("phase");
    let sort = use_query_value("sort");
    let token = use_query_value("token");
    let created = use_query_value("created");
    let archived = use_query_value("archived");
    let mine = use_query_value("mine");
    let duration = use_query_value("duration");
    let query = Memo::new(move |_| {
        if controls {
            ExecutionQuery {
                phase: phase.get(),
                sort: sort.get(),
                token: token.get(),
                created: created.get(),
                archived: archived.get(),
                mine: mine.get(),
                duration: duration.get(),
            }
        } else {
            ExecutionQuery::default()
        }
    });
    // Any change among the executions this page lists refetches it.
    let live_entity = entity
        .clone()
        .map(|(kind, name)| (kind.route_segment(), name))
        .unwrap_or_default();
    let (changes, live) = use_live_updates(move || {
        let query = query.get();
        let path = format!(
            "/api/live/executions/{}/{}",
            encode_component(&project.get()),
            encode_component(&domain.get())
        );
        let entity = [("kind", live_entity.0), ("name", live_entity.1.as_str())];
        append_query(
            &path,
            &[&query.url_pairs(&query.token)[..], &entity].concat(),
        )
    });
    let executions = Resource::new(
        move || (project.get(), domain.get(), query.get(), changes.get()),
        move |(project, domain, query, _)| {
            let (kind, name) = entity
                .clone()
                .map(|(kind, name)| (Some(kind), name))
                .unwrap_or((None, String::new()));
            list_executions(project, domain, query, kind, name)
        },
    );
    let path = move || location.pathname.get();
    let filtered = move || {
        !phase.get().is_empty()
            || !created.get().is_empty()
            || !archived.get().is_empty()
            || !mine.get().is_empty()
            || !duration.get().is_empty()
    };
    // What the person picked but has not applied yet; `None` means "as in the URL".
    let (phase_choice, set_phase_choice) = signal(None::<String>);
    let (sort_choice, set_sort_choice) = signal(None::<String>);
    let (created_choice, set_created_choice) = signal(None::<String>);
    let (archived_choice, set_archived_choice) = signal(None::<String>);
    let (mine_choice, set_mine_choice) = signal(None::<String>);
    let (duration_choice, set_duration_choice) = signal(None::<String>);
    // A new URL (back button, a link) replaces unapplied choices.
    Effect::new(move |_| {
        phase.track();
        sort.track();
        created.track();
        archived.track();
        mine.track();
        duration.track();
        set_mine_choice.set(None);
        set_duration_choice.set(None);
        set_phase_choice.set(None);
        set_sort_choice.set(None);
        set_created_choice.set(None);
        set_archived_choice.set(None);
    });
    let navigate = use_navigate();
    // Once hydrated, apply without a page load and keep the URL free of
    // empty or default parameters; without WASM the form's GET does the same.
    let apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let phase = phase_choice
            .get_untracked()
            .unwrap_or_else(|| phase.get_untracked());
        let sort = sort_choice
            .get_untracked()
            .unwrap_or_else(|| sort.get_untracked());
        let sort = if sort == "created_at.desc" {
            String::new()
        } else {
            sort
        };
        let created = created_choice
            .get_untracked()
            .unwrap_or_else(|| created.get_untracked());
        let archived = archived_choice
            .get_untracked()
            .unwrap_or_else(|| archived.get_untracked());
        let mine = mine_choice
            .get_untracked()
            .unwrap_or_else(|| mine.get_untracked());
        let duration = duration_choice
            .get_untracked()
            .unwrap_or_else(|| duration.get_untracked());
        navigate(
            &format!(
                "{}{}",
                path(),
                query_string(
                    &ExecutionQuery {
                        phase,
                        sort,
                        token: String::new(),
                        created,
                        archived,
                        mine,
                        duration,
                    }
                    .url_pairs("")
                )
            ),
            Default::default(),
        );
    };
    view! {
        {controls.then(|| view! {
            <form method="get" action=path on:submit=apply class="mb-4 flex flex-wrap items-end gap-3" aria-label="Filter executions">
                <label class="flex flex-col text-sm">
                    <span class="mb-1 font-medium">"Phase"</span>
                    <select name="phase" on:change=move |event| set_phase_choice.set(Some(event_target_value(&event))) class=styles::SELECT>
                        <option value="" selected=move || phase.get().is_empty()>"All phases"</option>
                        {EXECUTION_PHASES.into_iter().map(|candidate| view! {
                            <option value=candidate selected=move || phase.get() == candidate>{phase_label(candidate)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="flex flex-col text-sm">
                    <span class="mb-1 font-medium">"Created"</span>
                    <select name="created" on:change=move |event| set_created_choice.set(Some(event_target_value(&event))) class=styles::SELECT>
                        <option value="" selected=move || created.get().is_empty()>"Any time"</option>
                        {CREATED_WITHIN.into_iter().map(|(value, label, _)| view! {
                            <option value=value selected=move || created.get() == value>{label}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="flex flex-col text-sm">
                    <span class="mb-1 font-medium">"Duration"</span>
                    <select name="duration" on:change=move |event| set_duration_choice.set(Some(event_target_value(&event))) class=styles::SELECT>
                        <option value="" selected=move || duration.get().is_empty()>"Any duration"</option>
                        {DURATIONS.into_iter().map(|(value, label, _)| view! {
                            <option value=value selected=move || duration.get() == value>{label}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="flex items-center gap-2 self-center pt-5 text-sm">
                    <input type="checkbox" name="archived" value="only"
                        prop:checked=move || archived_choice.get().unwrap_or_else(|| archived.get()) == "only"
                        on:change=move |event| set_archived_choice.set(Some(if event_target_checked(&event) { "only".into() } else { String::new() }))
                        class="h-4 w-4 rounded border-slate-300 dark:border-slate-700" />
                    "Archived only"
                </label>
                <SignedInOnly>
                    <label class="flex items-center gap-2 self-center pt-5 text-sm">
                        <input type="checkbox" name="mine" value="1"
                            prop:checked=move || mine_choice.get().unwrap_or_else(|| mine.get()) == "1"
                            on:change=move |event| set_mine_choice.set(Some(if event_target_checked(&event) { "1".into() } else { String::new() }))
                            class="h-4 w-4 rounded border-slate-300 dark:border-slate-700" />
                        "Launched by me"
                    </label>
                </SignedInOnly>
                <label class="flex flex-col text-sm">
                    <span class="mb-1 font-medium">"Sort"</span>
                    <select name="sort" on:change=move |event| set_sort_choice.set(Some(event_target_value(&event))) class=styles::SELECT>
                        {EXECUTION_SORTS.into_iter().map(|(value, label)| view! {
                            <option value=value selected=move || sort.get() == value || (sort.get().is_empty() && value == "created_at.desc")>{label}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" class=styles::BUTTON_PRIMARY>
                    "Apply"
                </button>
                {move || filtered().then(|| view! {
                    <a href=path() class="px-2 py-1.5 text-sm text-sky-700 underline dark:text-sky-400">"Clear filters"</a>
                })}
                <span class="ml-auto self-center"><LiveIndicator state=live /></span>
            </form>
        })}
        <Transition fallback=|| view! { <Loading what="executions" /> }>
            {move || Suspend::new(async move {
                match executions.await {
                    Ok(page) if page.executions.is_empty() && filtered() => view! {
                        <EmptyState title=if phase.get_untracked().is_empty() {
                            "No matching executions".to_string()
                        } else {
                            format!("No {} executions", phase_label(&phase.get_untracked()).to_lowercase())
                        }>
                            <p>"Nothing here matches the filters."</p>
                            <a href=path() class="mt-2 inline-block text-sky-700 underline dark:text-sky-400">"Clear filters"</a>
                        </EmptyState>
                    }.into_any(),
                    Ok(page) if page.executions.is_empty() => view! { <RunHint /> }.into_any(),
                    Ok(page) => {
                        let current = query.get_untracked();
                        let here = path();
                        let next_href = controls.then_some(()).and(page.next_token.as_ref()).map(|next| {
                            format!("{here}{}", query_string(&current.url_pairs(next)))
                        });
                        let first_href = (controls && !current.token.is_empty())
                            .then(|| format!("{here}{}", query_string(&current.url_pairs(""))));
                        view! {
                            <ExecutionsTable executions=page.executions />
                            <Pagination first_href next_href />
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Executions as table rows, each linking to its page.
#[component]
fn ExecutionsTable(executions: Vec<ExecutionSummary>) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let (project, domain) = (project.get_untracked(), domain.get_untracked());
    view! {
        <table class="w-full text-left text-sm">
            <caption class="sr-only">"Executions"</caption>
            <thead class="text-xs uppercase text-slate-500 dark:text-slate-400">
                <tr>
                    <th scope="col" class="py-2 pr-4">"Execution"</th>
                    <th scope="col" class="py-2 pr-4">"Phase"</th>
                    <th scope="col" class="py-2 pr-4">"Launched"</th>
                    <th scope="col" class="py-2 pr-4">"Created"</th>
                    <th scope="col" class="py-2">"Duration"</th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                <For each=move || executions.clone() key=|execution| execution.name.clone() let:execution>
                    <tr>
                        <td class="py-2 pr-4 font-mono">
                            <a href=project_path(&project, &domain, &format!("/executions/{}", encode_component(&execution.name)))
                                class="text-sky-700 hover:underline dark:text-sky-400">
                                {execution.name.clone()}
                            </a>
                        </td>
                        <td class="py-2 pr-4"><PhaseBadge phase=execution.phase.clone() /></td>
                        <td class="py-2 pr-4"><LaunchedLink execution=execution.clone() /></td>
                        <td class="py-2 pr-4">
                            {execution.created_at.map(|millis| view! { <LocalTime epoch_millis=millis /> })}
                        </td>
                        <td class="py-2"><DurationText millis=execution.duration_millis /></td>
                    </tr>
                </For>
            </tbody>
        </table>
    }
}

/// A link to what was launched: the launch plan, or the task of a single-task run.
#[component]
pub fn LaunchedLink(execution: ExecutionSummary) -> impl IntoView {
    execution.launch_plan.map(|id| {
        let segment = if execution.launched_task { "tasks" } else { "launchPlans" };
        let href = project_path(&id.project, &id.domain, &format!("/{segment}/{}", encode_component(&id.name)));
        view! {
            <a href=href class="text-sky-700 hover:underline dark:text-sky-400" title=format!("version {}", id.version)>
                {id.name.clone()}
            </a>
        }
    })
}

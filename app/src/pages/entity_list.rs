use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::{EntityKind, flytekit_config_hint, list_named_entities};
use crate::components::states::{CommandLine, EmptyState, ErrorNotice, Loading};
use crate::components::styles;
use crate::pages::not_found::NotFoundPage;
use crate::pages::project::{ProjectHeader, use_project_domain};
use crate::pages::{encode_component, project_path, query_string, use_query_value};

/// `/console/projects/{project}/domains/{domain}/{workflows|tasks|launchPlans}`.
#[component]
pub fn EntityListPage() -> impl IntoView {
    let params = use_params_map();
    let kind_segment = move || params.with(|p| p.get("kind").unwrap_or_default());
    move || match EntityKind::from_route_segment(&kind_segment()) {
        Some(kind) => view! {
            <Title text=capitalised(kind.plural()) />
            <ProjectHeader />
            <div class="mt-6"><NamedEntityTable kind /></div>
        }
        .into_any(),
        None => view! { <NotFoundPage /> }.into_any(),
    }
}

/// `launch plans` → `Launch plans`.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// A searchable, paginated list of names; the search and page live in the URL.
#[component]
fn NamedEntityTable(kind: EntityKind) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let search = use_query_value("q");
    // `?archived=only` lists the archived names instead of the active ones.
    let archived = use_query_value("archived");
    let token = use_query_value("token");
    let entities = Resource::new(
        move || {
            (
                project.get(),
                domain.get(),
                search.get(),
                archived.get(),
                token.get(),
            )
        },
        move |(project, domain, query, archived, token)| {
            list_named_entities(project, domain, kind, query, archived == "only", token)
        },
    );
    let list_path = move || {
        project_path(
            &project.get(),
            &domain.get(),
            &format!("/{}", kind.route_segment()),
        )
    };
    let search_label = format!("Search {} by name", kind.plural());
    // Typed but not yet submitted; `None` means "as in the URL".
    let (search_choice, set_search_choice) = signal(None::<String>);
    let (archived_choice, set_archived_choice) = signal(None::<bool>);
    Effect::new(move |_| {
        search.track();
        archived.track();
        set_search_choice.set(None);
        set_archived_choice.set(None);
    });
    let navigate = use_navigate();
    let apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let query = search_choice
            .get_untracked()
            .unwrap_or_else(|| search.get_untracked());
        let only_archived = archived_choice
            .get_untracked()
            .unwrap_or_else(|| archived.get_untracked() == "only");
        let pairs = [
            ("q", query.trim()),
            ("archived", if only_archived { "only" } else { "" }),
        ];
        navigate(
            &format!("{}{}", list_path(), query_string(&pairs)),
            Default::default(),
        );
    };
    view! {
        <form method="get" action=list_path on:submit=apply class="mb-4 flex flex-wrap items-end gap-2" role="search">
            <label class="flex flex-col text-sm">
                <span class="mb-1 font-medium">{search_label}</span>
                <input
                    type="search"
                    name="q"
                    prop:value=move || search.get()
                    on:input=move |event| set_search_choice.set(Some(event_target_value(&event)))
                    value=move || search.get()
                    placeholder="e.g. greetings"
                    class=format!("w-72 {}", styles::SELECT)
                />
            </label>
            <label class="flex items-center gap-2 px-1 py-1.5 text-sm">
                <input
                    type="checkbox"
                    name="archived"
                    value="only"
                    prop:checked=move || archived.get() == "only"
                    checked=move || archived.get() == "only"
                    on:change=move |event| set_archived_choice.set(Some(event_target_checked(&event)))
                />
                "Archived only"
            </label>
            <button type="submit" class=styles::BUTTON_PRIMARY>
                "Search"
            </button>
            {move || (!search.get().is_empty()).then(|| view! {
                <a href=list_path() class="px-2 py-1.5 text-sm text-sky-700 underline dark:text-sky-400">"Clear search"</a>
            })}
        </form>
        <Transition fallback=move || view! { <Loading what=kind.plural() /> }>
            {move || Suspend::new(async move {
                let query = search.get_untracked();
                let archived = archived.get_untracked();
                match entities.await {
                    Ok(page) if page.entities.is_empty() && archived == "only" => view! {
                        <EmptyState title=format!("No archived {}", kind.plural())>
                            <p>"Names archived with flytectl (or any Flyte client) are listed here."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(page) if page.entities.is_empty() && !query.is_empty() => view! {
                        <EmptyState title=format!("No {} match \u{201c}{query}\u{201d}", kind.plural())>
                            <p>"The search matches any part of the name. Try a shorter piece of it."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(page) if page.entities.is_empty() => view! { <RegisterHint what=kind.plural() /> }.into_any(),
                    Ok(page) => {
                        let (project, domain) = (project.get_untracked(), domain.get_untracked());
                        let next_href = page.next_token.as_ref().map(|next| {
                            format!("{}{}", list_path(), query_string(&[("q", &query), ("archived", &archived), ("token", next)]))
                        });
                        let first_href = (!token.get_untracked().is_empty())
                            .then(|| format!("{}{}", list_path(), query_string(&[("q", &query), ("archived", &archived)])));
                        view! {
                            <table class="w-full text-left text-sm">
                                <caption class="sr-only">{capitalised(kind.plural())}</caption>
                                <thead class="text-xs uppercase text-slate-500 dark:text-slate-400">
                                    <tr><th scope="col" class="py-2">"Name"</th><th scope="col" class="py-2">"Description"</th></tr>
                                </thead>
                                <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                                    <For each=move || page.entities.clone() key=|entity| entity.name.clone() let:entity>
                                        <tr>
                                            <td class="py-2 font-medium">
                                                <a href=project_path(&project, &domain, &format!("/{}/{}", kind.route_segment(), encode_component(&entity.name)))
                                                    class="text-sky-700 hover:underline dark:text-sky-400">
                                                    {entity.name.clone()}
                                                </a>
                                            </td>
                                            <td class="py-2 text-slate-600 dark:text-slate-400">{entity.description.clone()}</td>
                                        </tr>
                                    </For>
                                </tbody>
                            </table>
                            <Pagination first_href next_href />
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// "First page" and "Next page" links; the API's tokens only go forward.
#[component]
pub fn Pagination(first_href: Option<String>, next_href: Option<String>) -> impl IntoView {
    (first_href.is_some() || next_href.is_some()).then(|| {
        view! {
            <nav aria-label="Pagination" class="mt-4 flex gap-3 text-sm">
                {first_href.map(|href| view! {
                    <a href=href class=styles::BUTTON_SECONDARY>"First page"</a>
                })}
                {next_href.map(|href| view! {
                    <a href=href rel="next" class=styles::BUTTON_SECONDARY>"Next page"</a>
                })}
            </nav>
        }
    })
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

/// Says how to start an execution, with this console's flytekit configuration.
#[component]
pub fn RunHint() -> impl IntoView {
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

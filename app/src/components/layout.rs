//! The frame around every page: header with navigation and project picker,
//! the page, and a footer with the control plane's version.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::api::{ProjectSummary, control_plane_version, list_projects};
use crate::components::access::UserMenu;
use crate::components::shortcuts::KeyboardShortcuts;
use crate::components::styles;
use crate::components::theme::ThemeToggle;
use crate::components::time::TimeZoneToggle;
use crate::error::ConsoleError;

/// Header, main area and footer.
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    view! {
        <div class="flex min-h-screen flex-col">
            <header class="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
                <nav aria-label="Main" class="mx-auto flex max-w-7xl items-center gap-4 px-4 py-3">
                    <a href="/console" class="flex items-center gap-2 font-semibold tracking-tight">
                        <span aria-hidden="true" class="inline-block h-5 w-5 rounded bg-gradient-to-tr from-sky-500 to-indigo-500"></span>
                        "updraft"
                    </a>
                    <ProjectPicker />
                    <div class="ml-auto flex items-center gap-2">
                        <KeyboardShortcuts />
                        <TimeZoneToggle />
                        <ThemeToggle />
                        <UserMenu />
                    </div>
                </nav>
            </header>
            <main class="mx-auto w-full max-w-7xl flex-1 px-4 py-6">{children()}</main>
            <Footer />
        </div>
    }
}

/// The projects admin lists, read once per page for the picker and the
/// domain switch.
#[derive(Clone, Copy)]
struct ProjectList(Resource<Result<Vec<ProjectSummary>, ConsoleError>>);

pub fn provide_project_list() {
    provide_context(ProjectList(Resource::new(|| (), |_| list_projects())));
}

pub fn use_project_list() -> Resource<Result<Vec<ProjectSummary>, ConsoleError>> {
    match use_context::<ProjectList>() {
        Some(ProjectList(projects)) => projects,
        None => Resource::new(|| (), |_| list_projects()),
    }
}

/// A menu of projects; opening it needs the hydrated page.
#[component]
fn ProjectPicker() -> impl IntoView {
    // The header sits outside the routes, so it reads the path itself.
    let location = use_location();
    let scope = Memo::new(move |_| location.pathname.with(|path| project_and_domain(path)));
    let current_project = move || scope.get().map(|(project, _)| project);
    let current_domain = move || {
        scope
            .get()
            .map(|(_, domain)| domain)
            .unwrap_or_else(|| "development".to_string())
    };
    let (open, set_open) = signal(false);
    let projects = use_project_list();
    view! {
        <div class="relative">
            <button
                type="button"
                class=styles::BUTTON_SECONDARY
                aria-haspopup="true"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                aria-controls="project-menu"
                on:click=move |_| set_open.update(|o| *o = !*o)
            >
                {move || current_project().map(|p| format!("Project: {p}")).unwrap_or_else(|| "Choose a project".to_string())}
            </button>
            <div
                id="project-menu"
                class="absolute z-10 mt-1 w-64 rounded-md border border-slate-200 bg-white p-1 shadow-lg dark:border-slate-700 dark:bg-slate-900"
                class:hidden=move || !open.get()
            >
                <Transition fallback=|| view! { <p class="p-2 text-sm">"Loading projects…"</p> }>
                    {move || Suspend::new(async move {
                        match projects.await {
                            Ok(list) if list.is_empty() => view! { <p class="p-2 text-sm">"No projects yet."</p> }.into_any(),
                            Ok(list) => view! {
                                <ul aria-label="Projects">
                                    {list.into_iter().map(|project| {
                                        let href = format!("/console/projects/{}/domains/{}", project.id, current_domain());
                                        view! {
                                            <li>
                                                <a href=href on:click=move |_| set_open.set(false)
                                                    class="block rounded px-2 py-1.5 text-sm hover:bg-slate-100 dark:hover:bg-slate-800">
                                                    {project.name}
                                                </a>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(error) => view! { <p class="p-2 text-sm text-red-700 dark:text-red-300">{error.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </div>
    }
}

#[component]
fn Footer() -> impl IntoView {
    let version = Resource::new(|| (), |_| control_plane_version());
    view! {
        <footer class="border-t border-slate-200 py-3 text-center text-xs text-slate-500 dark:border-slate-800 dark:text-slate-400">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match version.await {
                        Ok(v) => format!("updraft console · control plane {}", v.version),
                        Err(_) => "updraft console · control plane unreachable".to_string(),
                    }
                })}
            </Transition>
        </footer>
    }
}

/// A tab-style link that shows when it is the current page.
#[component]
pub fn NavTab(
    #[prop(into)] href: Signal<String>,
    #[prop(into)] label: String,
    /// Current only on exactly this path, not on the pages below it.
    #[prop(optional)]
    exact: bool,
) -> impl IntoView {
    view! {
        <A href=move || href.get() exact=exact attr:class="rounded-md px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 aria-[current=page]:bg-slate-200 aria-[current=page]:text-slate-900 dark:text-slate-300 dark:hover:bg-slate-800 dark:aria-[current=page]:bg-slate-800 dark:aria-[current=page]:text-white">
            {label}
        </A>
    }
}

/// `(project, domain)` from a path under `/console/projects/{project}/domains/{domain}`.
pub fn project_and_domain(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("/console/projects/")?;
    let mut segments = rest.split('/');
    let project = segments.next().filter(|s| !s.is_empty())?;
    (segments.next()? == "domains").then_some(())?;
    let domain = segments.next().filter(|s| !s.is_empty())?;
    Some((project.to_string(), domain.to_string()))
}

#[cfg(test)]
mod tests {
    use super::project_and_domain;

    #[test]
    fn reads_project_and_domain_from_console_paths() {
        assert_eq!(
            project_and_domain("/console/projects/flytesnacks/domains/development/workflows"),
            Some(("flytesnacks".into(), "development".into()))
        );
        assert_eq!(
            project_and_domain("/console/projects/p/domains/staging"),
            Some(("p".into(), "staging".into()))
        );
        assert_eq!(project_and_domain("/console"), None);
        assert_eq!(project_and_domain("/console/projects/p"), None);
    }
}

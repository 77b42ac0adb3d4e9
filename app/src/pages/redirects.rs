//! FlyteConsole's other URL forms, sent on to the page that shows the same
//! thing: people keep old bookmarks, and flytekit prints some of these.
//!
//! - `/console/projects/{p}` and `/console/projects/{p}/{section}?domain={d}`
//!   (`dashboard`, `executions`, `workflows`, `tasks`, `launchPlans`); with no
//!   domain, the project's first one.
//! - `…/domains/{d}/{workflow|task|launch_plan}/{name}/version/{version}`, as
//!   flytekit's `FlyteRemote.generate_console_url` makes them.
//! - `…/domains/{d}/task_executions/{execution}/{node}/…/{retry}`: the node
//!   drawer on that attempt.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

use crate::api::{EntityKind, list_projects};
use crate::components::states::{ErrorNotice, Loading};
use crate::error::ConsoleError;
use crate::pages::not_found::NotFoundPage;
use crate::pages::{append_query, encode_component, project_path, use_query_value};

/// The path of a project section (`executions`, …) in this console, for one domain.
fn section_path(project: &str, domain: &str, section: &str) -> Option<String> {
    let rest = match section {
        "" | "dashboard" => String::new(),
        "executions" | "workflows" | "tasks" | "launchPlans" => format!("/{section}"),
        _ => return None,
    };
    Some(project_path(project, domain, &rest))
}

/// `/console/projects/{p}[/{section}][?domain=d]`.
#[component]
pub fn ProjectSectionRedirect() -> impl IntoView {
    let params = use_params_map();
    let project = params.with_untracked(|p| p.get("project").unwrap_or_default());
    let section = params.with_untracked(|p| p.get("section").unwrap_or_default());
    let domain = use_query_value("domain").get_untracked();
    if section_path(&project, "development", &section).is_none() {
        return view! { <NotFoundPage /> }.into_any();
    }
    if !domain.is_empty() {
        let path = section_path(&project, &domain, &section).unwrap_or_default();
        return view! { <Redirect path /> }.into_any();
    }
    // No domain named: the project's first, as FlyteConsole chose.
    let first_domain = Resource::new(move || (), {
        let project = project.clone();
        move |_| {
            let project = project.clone();
            async move {
                list_projects()
                    .await?
                    .into_iter()
                    .find(|candidate| candidate.id == project)
                    .and_then(|found| found.domains.into_iter().next())
                    .map(|domain| domain.id)
                    .ok_or(ConsoleError::NotFound {
                        what: format!("project {project}"),
                    })
            }
        }
    });
    view! {
        <Suspense fallback=|| view! { <Loading what="the project" /> }>
            {move || {
                let (project, section) = (project.clone(), section.clone());
                Suspend::new(async move {
                    match first_domain.await {
                        Ok(domain) => {
                            let path = section_path(&project, &domain, &section).unwrap_or_default();
                            view! { <Redirect path /> }.into_any()
                        }
                        Err(error) => view! { <div class="mt-4"><ErrorNotice error /></div> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
    .into_any()
}

/// `…/domains/{d}/{workflow|task|launch_plan}/{name}/version/{version}`.
#[component]
pub fn EntityVersionRedirect() -> impl IntoView {
    let params = use_params_map();
    let (project, domain, entity_type, name, version) = params.with_untracked(|p| {
        let get = |key: &str| p.get(key).unwrap_or_default();
        (
            get("project"),
            get("domain"),
            get("entity_type"),
            get("name"),
            get("version"),
        )
    });
    let kind = match entity_type.as_str() {
        "workflow" => EntityKind::Workflow,
        "task" => EntityKind::Task,
        "launch_plan" => EntityKind::LaunchPlan,
        _ => return view! { <NotFoundPage /> }.into_any(),
    };
    let path = append_query(
        &project_path(
            &project,
            &domain,
            &format!("/{}/{}", kind.route_segment(), encode_component(&name)),
        ),
        &[("version", &version)],
    );
    view! { <Redirect path /> }.into_any()
}

/// `…/domains/{d}/task_executions/{execution}/{node}/{task project}/{task
/// domain}/{task name}/{task version}/{retry}`.
#[component]
pub fn TaskExecutionRedirect() -> impl IntoView {
    let params = use_params_map();
    let (project, domain, execution, node, retry) = params.with_untracked(|p| {
        let get = |key: &str| p.get(key).unwrap_or_default();
        (
            get("project"),
            get("domain"),
            get("execution"),
            get("node"),
            get("retry"),
        )
    });
    let Ok(retry) = retry.parse::<u32>() else {
        return view! { <NotFoundPage /> }.into_any();
    };
    let path = append_query(
        &project_path(
            &project,
            &domain,
            &format!("/executions/{}", encode_component(&execution)),
        ),
        &[("node", &node), ("attempt", &retry.to_string())],
    );
    view! { <Redirect path /> }.into_any()
}

#[cfg(test)]
mod tests {
    use super::section_path;

    #[test]
    fn sections_map_onto_this_consoles_paths() {
        assert_eq!(
            section_path("p", "development", "launchPlans").as_deref(),
            Some("/console/projects/p/domains/development/launchPlans")
        );
        assert_eq!(
            section_path("p", "staging", "dashboard").as_deref(),
            Some("/console/projects/p/domains/staging")
        );
        assert_eq!(section_path("p", "staging", "nonsense"), None);
    }
}

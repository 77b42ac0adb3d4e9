//! Keyboard shortcuts for the common moves, and `?` to list them: `g` then a
//! letter goes to a page of the current project, `/` jumps to the search
//! box. Keys typed into a field are left alone.

use leptos::prelude::*;

/// `g` followed by one of these goes to the page of the current project and
/// domain at this path ("" is the dashboard).
pub const GO_TO: [(&str, &str, &str); 5] = [
    ("p", "", "Project dashboard"),
    ("e", "/executions", "Executions"),
    ("w", "/workflows", "Workflows"),
    ("t", "/tasks", "Tasks"),
    ("l", "/launchPlans", "Launch plans"),
];

/// Where `g` + `key` leads from `path`: within its project and domain, or
/// the console's start page outside any project.
pub fn go_to_target(path: &str, key: &str) -> Option<String> {
    let (_, rest, _) = GO_TO.iter().find(|(letter, _, _)| *letter == key)?;
    Some(match crate::components::layout::project_and_domain(path) {
        Some((project, domain)) => format!("/console/projects/{project}/domains/{domain}{rest}"),
        None => "/console".to_string(),
    })
}

/// Listens for shortcuts (once hydrated) and shows their list on `?`.
#[component]
pub fn KeyboardShortcuts() -> impl IntoView {
    let (help_open, set_help_open) = signal(false);
    #[cfg(feature = "hydrate")]
    listen(set_help_open);
    view! {
        <button type="button" aria-keyshortcuts="Shift+Slash" aria-haspopup="dialog"
            on:click=move |_| set_help_open.update(|open| *open = !*open)
            class="rounded-md px-2 py-1.5 text-sm text-slate-600 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-500 dark:text-slate-300 dark:hover:bg-slate-800">
            <span aria-hidden="true">"⌨"</span>
            <span class="sr-only">"Keyboard shortcuts"</span>
        </button>
        <div role="dialog" aria-label="Keyboard shortcuts" class:hidden=move || !help_open.get()
            class="fixed right-4 top-16 z-20 w-80 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-xl dark:border-slate-700 dark:bg-slate-900">
            <div class="flex items-center justify-between">
                <h2 class="font-semibold">"Keyboard shortcuts"</h2>
                <button type="button" on:click=move |_| set_help_open.set(false)
                    class="rounded px-2 text-slate-500 hover:bg-slate-100 dark:hover:bg-slate-800" aria-label="Close shortcuts">"✕"</button>
            </div>
            <dl class="mt-3 grid grid-cols-[5rem_1fr] gap-y-1">
                {GO_TO.into_iter().map(|(letter, _, label)| view! {
                    <dt><kbd class="rounded border border-slate-300 px-1 font-mono text-xs dark:border-slate-600">"g"</kbd>" "
                        <kbd class="rounded border border-slate-300 px-1 font-mono text-xs dark:border-slate-600">{letter}</kbd></dt>
                    <dd>{label}</dd>
                }).collect_view()}
                <dt><kbd class="rounded border border-slate-300 px-1 font-mono text-xs dark:border-slate-600">"/"</kbd></dt>
                <dd>"Search on this page"</dd>
                <dt><kbd class="rounded border border-slate-300 px-1 font-mono text-xs dark:border-slate-600">"Alt"</kbd>" "
                    <kbd class="rounded border border-slate-300 px-1 font-mono text-xs dark:border-slate-600">"R"</kbd></dt>
                <dd>"Relaunch (on an execution)"</dd>
                <dt><kbd class="rounded border border-slate-300 px-1 font-mono text-xs dark:border-slate-600">"Alt"</kbd>" "
                    <kbd class="rounded border border-slate-300 px-1 font-mono text-xs dark:border-slate-600">"L"</kbd></dt>
                <dd>"Launch (on a workflow, task or launch plan)"</dd>
                <dt><kbd class="rounded border border-slate-300 px-1 font-mono text-xs dark:border-slate-600">"Esc"</kbd></dt>
                <dd>"Close a panel"</dd>
                <dt><kbd class="rounded border border-slate-300 px-1 font-mono text-xs dark:border-slate-600">"?"</kbd></dt>
                <dd>"Show or hide this list"</dd>
            </dl>
        </div>
    }
}

#[cfg(feature = "hydrate")]
fn listen(set_help_open: WriteSignal<bool>) {
    use wasm_bindgen::JsCast;

    let navigate = leptos_router::hooks::use_navigate();
    let location = leptos_router::hooks::use_location();
    // The time `g` was pressed, while a second key may complete it.
    let pending_go = StoredValue::new(None::<f64>);
    let handle = window_event_listener(leptos::ev::keydown, move |event| {
        if event.ctrl_key() || event.meta_key() || event.alt_key() || event.default_prevented() {
            return;
        }
        let typing = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlElement>().ok())
            .is_some_and(|element| {
                matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || element.is_content_editable()
            });
        if typing {
            return;
        }
        let key = event.key();
        let now = js_sys::Date::now();
        if let Some(pressed) = pending_go.get_value() {
            pending_go.set_value(None);
            if now - pressed < 1500.0 {
                if let Some(target) = go_to_target(&location.pathname.get_untracked(), &key) {
                    event.prevent_default();
                    navigate(&target, Default::default());
                }
                return;
            }
        }
        match key.as_str() {
            "g" => pending_go.set_value(Some(now)),
            "?" => set_help_open.update(|open| *open = !*open),
            "Escape" => set_help_open.set(false),
            "/" => {
                let search = web_sys::window()
                    .and_then(|window| window.document())
                    .and_then(|document| {
                        document.query_selector("input[type=search]").ok().flatten()
                    })
                    .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
                if let Some(search) = search {
                    event.prevent_default();
                    let _ = search.focus();
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
}

#[cfg(test)]
mod tests {
    use super::go_to_target;

    #[test]
    fn go_to_keys_stay_in_the_current_project_and_domain() {
        assert_eq!(
            go_to_target(
                "/console/projects/flytesnacks/domains/staging/executions/x",
                "w"
            )
            .as_deref(),
            Some("/console/projects/flytesnacks/domains/staging/workflows")
        );
        assert_eq!(
            go_to_target("/console/projects/p/domains/development", "p").as_deref(),
            Some("/console/projects/p/domains/development")
        );
        assert_eq!(go_to_target("/console", "e").as_deref(), Some("/console"));
        assert_eq!(go_to_target("/console/projects/p/domains/d", "x"), None);
    }
}

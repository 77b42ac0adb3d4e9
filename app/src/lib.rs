//! The updraft console: pages rendered on the server (feature `ssr`) and
//! hydrated in the browser (feature `hydrate`).

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod graph;
pub mod launch;
pub mod literals;
pub mod pages;
pub mod parts;
pub mod time;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, SsrMode, lazy_route, path};

use crate::components::layout::Shell;
use crate::pages::{
    entity_detail::EntityDetailPage,
    entity_list::EntityListPage,
    execution::ExecutionPage,
    executions::ExecutionsPage,
    home::HomePage,
    launch::LaunchPage,
    not_found::NotFoundPage,
    project::ProjectPage,
    redirects::{EntityVersionRedirect, ProjectSectionRedirect, TaskExecutionRedirect},
};

/// A page whose code is a separate part of the WASM, loaded when the page is
/// first shown (and preloaded with the document the server renders for it),
/// so no page pays for the others' code. Its data is fetched by the page.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    };
}

lazy_page!(ProjectRoute, ProjectPage);
lazy_page!(ExecutionsRoute, ExecutionsPage);
lazy_page!(ExecutionRoute, ExecutionPage);
lazy_page!(EntityListRoute, EntityListPage);
lazy_page!(EntityDetailRoute, EntityDetailPage);
lazy_page!(LaunchRoute, LaunchPage);
lazy_page!(ProjectSectionRedirectRoute, ProjectSectionRedirect);
lazy_page!(EntityVersionRedirectRoute, EntityVersionRedirect);
lazy_page!(TaskExecutionRedirectRoute, TaskExecutionRedirect);

/// Sets the colour scheme before the first paint, so a dark-mode user never
/// sees a white flash while the WASM loads.
const THEME_BOOTSTRAP: &str = r#"(function(){try{var t=localStorage.getItem('updraft-theme');var d=t?t==='dark':matchMedia('(prefers-color-scheme: dark)').matches;document.documentElement.classList.toggle('dark',d);}catch(e){}})();"#;

/// The HTML document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <script>{THEME_BOOTSTRAP}</script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

/// The console's routes, under `/console` as in FlyteConsole so links printed by
/// `pyflyte run --remote` open the right page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    crate::components::access::provide_current_user();
    crate::components::time::provide_time_display();
    crate::components::layout::provide_project_list();
    view! {
        <Stylesheet id="updraft-css" href="/pkg/updraft.css" />
        <Title formatter=|title: String| if title.is_empty() { "updraft".to_string() } else { format!("{title} · updraft") } />
        <Router>
            <Shell>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/console") view=HomePage />
                    <Route path=path!("/console/projects/:project/domains/:domain") view={Lazy::<ProjectRoute>::new()} />
                    // Static segments first: the router takes the first route that matches.
                    <Route path=path!("/console/projects/:project/domains/:domain/executions") view={Lazy::<ExecutionsRoute>::new()} />
                    <Route path=path!("/console/projects/:project/domains/:domain/executions/:name") view={Lazy::<ExecutionRoute>::new()} />
                    <Route path=path!("/console/projects/:project/domains/:domain/:kind") view={Lazy::<EntityListRoute>::new()} />
                    <Route path=path!("/console/projects/:project/domains/:domain/:kind/:name") view={Lazy::<EntityDetailRoute>::new()} />
                    <Route path=path!("/console/projects/:project/domains/:domain/:kind/:name/launch") view={Lazy::<LaunchRoute>::new()} />
                    // FlyteConsole's other forms of the same places. Waiting for
                    // the whole render lets a redirect that looks up the
                    // project's domains still answer with a 302.
                    <Route path=path!("/console/projects/:project") view={Lazy::<ProjectSectionRedirectRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/console/projects/:project/:section") view={Lazy::<ProjectSectionRedirectRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/console/projects/:project/domains/:domain/:entity_type/:name/version/:version") view={Lazy::<EntityVersionRedirectRoute>::new()} />
                    <Route path=path!("/console/projects/:project/domains/:domain/task_executions/:execution/:node/:task_project/:task_domain/:task_name/:task_version/:retry") view={Lazy::<TaskExecutionRedirectRoute>::new()} />
                </Routes>
            </Shell>
        </Router>
    }
}

/// Entry point of the browser build: attaches to the server-rendered DOM once
/// the parts of the WASM that the current page needs have loaded.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Err only means an executor is already running, which is fine.
    _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        crate::parts::load_parts_on_the_page().await;
        let body = document().body().expect("the page has a body");
        leptos::mount::hydrate_from_async(body.clone(), App)
            .await
            .forget();
        // Browser tests wait for this marker instead of sleeping.
        let _ = body.dataset().set("hydrated", "true");
    });
}

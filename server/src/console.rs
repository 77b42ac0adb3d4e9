//! The HTTP side of the shared address: the server-rendered console, its
//! server functions, static files and `/healthz`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower_http::services::ServeDir;
use updraft_app::api::{ApiClients, FlytekitConfigPath};
use updraft_app::{App, shell};

/// Whether every component in this process has finished starting.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Marks the process ready; `/healthz` answers 200 from now on.
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// What the console's router needs.
#[derive(Clone)]
pub struct ConsoleState {
    pub leptos_options: LeptosOptions,
    pub clients: ApiClients,
    pub flytekit_config_path: Option<String>,
    pub readiness: Readiness,
    pub stopping: crate::live::Stopping,
}

/// The console, server functions, `/pkg` assets and `/healthz`.
pub fn console_router(state: ConsoleState) -> Router {
    let routes = console_routes();
    let context = {
        let clients = state.clients.clone();
        let hint = FlytekitConfigPath(state.flytekit_config_path.clone());
        move || {
            provide_context(clients.clone());
            provide_context(hint.clone());
        }
    };
    let options = state.leptos_options.clone();
    let pkg_dir = std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    // The build leaves brotli and gzip copies next to each file; the browser
    // gets the smallest it accepts (the WASM shrinks to about a quarter).
    let pkg_files = ServeDir::new(pkg_dir)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .route("/healthz", get(healthz).with_state(state.readiness.clone()))
        .nest_service(&format!("/{}", options.site_pkg_dir), pkg_files)
        .merge(crate::live::live_router(
            state.clients.clone(),
            state.stopping.clone(),
        ))
        .leptos_routes_with_context(&state.leptos_options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .route(
            "/api/{*fn_name}",
            axum::routing::post({
                let context = context.clone();
                move |request| leptos_axum::handle_server_fns_with_context(context.clone(), request)
            })
            .get({
                let context = context.clone();
                move |request| leptos_axum::handle_server_fns_with_context(context.clone(), request)
            }),
        )
        // Static files from the site; any other path gets the console's own
        // "not found" page with status 404.
        .fallback(leptos_axum::file_and_error_handler_with_context(context, {
            let options = options.clone();
            move |_| shell(options.clone())
        }))
        .with_state(options)
}

/// The console's routes, generated once per process. Generating runs the app
/// with leptos_server's process-global "suppress resource loads" flag raised,
/// and any resource first polled meanwhile, even by another server's render,
/// never resolves (leptos-rs/leptos#4773). Once is enough: the routes depend
/// on nothing but the app.
fn console_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

async fn healthz(State(readiness): State<Readiness>) -> impl IntoResponse {
    if readiness.is_ready() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    }
}

//! The HTTP side of the shared address: the server-rendered console, its
//! server functions and static files.

use std::sync::OnceLock;

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower_http::services::ServeDir;
use updraft_app::api::{ApiClients, FlytekitConfigPath};
use updraft_app::{App, shell};

/// What the console's router needs.
#[derive(Clone)]
pub struct ConsoleState {
    pub leptos_options: LeptosOptions,
    pub clients: ApiClients,
    pub flytekit_config_path: Option<String>,
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
        .layer(axum::middleware::from_fn_with_state(
            state.clients.clone(),
            answer_missing_entities_with_not_found,
        ))
        .layer(axum::middleware::from_fn(record_request_duration))
        .with_state(options)
}

/// What an entity page shows, when its path names one.
enum EntityPage {
    Execution(updraft_proto::flyteidl::core::WorkflowExecutionIdentifier),
    Definition(
        updraft_proto::flyteidl::core::ResourceType,
        updraft_proto::flyteidl::admin::NamedEntityIdentifier,
    ),
}

fn entity_page(path: &str) -> Option<EntityPage> {
    use updraft_proto::flyteidl::core::ResourceType;
    let segments: Vec<String> = path
        .trim_end_matches('/')
        .split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let [
        _,
        "console",
        "projects",
        project,
        "domains",
        domain,
        kind,
        name,
    ] = segments.iter().map(String::as_str).collect::<Vec<_>>()[..]
    else {
        return None;
    };
    let definition = |resource_type| {
        Some(EntityPage::Definition(
            resource_type,
            updraft_proto::flyteidl::admin::NamedEntityIdentifier {
                project: project.to_string(),
                domain: domain.to_string(),
                name: name.to_string(),
                org: String::new(),
            },
        ))
    };
    match kind {
        "executions" => Some(EntityPage::Execution(
            updraft_proto::flyteidl::core::WorkflowExecutionIdentifier {
                project: project.to_string(),
                domain: domain.to_string(),
                name: name.to_string(),
                org: String::new(),
            },
        )),
        "workflows" => definition(ResourceType::Workflow),
        "tasks" => definition(ResourceType::Task),
        "launchPlans" => definition(ResourceType::LaunchPlan),
        _ => None,
    }
}

/// Whether admin says the entity of `page` does not exist (any other
/// answer, an error included, leaves the page to say what it can).
async fn entity_is_missing(
    clients: &ApiClients,
    token: Option<&updraft_app::api::BearerToken>,
    page: EntityPage,
) -> bool {
    use updraft_proto::flyteidl::admin;
    let mut client = clients.admin(token);
    match page {
        EntityPage::Execution(id) => matches!(
            client
                .get_execution(admin::WorkflowExecutionGetRequest { id: Some(id) })
                .await,
            Err(status) if status.code() == tonic::Code::NotFound
        ),
        EntityPage::Definition(resource_type, id) => {
            let request = admin::ResourceListRequest {
                id: Some(id),
                limit: 1,
                ..Default::default()
            };
            use updraft_proto::flyteidl::core::ResourceType;
            let found = match resource_type {
                ResourceType::Task => client
                    .list_tasks(request)
                    .await
                    .map(|list| list.into_inner().tasks.len()),
                ResourceType::LaunchPlan => client
                    .list_launch_plans(request)
                    .await
                    .map(|list| list.into_inner().launch_plans.len()),
                _ => client
                    .list_workflows(request)
                    .await
                    .map(|list| list.into_inner().workflows.len()),
            };
            matches!(found, Ok(0))
                || matches!(found, Err(status) if status.code() == tonic::Code::NotFound)
        }
    }
}

/// The page of an execution, workflow, task or launch plan that does not
/// exist renders as usual (it says so) but answers 404, as a missing page
/// should: the page streams, so its status cannot wait for its data.
async fn answer_missing_entities_with_not_found(
    axum::extract::State(clients): axum::extract::State<ApiClients>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let page = (request.method() == http::Method::GET)
        .then(|| entity_page(request.uri().path()))
        .flatten();
    let Some(page) = page else {
        return next.run(request).await;
    };
    let token = request
        .extensions()
        .get::<updraft_app::api::BearerToken>()
        .cloned();
    let (missing, mut response) = tokio::join!(
        entity_is_missing(&clients, token.as_ref(), page),
        next.run(request)
    );
    if missing && response.status() == http::StatusCode::OK {
        *response.status_mut() = http::StatusCode::NOT_FOUND;
    }
    response
}

/// The histogram of console requests, by matched route.
const REQUEST_DURATION_MS: &str = "updraft:console:request_duration_ms";

/// Describes the console's metrics for `/metrics`.
pub(crate) fn describe_console_metrics() {
    metrics::describe_histogram!(
        REQUEST_DURATION_MS,
        metrics::Unit::Milliseconds,
        "time from a console request's arrival to its response head, by route template, method and status class"
    );
}

/// Times each request under its route template (`/console/projects/{project}`),
/// never the concrete path, so page views cannot mint series.
async fn record_request_duration(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let method = match *request.method() {
        axum::http::Method::GET => "GET",
        axum::http::Method::HEAD => "HEAD",
        axum::http::Method::POST => "POST",
        axum::http::Method::PUT => "PUT",
        axum::http::Method::PATCH => "PATCH",
        axum::http::Method::DELETE => "DELETE",
        axum::http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let response = next.run(request).await;
    let status = match response.status().as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    };
    metrics::histogram!(
        REQUEST_DURATION_MS,
        "route" => route,
        "method" => method,
        "status" => status
    )
    .record(started.elapsed().as_secs_f64() * 1_000.0);
    response
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

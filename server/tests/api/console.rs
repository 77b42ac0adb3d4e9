use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_answers_200_once_started() {
    let app = TestApp::spawn().await;

    let response = app.http.get(app.url("/healthz")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn console_renders_on_the_server_with_hydration_scripts() {
    let app = TestApp::spawn().await;

    let response = app.http.get(app.url("/console")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("<h1 class=\"text-2xl font-semibold tracking-tight\">Projects</h1>"),
        "{html}"
    );
    assert!(
        html.contains("/pkg/updraft.js"),
        "hydration script missing: {html}"
    );
    assert!(html.contains("/pkg/updraft.css"));
    assert!(html.contains("Dark theme"));
}

#[tokio::test]
async fn project_pages_keep_flyteconsole_routes() {
    let app = TestApp::spawn().await;

    let response = app
        .http
        .get(app.url("/console/projects/flytesnacks/domains/development/workflows"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("flytesnacks"), "{html}");
    assert!(
        html.contains("aria-current=\"page\""),
        "the current domain is marked: {html}"
    );
}

#[tokio::test]
async fn unknown_console_path_is_a_404_page() {
    let app = TestApp::spawn().await;

    let response = app
        .http
        .get(app.url("/console/no/such/page"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn flytekit_config_points_at_the_bound_address() {
    let app = TestApp::spawn().await;

    let yaml = std::fs::read_to_string(app.data_dir.path().join("flytekit.yaml")).unwrap();

    assert!(
        yaml.contains(&format!("endpoint: dns:///{}", app.addr)),
        "{yaml}"
    );
    assert!(yaml.contains("insecure: true"));
}

/// Where the console sends a browser asking for `path`, by the redirect's
/// status and `Location`.
async fn redirect_of(app: &TestApp, path: &str) -> (u16, String) {
    let response = app
        .http
        .get(app.url(path))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default();
    (response.status().as_u16(), location)
}

#[tokio::test]
async fn flyteconsoles_other_url_forms_lead_to_the_same_pages() {
    let app = TestApp::spawn().await;
    let domains = "/console/projects/flytesnacks/domains";

    // Sections with the domain in the query, as FlyteConsole's older links.
    assert_eq!(
        redirect_of(
            &app,
            "/console/projects/flytesnacks/executions?domain=staging"
        )
        .await,
        (302, format!("{domains}/staging/executions"))
    );
    assert_eq!(
        redirect_of(
            &app,
            "/console/projects/flytesnacks/launchPlans?domain=production"
        )
        .await,
        (302, format!("{domains}/production/launchPlans"))
    );
    // No domain: the project's first.
    assert_eq!(
        redirect_of(&app, "/console/projects/flytesnacks").await,
        (302, format!("{domains}/development"))
    );
    assert_eq!(
        redirect_of(&app, "/console/projects/flytesnacks/workflows").await,
        (302, format!("{domains}/development/workflows"))
    );
    // flytekit's links to one version of a registered entity.
    assert_eq!(
        redirect_of(
            &app,
            &format!("{domains}/development/launch_plan/my.lp/version/v%201")
        )
        .await,
        (
            302,
            format!("{domains}/development/launchPlans/my.lp?version=v%201")
        )
    );
    // A task execution: the node drawer on that attempt.
    assert_eq!(
        redirect_of(
            &app,
            &format!("{domains}/development/task_executions/abc123/n0/flytesnacks/development/my.task/v1/2")
        )
        .await,
        (302, format!("{domains}/development/executions/abc123?node=n0&attempt=2"))
    );

    // What is not one of those forms stays not found.
    let (status, _) = redirect_of(&app, "/console/projects/flytesnacks/nonsense").await;
    assert_eq!(status, 404);
    let (status, _) =
        redirect_of(&app, &format!("{domains}/development/pipeline/x/version/1")).await;
    assert_eq!(status, 404);
}

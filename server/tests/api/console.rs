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

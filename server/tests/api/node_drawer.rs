//! The execution page's node drawer and gate actions, through the BFF's
//! server functions against the real admin.

use crate::helpers::TestApp;

async fn call(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = app
        .http
        .post(app.url(path))
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_signal_for_an_unknown_execution_is_refused_naming_it() {
    let app = TestApp::spawn().await;

    let (status, body) = call(
        &app,
        "/api/set_gate_signal",
        &[
            ("project", "flytesnacks"),
            ("domain", "development"),
            ("name", "nosuchexecution"),
            ("signal_id", "approve-sum"),
            ("value", "true"),
        ],
    )
    .await;

    assert_eq!(status, 500, "{body}");
    assert!(body.contains("Missing"), "{body}");
    assert!(body.contains("nosuchexecution"), "{body}");
}

#[tokio::test]
async fn an_unknown_execution_is_named_in_the_admins_words_once() {
    let app = TestApp::spawn().await;

    let html = app
        .http
        .get(
            app.url("/console/projects/flytesnacks/domains/development/executions/nosuchexecution"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(
        html.contains(
            "not found: execution flytesnacks/development/nosuchexecution does not exist"
        ),
        "{html}"
    );
    assert!(!html.contains("does not exist was not found"), "{html}");
}

#[tokio::test]
async fn the_drawer_of_an_unknown_execution_says_what_is_missing() {
    let app = TestApp::spawn().await;

    let (_, html) = {
        let response = app
            .http
            .get(app.url(
                "/console/projects/flytesnacks/domains/development/executions/nosuchexecution?node=n0",
            ))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };

    assert!(html.contains("role=\"dialog\""), "{html}");
    assert!(
        html.contains("node n0 of execution nosuchexecution was not found"),
        "{html}"
    );
    assert!(html.contains("Close node details"), "{html}");
}

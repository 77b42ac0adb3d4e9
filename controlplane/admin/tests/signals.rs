//! SignalService: gate nodes create signals and poll them, people set them.

mod common;

use common::*;
use tonic::Code;
use updraft_proto::flyteidl::{admin, core};

fn signal_id(execution: &str, signal: &str) -> core::SignalIdentifier {
    core::SignalIdentifier {
        signal_id: signal.to_string(),
        execution_id: Some(workflow_execution_id(execution)),
    }
}

fn boolean_type() -> core::LiteralType {
    core::LiteralType {
        r#type: Some(core::literal_type::Type::Simple(
            core::SimpleType::Boolean as i32,
        )),
        ..Default::default()
    }
}

fn boolean(value: bool) -> core::Literal {
    core::Literal {
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Primitive(core::Primitive {
                value: Some(core::primitive::Value::Boolean(value)),
            })),
        }))),
        ..Default::default()
    }
}

fn get_or_create(
    execution: &str,
    signal: &str,
    literal_type: core::LiteralType,
) -> admin::SignalGetOrCreateRequest {
    admin::SignalGetOrCreateRequest {
        id: Some(signal_id(execution, signal)),
        r#type: Some(literal_type),
    }
}

fn set(execution: &str, signal: &str, value: core::Literal) -> admin::SignalSetRequest {
    admin::SignalSetRequest {
        id: Some(signal_id(execution, signal)),
        value: Some(value),
    }
}

fn list(execution: &str, limit: u32, token: &str, filters: &str) -> admin::SignalListRequest {
    admin::SignalListRequest {
        workflow_execution_id: Some(workflow_execution_id(execution)),
        limit,
        token: token.to_string(),
        filters: filters.to_string(),
        sort_by: None,
    }
}

async fn app_with_execution(name: &str) -> TestApp {
    let mut app = TestApp::spawn().await;
    app.register_fixtures("v1").await;
    app.admin
        .create_execution(launch_request(name))
        .await
        .expect("create execution");
    app
}

async fn a_gate_creates_a_signal_once_and_sees_the_value_once_set() {
    let mut app = app_with_execution("gated").await;
    let created = app
        .signals
        .get_or_create_signal(get_or_create("gated", "approve", boolean_type()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.id, Some(signal_id("gated", "approve")));
    assert_eq!(created.r#type, Some(boolean_type()));
    assert_eq!(created.value, None);

    // The propeller polls: asking again is the same signal, still unset.
    let again = app
        .signals
        .get_or_create_signal(get_or_create("gated", "approve", boolean_type()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, created);

    app.signals
        .set_signal(set("gated", "approve", boolean(true)))
        .await
        .unwrap();
    let polled = app
        .signals
        .get_or_create_signal(get_or_create("gated", "approve", boolean_type()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(polled.value, Some(boolean(true)));

    // As flyteadmin: setting it again replaces the value.
    app.signals
        .set_signal(set("gated", "approve", boolean(false)))
        .await
        .unwrap();
    let listed = app
        .signals
        .list_signals(list("gated", 10, "", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.signals.len(), 1);
    assert_eq!(listed.signals[0].value, Some(boolean(false)));
    assert_eq!(listed.token, "");
}

async fn signals_survive_a_restart_of_the_service() {
    let mut app = app_with_execution("durable").await;
    app.signals
        .get_or_create_signal(get_or_create("durable", "go", boolean_type()))
        .await
        .unwrap();
    app.signals
        .set_signal(set("durable", "go", boolean(true)))
        .await
        .unwrap();
    // A second service over the same database (a restarted admin) sees it.
    let reopened = updraft_admin::AdminApi::new(
        app.api.store().clone(),
        app.api.blobs().clone(),
        updraft_admin::AdminSettings::new(app.http_base.clone()),
    );
    use updraft_proto::flyteidl::service::signal_service_server::SignalService;
    let signal = reopened
        .signals()
        .get_or_create_signal(tonic::Request::new(get_or_create(
            "durable",
            "go",
            boolean_type(),
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(signal.value, Some(boolean(true)));
}

async fn list_signals_pages_and_filters_within_one_execution() {
    let mut app = app_with_execution("many").await;
    app.admin
        .create_execution(launch_request("other"))
        .await
        .unwrap();
    for name in ["s0", "s1", "s2"] {
        app.signals
            .get_or_create_signal(get_or_create("many", name, boolean_type()))
            .await
            .unwrap();
    }
    app.signals
        .get_or_create_signal(get_or_create("other", "elsewhere", boolean_type()))
        .await
        .unwrap();

    let first = app
        .signals
        .list_signals(list("many", 2, "", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.signals.len(), 2);
    assert_eq!(first.token, "2");
    let second = app
        .signals
        .list_signals(list("many", 2, &first.token, ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.signals.len(), 1);
    assert_eq!(second.token, "");
    let mut names: Vec<String> = first
        .signals
        .iter()
        .chain(&second.signals)
        .map(|signal| signal.id.clone().unwrap().signal_id)
        .collect();
    names.sort();
    assert_eq!(names, ["s0", "s1", "s2"]);

    let filtered = app
        .signals
        .list_signals(list("many", 10, "", "eq(signal_id,s1)"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(filtered.signals.len(), 1);
    assert_eq!(filtered.signals[0].id, Some(signal_id("many", "s1")));

    let prefixed = app
        .signals
        .list_signals(list("many", 10, "", "value_in(signal.signal_id,s0;s2)"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(prefixed.signals.len(), 2);
}

async fn signal_errors() {
    let mut app = app_with_execution("gated").await;
    app.signals
        .get_or_create_signal(get_or_create("gated", "approve", boolean_type()))
        .await
        .unwrap();

    assert_status(
        app.signals
            .get_or_create_signal(get_or_create("gated", "approve", integer_type()))
            .await,
        Code::InvalidArgument,
        "already exists with type BOOLEAN, not INTEGER",
    );
    assert_status(
        app.signals
            .get_or_create_signal(admin::SignalGetOrCreateRequest {
                id: Some(signal_id("gated", "typeless")),
                r#type: None,
            })
            .await,
        Code::InvalidArgument,
        "missing type",
    );
    assert_status(
        app.signals
            .get_or_create_signal(get_or_create("gated", "", boolean_type()))
            .await,
        Code::InvalidArgument,
        "missing signal_id",
    );
    assert_status(
        app.signals
            .get_or_create_signal(admin::SignalGetOrCreateRequest {
                id: Some(core::SignalIdentifier {
                    signal_id: "approve".to_string(),
                    execution_id: None,
                }),
                r#type: Some(boolean_type()),
            })
            .await,
        Code::InvalidArgument,
        "missing id in execution_id",
    );
    assert_status(
        app.signals
            .get_or_create_signal(get_or_create("nosuch", "approve", boolean_type()))
            .await,
        Code::NotFound,
        "execution flytesnacks/development/nosuch does not exist",
    );

    assert_status(
        app.signals
            .set_signal(set("gated", "unknown", boolean(true)))
            .await,
        Code::NotFound,
        "signal flytesnacks/development/gated/unknown does not exist",
    );
    assert_status(
        app.signals
            .set_signal(set("gated", "approve", integer(1)))
            .await,
        Code::InvalidArgument,
        "invalid value for signal flytesnacks/development/gated/approve: expected BOOLEAN but got an INTEGER",
    );
    assert_status(
        app.signals
            .set_signal(admin::SignalSetRequest {
                id: Some(signal_id("gated", "approve")),
                value: None,
            })
            .await,
        Code::InvalidArgument,
        "missing value",
    );

    assert_status(
        app.signals.list_signals(list("gated", 0, "", "")).await,
        Code::InvalidArgument,
        "invalid limit",
    );
    assert_status(
        app.signals
            .list_signals(list("gated", 5, "", "eq(password,x)"))
            .await,
        Code::InvalidArgument,
        "password",
    );
    assert_status(
        app.signals.list_signals(list("nosuch", 5, "", "")).await,
        Code::NotFound,
        "execution flytesnacks/development/nosuch does not exist",
    );
    assert_status(
        app.signals
            .list_signals(admin::SignalListRequest {
                limit: 5,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "missing workflow_execution_id",
    );
}

common::on_every_backend!(
    a_gate_creates_a_signal_once_and_sees_the_value_once_set,
    signals_survive_a_restart_of_the_service,
    list_signals_pages_and_filters_within_one_execution,
    signal_errors,
);

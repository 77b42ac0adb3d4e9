//! Every list query the admin runs is served by an index: the database's own
//! planner is asked (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN` with
//! sequential scans disabled) how it would run the exact SQL the store
//! generates for the filters and orders consoles send.

mod common;

use common::{DOMAIN, PROJECT, TestApp};
use updraft_admin::filters::{
    DESCRIPTION_ENTITY_FIELDS, EntityFields, LAUNCH_PLAN_FIELDS, ListRequestParts,
    NAMED_ENTITY_FIELDS, NODE_EXECUTION_FIELDS, PROJECT_FIELDS, SIGNAL_FIELDS,
    TASK_EXECUTION_FIELDS, TASK_FIELDS, WORKFLOW_FIELDS, build_list_query,
};
use updraft_admin::store::{
    Condition, Dialect, ExecutionKey, ListQuery, ListStatement, NodeExecutionKey, Operator,
    SqlValue,
};
use updraft_admin::{definition_list_query, execution_list_query};
use updraft_database::testing::plans::{
    full_scan_in, query_plan, searched_by_index_key, sorted_outside_an_index,
};
use updraft_proto::flyteidl::admin;

/// One list query as a console or flytekit would cause it.
struct Case {
    what: String,
    statement: ListStatement<'static>,
    query: ListQuery,
    /// Whether an index must also give the order, so a page is read without
    /// sorting every matching row (checked on SQLite, whose planner says so).
    ordered: bool,
}

fn sort(key: &str, descending: bool) -> Option<admin::Sort> {
    let direction = if descending {
        admin::sort::Direction::Descending
    } else {
        admin::sort::Direction::Ascending
    };
    Some(admin::Sort {
        key: key.to_string(),
        direction: direction as i32,
    })
}

fn resource_list_request(
    name: &str,
    filters: &str,
    sort_by: Option<admin::Sort>,
) -> admin::ResourceListRequest {
    admin::ResourceListRequest {
        id: Some(admin::NamedEntityIdentifier {
            project: PROJECT.to_string(),
            domain: DOMAIN.to_string(),
            name: name.to_string(),
            org: String::new(),
        }),
        limit: 50,
        token: "100".to_string(),
        filters: filters.to_string(),
        sort_by,
    }
}

fn scope() -> Vec<Condition> {
    vec![
        Condition::text("project", PROJECT),
        Condition::text("domain", DOMAIN),
    ]
}

fn query(
    fields: &EntityFields,
    filters: &str,
    sort_by: Option<admin::Sort>,
    scope: Vec<Condition>,
) -> ListQuery {
    build_list_query(
        fields,
        ListRequestParts {
            filters,
            sort_by: sort_by.as_ref(),
            limit: 50,
            token: "100",
        },
        scope,
        None,
    )
    .unwrap_or_else(|error| panic!("build a query for {filters:?}: {error}"))
}

fn execution_key() -> &'static ExecutionKey {
    Box::leak(Box::new(ExecutionKey {
        project: PROJECT.to_string(),
        domain: DOMAIN.to_string(),
        name: "a1b2c3".to_string(),
    }))
}

fn node_key() -> &'static NodeExecutionKey {
    Box::leak(Box::new(NodeExecutionKey {
        execution: execution_key().clone(),
        node_id: "n0".to_string(),
    }))
}

/// The list queries consoles, flytekit and the CLI make.
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let day = "gte(created_at,2025-01-01T00:00:00Z)+lt(created_at,2025-01-02T00:00:00Z)";
    let execution_filters = [
        "",
        "eq(phase,RUNNING)",
        "value_in(phase,SUCCEEDED;FAILED;ABORTED;TIMED_OUT)",
        day,
        &format!("eq(phase,FAILED)+{day}"),
        "eq(workflow.name,my.workflows.train)",
        "eq(launch_plan.name,my.workflows.train)",
        "eq(workflow.name,wf)+eq(phase,SUCCEEDED)",
        "eq(mode,RELAUNCH)",
        "eq(state,EXECUTION_ARCHIVED)",
        "value_in(state,0;1)",
        "eq(user,alice)",
        "contains(name,abc)",
        "gte(duration,1h)",
        "gte(duration,60)+lt(duration,300)",
    ];
    for filters in execution_filters {
        for descending in [true, false] {
            let request = resource_list_request("", filters, sort("created_at", descending));
            cases.push(Case {
                what: format!("executions {filters:?} by created_at (descending: {descending})"),
                statement: ListStatement::Executions,
                // A duration range is read through the duration index, which
                // narrows the rows; the page is then sorted from those few.
                ordered: !filters.starts_with("value_in") && !filters.contains("duration"),
                query: execution_list_query(&request).expect("an execution list query"),
            });
        }
    }
    for descending in [true, false] {
        let request = resource_list_request("", "", sort("duration", descending));
        cases.push(Case {
            what: format!("executions by duration (descending: {descending})"),
            statement: ListStatement::Executions,
            ordered: true,
            query: execution_list_query(&request).expect("an execution list query"),
        });
    }
    for key in ["updated_at", "started_at", "name"] {
        let request = resource_list_request("", "eq(phase,RUNNING)", sort(key, true));
        cases.push(Case {
            what: format!("running executions by {key}"),
            statement: ListStatement::Executions,
            ordered: false,
            query: execution_list_query(&request).expect("an execution list query"),
        });
    }

    let execution = execution_key();
    for filters in ["", "eq(phase,RUNNING)", "value_in(phase,FAILED;TIMED_OUT)"] {
        cases.push(Case {
            what: format!("node executions {filters:?}"),
            statement: ListStatement::NodeExecutions {
                execution,
                parent_node_id: "",
            },
            ordered: true,
            query: query(&NODE_EXECUTION_FIELDS, filters, None, Vec::new()),
        });
    }
    cases.push(Case {
        what: "node executions by node_id".to_string(),
        statement: ListStatement::NodeExecutions {
            execution,
            parent_node_id: "",
        },
        ordered: true,
        query: query(
            &NODE_EXECUTION_FIELDS,
            "",
            sort("node_id", false),
            Vec::new(),
        ),
    });
    let node = node_key();
    for filters in ["", "eq(retry_attempt,1)", "eq(phase,FAILED)"] {
        cases.push(Case {
            what: format!("task executions {filters:?}"),
            statement: ListStatement::TaskExecutions { node },
            ordered: true,
            query: query(&TASK_EXECUTION_FIELDS, filters, None, Vec::new()),
        });
    }

    let definitions: [(
        &str,
        &EntityFields,
        ListStatement<'static>,
        ListStatement<'static>,
    ); 3] = [
        (
            "tasks",
            &TASK_FIELDS,
            ListStatement::Tasks,
            ListStatement::TaskNames,
        ),
        (
            "workflows",
            &WORKFLOW_FIELDS,
            ListStatement::Workflows,
            ListStatement::WorkflowNames,
        ),
        (
            "launch plans",
            &LAUNCH_PLAN_FIELDS,
            ListStatement::LaunchPlans,
            ListStatement::LaunchPlanNames,
        ),
    ];
    for (label, fields, versions, names) in definitions {
        for (name, filters) in [
            ("", ""),
            ("my.tasks.add", ""),
            ("my.tasks.add", "eq(version,v1)"),
        ] {
            for key in ["created_at", "version"] {
                let request = resource_list_request(name, filters, sort(key, true));
                cases.push(Case {
                    what: format!("{label} named {name:?} {filters:?} by {key}"),
                    statement: versions,
                    ordered: key == "created_at" || !name.is_empty(),
                    query: definition_list_query(fields, &request).expect("a definition query"),
                });
            }
        }
        for key in ["name", "created_at"] {
            cases.push(Case {
                what: format!("{label} names by {key}"),
                statement: names,
                ordered: false,
                query: query(fields, "", sort(key, false), scope()),
            });
        }
    }
    cases.push(Case {
        what: "active launch plans".to_string(),
        statement: ListStatement::LaunchPlans,
        ordered: false,
        query: definition_list_query(
            &LAUNCH_PLAN_FIELDS,
            &resource_list_request("", "eq(state,ACTIVE)", sort("created_at", true)),
        )
        .expect("a launch plan query"),
    });

    for filters in ["", "eq(state,0)", "contains(name,train)"] {
        let mut named_scope = scope();
        named_scope.insert(0, Condition::equal("resource_type", SqlValue::Integer(2)));
        cases.push(Case {
            what: format!("named entities {filters:?}"),
            statement: ListStatement::NamedEntities,
            ordered: true,
            query: query(&NAMED_ENTITY_FIELDS, filters, None, named_scope),
        });
    }
    for name in ["", "my.tasks.add"] {
        let mut described = scope();
        described.insert(0, Condition::equal("resource_type", SqlValue::Integer(1)));
        if !name.is_empty() {
            described.push(Condition::text("name", name));
        }
        cases.push(Case {
            what: format!("description entities named {name:?}"),
            statement: ListStatement::DescriptionEntities,
            ordered: true,
            query: query(&DESCRIPTION_ENTITY_FIELDS, "", None, described),
        });
    }

    for filters in ["", "eq(signal_id,approve)"] {
        cases.push(Case {
            what: format!("signals {filters:?}"),
            statement: ListStatement::Signals,
            ordered: true,
            query: query(
                &SIGNAL_FIELDS,
                filters,
                None,
                vec![
                    Condition::text("execution_project", PROJECT),
                    Condition::text("execution_domain", DOMAIN),
                    Condition::text("execution_name", "a1b2c3"),
                ],
            ),
        });
    }

    // Projects are few and listed whole, in pages: walking an index in the
    // requested order is what serves them.
    let not_archived = Condition {
        column: "state",
        operator: Operator::NotEqual,
        values: vec![SqlValue::Integer(1)],
    };
    for key in ["created_at", "name", "id"] {
        cases.push(Case {
            what: format!("projects by {key}"),
            statement: ListStatement::Projects,
            ordered: true,
            query: query(
                &PROJECT_FIELDS,
                "",
                sort(key, false),
                vec![not_archived.clone()],
            ),
        });
    }
    cases.push(Case {
        what: "archived projects".to_string(),
        statement: ListStatement::Projects,
        ordered: false,
        query: query(&PROJECT_FIELDS, "eq(state,ARCHIVED)", None, Vec::new()),
    });
    cases
}

/// Why the plan of `statement` is not served by an index, if it is not.
fn plan_problem(plan: &[String], dialect: Dialect, statement: ListStatement<'_>) -> Option<String> {
    let table = statement.table();
    if let Some(step) = full_scan_in(plan, dialect, table) {
        return Some(format!("full scan: {step}"));
    }
    // Everything but projects is scoped (project and domain, or the parent
    // execution): the database must reach it through an index key, not by
    // walking a whole index.
    if table == "projects" {
        return None;
    }
    // Each statement reads one table, so a key condition is on it.
    (!searched_by_index_key(plan, dialect, table))
        .then(|| format!("{table} is not searched by an index key"))
}

async fn every_list_query_is_served_by_an_index() {
    let app = TestApp::spawn().await;
    let store = app.api.store();
    let dialect = store.dialect();
    let mut connection = store.pool().acquire().await.expect("a connection");
    if dialect == Dialect::Postgres {
        // Tables are empty here, where a sequential scan is always cheapest;
        // with it priced out the planner shows whether an index can serve.
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut *connection)
            .await
            .expect("disable sequential scans");
    }
    let cases = cases();
    assert!(cases.len() > 60, "the cases cover every list");
    let mut failures = Vec::new();
    for case in &cases {
        let (sql, binds) = case.statement.sql(&case.query);
        let plan = query_plan(&mut connection, dialect, &sql, &binds).await;
        assert!(!plan.is_empty(), "{}: the planner said nothing", case.what);
        let unordered = case.ordered && sorted_outside_an_index(&plan, dialect);
        if unordered {
            failures.push(format!(
                "{}: sorted outside the index\n  sql: {sql}\n  plan: {}",
                case.what,
                plan.join(" | ")
            ));
        }
        if let Some(problem) = plan_problem(&plan, dialect, case.statement) {
            failures.push(format!(
                "{}: {problem}\n  sql: {sql}\n  plan: {}",
                case.what,
                plan.join(" | ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} list queries scan a table on {dialect:?}:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

async fn the_index_check_notices_a_full_scan() {
    // The checker itself must see a scan when there is one: a filter on a
    // column no index leads with, without the scope.
    let app = TestApp::spawn().await;
    let store = app.api.store();
    let dialect = store.dialect();
    let mut connection = store.pool().acquire().await.expect("a connection");
    if dialect == Dialect::Postgres {
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut *connection)
            .await
            .expect("disable sequential scans");
    }
    let unscoped = query(
        &updraft_admin::filters::EXECUTION_FIELDS,
        "eq(principal,alice)",
        sort("principal", false),
        Vec::new(),
    );
    let (sql, binds) = ListStatement::Executions.sql(&unscoped);
    let plan = query_plan(&mut connection, dialect, &sql, &binds).await;
    assert!(
        plan_problem(&plan, dialect, ListStatement::Executions).is_some(),
        "expected a full scan in {plan:?}"
    );
}

common::on_every_backend!(
    every_list_query_is_served_by_an_index,
    the_index_check_notices_a_full_scan,
);

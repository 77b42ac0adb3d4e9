//! Flyte's list-request language: `filters` such as
//! `eq(phase,RUNNING)+gte(created_at,2024-01-01T00:00:00Z)+value_in(name,a;b)`,
//! `sort_by`, `limit` and the opaque page `token`, turned into a
//! [`ListQuery`]. Field names are mapped to columns through per-entity
//! allow-lists, so user text never reaches SQL except as bound values.

use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core;

use crate::error::AdminError;
use crate::store::{Condition, ListQuery, Operator, OrderBy, SqlValue};

/// One parsed `function(field,value)` term, before fields are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterTerm {
    /// The comparison.
    pub operator: Operator,
    /// The field as written (`phase`, `execution.phase`, `workflow.name`).
    pub field: String,
    /// The value, or the `;`-separated values of `value_in`.
    pub values: Vec<String>,
}

/// Why a filter string could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The text does not follow `function(field,value)[+…]`.
    #[error("malformed filter {fragment:?}: expected function(field,value)")]
    Malformed { fragment: String },
    /// The function is not one of Flyte's.
    #[error("unknown filter function {function:?}")]
    UnknownFunction { function: String },
    /// The field cannot be filtered or sorted on for this entity.
    #[error("unknown field {field:?} for {entity}")]
    UnknownField { field: String, entity: &'static str },
    /// The value does not fit the field.
    #[error("invalid value {value:?} for field {field:?}")]
    InvalidValue { field: String, value: String },
}

impl From<FilterError> for AdminError {
    fn from(error: FilterError) -> Self {
        AdminError::InvalidArgument(error.to_string())
    }
}

/// Parses a filter string into terms; an empty string has none.
pub fn parse_filters(input: &str) -> Result<Vec<FilterTerm>, FilterError> {
    let mut terms = Vec::new();
    let mut rest = input.trim();
    while !rest.is_empty() {
        let malformed = || FilterError::Malformed {
            fragment: rest.chars().take(80).collect(),
        };
        let open = rest.find('(').ok_or_else(malformed)?;
        let function = rest[..open].trim();
        let operator = match function {
            "eq" => Operator::Equal,
            "ne" => Operator::NotEqual,
            "gt" => Operator::GreaterThan,
            "gte" => Operator::GreaterThanOrEqual,
            "lt" => Operator::LessThan,
            "lte" => Operator::LessThanOrEqual,
            "contains" => Operator::Contains,
            "value_in" => Operator::ValueIn,
            "" => return Err(malformed()),
            other => {
                return Err(FilterError::UnknownFunction {
                    function: other.to_string(),
                });
            }
        };
        let after_open = &rest[open + 1..];
        let comma = after_open.find(',').ok_or_else(malformed)?;
        let field = after_open[..comma].trim();
        let after_comma = &after_open[comma + 1..];
        let close = after_comma.find(')').ok_or_else(malformed)?;
        let raw_value = after_comma[..close].trim();
        if field.is_empty() || field.contains('(') {
            return Err(malformed());
        }
        let values = if operator == Operator::ValueIn {
            raw_value
                .split(';')
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
                .collect()
        } else {
            vec![raw_value.to_string()]
        };
        terms.push(FilterTerm {
            operator,
            field: field.to_string(),
            values,
        });
        rest = after_comma[close + 1..].trim_start();
        if let Some(next) = rest.strip_prefix('+') {
            rest = next.trim_start();
            if rest.is_empty() {
                return Err(FilterError::Malformed {
                    fragment: input.chars().take(80).collect(),
                });
            }
        } else if !rest.is_empty() {
            return Err(malformed());
        }
    }
    Ok(terms)
}

/// How a field's text value becomes a column value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Compared as text.
    Text,
    /// An integer.
    Integer,
    /// RFC 3339 time (or microseconds), stored as microseconds.
    Timestamp,
    /// A duration: Go's notation (`90s`, `1h30m`, `250ms`) or seconds,
    /// stored as microseconds.
    Duration,
    /// `core.WorkflowExecution.Phase` by name or number.
    ExecutionPhase,
    /// `admin.Project.ProjectState` by name or number.
    ProjectState,
    /// `admin.LaunchPlanState` by name or number.
    LaunchPlanState,
    /// `admin.NamedEntityState` by name or number.
    NamedEntityState,
    /// `admin.ExecutionState` by name or number.
    ExecutionState,
    /// `admin.ExecutionMetadata.ExecutionMode` by name or number.
    ExecutionMode,
    /// `core.NodeExecution.Phase` by name or number.
    NodeExecutionPhase,
    /// `core.TaskExecution.Phase` by name or number.
    TaskExecutionPhase,
}

/// A filterable, sortable field and its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The name clients use.
    pub name: &'static str,
    /// The SQL column.
    pub column: &'static str,
    /// How values convert.
    pub kind: FieldKind,
}

const fn field(name: &'static str, column: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec { name, column, kind }
}

/// The allow-list of one entity's fields.
#[derive(Debug, Clone, Copy)]
pub struct EntityFields {
    /// The entity's name, also accepted as a field prefix (`execution.phase`).
    pub entity: &'static str,
    /// Its fields.
    pub fields: &'static [FieldSpec],
    /// The order when the request gives none.
    pub default_order: OrderBy,
}

impl EntityFields {
    fn resolve(&self, name: &str) -> Result<&'static FieldSpec, FilterError> {
        let unprefixed = name
            .strip_prefix(self.entity)
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(name);
        self.fields
            .iter()
            .find(|spec| spec.name == unprefixed || spec.name == name)
            .ok_or_else(|| FilterError::UnknownField {
                field: name.to_string(),
                entity: self.entity,
            })
    }
}

const CREATED_DESCENDING: OrderBy = OrderBy {
    column: "created_at",
    descending: true,
};

/// Fields of projects.
pub const PROJECT_FIELDS: EntityFields = EntityFields {
    entity: "project",
    fields: &[
        field("id", "id", FieldKind::Text),
        field("identifier", "id", FieldKind::Text),
        field("name", "name", FieldKind::Text),
        field("description", "description", FieldKind::Text),
        field("state", "state", FieldKind::ProjectState),
        field("created_at", "created_at", FieldKind::Timestamp),
        field("updated_at", "updated_at", FieldKind::Timestamp),
    ],
    default_order: CREATED_DESCENDING,
};

/// Fields of tasks.
pub const TASK_FIELDS: EntityFields = EntityFields {
    entity: "task",
    fields: &[
        field("project", "project", FieldKind::Text),
        field("domain", "domain", FieldKind::Text),
        field("name", "name", FieldKind::Text),
        field("version", "version", FieldKind::Text),
        field("type", "task_type", FieldKind::Text),
        field("task_type", "task_type", FieldKind::Text),
        field("created_at", "created_at", FieldKind::Timestamp),
    ],
    default_order: CREATED_DESCENDING,
};

/// Fields of workflows.
pub const WORKFLOW_FIELDS: EntityFields = EntityFields {
    entity: "workflow",
    fields: &[
        field("project", "project", FieldKind::Text),
        field("domain", "domain", FieldKind::Text),
        field("name", "name", FieldKind::Text),
        field("version", "version", FieldKind::Text),
        field("created_at", "created_at", FieldKind::Timestamp),
    ],
    default_order: CREATED_DESCENDING,
};

/// Fields of launch plans.
pub const LAUNCH_PLAN_FIELDS: EntityFields = EntityFields {
    entity: "launch_plan",
    fields: &[
        field("project", "project", FieldKind::Text),
        field("domain", "domain", FieldKind::Text),
        field("name", "name", FieldKind::Text),
        field("version", "version", FieldKind::Text),
        field("state", "state", FieldKind::LaunchPlanState),
        field("created_at", "created_at", FieldKind::Timestamp),
        field("updated_at", "updated_at", FieldKind::Timestamp),
        field("workflow.name", "workflow_name", FieldKind::Text),
        field("workflow.version", "workflow_version", FieldKind::Text),
    ],
    default_order: CREATED_DESCENDING,
};

/// Fields of named entities.
pub const NAMED_ENTITY_FIELDS: EntityFields = EntityFields {
    entity: "named_entity",
    fields: &[
        field("project", "project", FieldKind::Text),
        field("domain", "domain", FieldKind::Text),
        field("name", "name", FieldKind::Text),
        field("state", "state", FieldKind::NamedEntityState),
        field("description", "description", FieldKind::Text),
        field("created_at", "created_at", FieldKind::Timestamp),
    ],
    default_order: OrderBy {
        column: "name",
        descending: false,
    },
};

/// Fields of executions.
pub const EXECUTION_FIELDS: EntityFields = EntityFields {
    entity: "execution",
    fields: &[
        field("project", "project", FieldKind::Text),
        field("domain", "domain", FieldKind::Text),
        field("name", "name", FieldKind::Text),
        field("phase", "phase", FieldKind::ExecutionPhase),
        field("state", "state", FieldKind::ExecutionState),
        field("mode", "mode", FieldKind::ExecutionMode),
        field("user", "principal", FieldKind::Text),
        field("principal", "principal", FieldKind::Text),
        field("created_at", "created_at", FieldKind::Timestamp),
        field("execution_created_at", "created_at", FieldKind::Timestamp),
        field("updated_at", "updated_at", FieldKind::Timestamp),
        field("execution_updated_at", "updated_at", FieldKind::Timestamp),
        field("started_at", "started_at", FieldKind::Timestamp),
        field("duration", "duration_micros", FieldKind::Duration),
        field("launch_plan.name", "launch_plan_name", FieldKind::Text),
        field(
            "launch_plan.version",
            "launch_plan_version",
            FieldKind::Text,
        ),
        field("workflow.name", "workflow_name", FieldKind::Text),
        field("workflow.version", "workflow_version", FieldKind::Text),
    ],
    default_order: CREATED_DESCENDING,
};

/// Microseconds in `value`: plain seconds (`3600`, `1.5`) or Go's duration
/// notation, which flytectl and consoles use (`1h30m`, `90s`, `250ms`).
fn parse_duration_micros(value: &str) -> Option<i64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1e6).round() as i64);
    }
    let mut total = 0f64;
    let mut rest = value;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|end| *end > 0)?;
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let micros_per_unit = match &rest[..unit_end] {
            "h" => 3_600e6,
            "m" => 60e6,
            "s" => 1e6,
            "ms" => 1e3,
            "us" | "µs" => 1.0,
            "ns" => 1e-3,
            _ => return None,
        };
        total += number * micros_per_unit;
        rest = &rest[unit_end..];
    }
    Some(total.round() as i64)
}

fn enum_value(
    spec: &FieldSpec,
    value: &str,
    from_name: impl Fn(&str) -> Option<i32>,
) -> Result<SqlValue, FilterError> {
    let number = value
        .parse::<i32>()
        .ok()
        .or_else(|| from_name(value))
        .or_else(|| from_name(&value.to_ascii_uppercase()));
    number
        .map(|number| SqlValue::Integer(i64::from(number)))
        .ok_or_else(|| FilterError::InvalidValue {
            field: spec.name.to_string(),
            value: value.to_string(),
        })
}

fn convert_value(spec: &FieldSpec, value: &str) -> Result<SqlValue, FilterError> {
    let invalid = || FilterError::InvalidValue {
        field: spec.name.to_string(),
        value: value.to_string(),
    };
    match spec.kind {
        FieldKind::Text => Ok(SqlValue::Text(value.to_string())),
        FieldKind::Integer => value.parse().map(SqlValue::Integer).map_err(|_| invalid()),
        FieldKind::Duration => parse_duration_micros(value)
            .map(SqlValue::Integer)
            .ok_or_else(invalid),
        FieldKind::Timestamp => {
            if let Ok(micros) = value.parse::<i64>() {
                return Ok(SqlValue::Integer(micros));
            }
            chrono::DateTime::parse_from_rfc3339(value)
                .map(|time| SqlValue::Integer(time.timestamp_micros()))
                .map_err(|_| invalid())
        }
        FieldKind::NodeExecutionPhase => enum_value(spec, value, |name| {
            core::node_execution::Phase::from_str_name(name).map(|phase| phase as i32)
        }),
        FieldKind::TaskExecutionPhase => enum_value(spec, value, |name| {
            core::task_execution::Phase::from_str_name(name).map(|phase| phase as i32)
        }),
        FieldKind::ExecutionPhase => enum_value(spec, value, |name| {
            core::workflow_execution::Phase::from_str_name(name).map(|phase| phase as i32)
        }),
        FieldKind::ProjectState => enum_value(spec, value, |name| {
            admin::project::ProjectState::from_str_name(name).map(|state| state as i32)
        }),
        FieldKind::LaunchPlanState => enum_value(spec, value, |name| {
            admin::LaunchPlanState::from_str_name(name).map(|state| state as i32)
        }),
        FieldKind::NamedEntityState => enum_value(spec, value, |name| {
            admin::NamedEntityState::from_str_name(name)
                .or_else(|| admin::NamedEntityState::from_str_name(&format!("NAMED_ENTITY_{name}")))
                .map(|state| state as i32)
        }),
        FieldKind::ExecutionState => enum_value(spec, value, |name| {
            admin::ExecutionState::from_str_name(name)
                .or_else(|| admin::ExecutionState::from_str_name(&format!("EXECUTION_{name}")))
                .map(|state| state as i32)
        }),
        FieldKind::ExecutionMode => enum_value(spec, value, |name| {
            admin::execution_metadata::ExecutionMode::from_str_name(name).map(|mode| mode as i32)
        }),
    }
}

/// Fields of node executions.
pub const NODE_EXECUTION_FIELDS: EntityFields = EntityFields {
    entity: "node_execution",
    fields: &[
        field("node_id", "node_id", FieldKind::Text),
        field("phase", "phase", FieldKind::NodeExecutionPhase),
        field("created_at", "created_at", FieldKind::Timestamp),
        field("updated_at", "updated_at", FieldKind::Timestamp),
    ],
    default_order: OrderBy {
        column: "created_at",
        descending: false,
    },
};

/// Fields of task executions.
pub const TASK_EXECUTION_FIELDS: EntityFields = EntityFields {
    entity: "task_execution",
    fields: &[
        field("retry_attempt", "retry_attempt", FieldKind::Integer),
        field("phase", "phase", FieldKind::TaskExecutionPhase),
        field("task.name", "task_name", FieldKind::Text),
        field("task.version", "task_version", FieldKind::Text),
        field("created_at", "created_at", FieldKind::Timestamp),
        field("updated_at", "updated_at", FieldKind::Timestamp),
    ],
    default_order: OrderBy {
        column: "retry_attempt",
        descending: false,
    },
};

/// Fields of description entities.
pub const DESCRIPTION_ENTITY_FIELDS: EntityFields = EntityFields {
    entity: "description_entity",
    fields: &[
        field("name", "name", FieldKind::Text),
        field("version", "version", FieldKind::Text),
        field("short_description", "short_description", FieldKind::Text),
        field("created_at", "created_at", FieldKind::Timestamp),
    ],
    default_order: CREATED_DESCENDING,
};

/// Fields of signals.
pub const SIGNAL_FIELDS: EntityFields = EntityFields {
    entity: "signal",
    fields: &[
        field("signal_id", "signal_id", FieldKind::Text),
        field("created_at", "created_at", FieldKind::Timestamp),
        field("updated_at", "updated_at", FieldKind::Timestamp),
    ],
    default_order: OrderBy {
        column: "created_at",
        descending: false,
    },
};

/// Resolves parsed terms against an entity's allow-list.
pub fn resolve_terms(
    fields: &EntityFields,
    terms: &[FilterTerm],
) -> Result<Vec<Condition>, FilterError> {
    terms
        .iter()
        .map(|term| {
            let spec = fields.resolve(&term.field)?;
            if term.operator == Operator::Contains && spec.kind != FieldKind::Text {
                return Err(FilterError::InvalidValue {
                    field: term.field.clone(),
                    value: term.values.join(";"),
                });
            }
            let values = term
                .values
                .iter()
                .map(|value| convert_value(spec, value))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Condition {
                column: spec.column,
                operator: term.operator,
                values,
            })
        })
        .collect()
}

/// The parts of a list request, whichever message carried them.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListRequestParts<'request> {
    /// The filter string.
    pub filters: &'request str,
    /// The requested order.
    pub sort_by: Option<&'request admin::Sort>,
    /// The page size; zero is rejected unless `default_limit` is set.
    pub limit: u32,
    /// The page token from the previous answer.
    pub token: &'request str,
}

/// Every admin list request carries its filters, order and page under the
/// same field names.
macro_rules! list_request_parts {
    ($($request:ty),* $(,)?) => {$(
        impl<'request> From<&'request $request> for ListRequestParts<'request> {
            fn from(request: &'request $request) -> Self {
                Self {
                    filters: &request.filters,
                    sort_by: request.sort_by.as_ref(),
                    limit: request.limit,
                    token: &request.token,
                }
            }
        }
    )*};
}

list_request_parts!(
    admin::ResourceListRequest,
    admin::NamedEntityListRequest,
    admin::NamedEntityIdentifierListRequest,
    admin::ProjectListRequest,
    admin::SignalListRequest,
    admin::NodeExecutionListRequest,
    admin::NodeExecutionForTaskListRequest,
    admin::TaskExecutionListRequest,
    admin::DescriptionEntityListRequest,
);

/// The most rows one page may hold.
pub const MAX_PAGE_SIZE: u32 = 10_000;

/// Builds the query for a list request: the `scope` conditions (project, domain,
/// …) plus the user's filters, order and page. `default_limit` replaces a zero
/// limit where flyteadmin allows one (projects); elsewhere zero is invalid.
pub fn build_list_query(
    fields: &EntityFields,
    parts: ListRequestParts<'_>,
    scope: Vec<Condition>,
    default_limit: Option<u32>,
) -> Result<ListQuery, AdminError> {
    let limit = match (parts.limit, default_limit) {
        (0, Some(default)) => default,
        (0, None) => return Err(AdminError::invalid("invalid limit: 0, it must be positive")),
        (limit, _) => limit.min(MAX_PAGE_SIZE),
    };
    let offset = decode_page_token(parts.token)?;
    let mut conditions = scope;
    conditions.extend(resolve_terms(fields, &parse_filters(parts.filters)?)?);
    let order_by = match parts.sort_by {
        Some(sort) if !sort.key.is_empty() => {
            let spec = fields.resolve(&sort.key).map_err(|_| {
                AdminError::invalid(format!(
                    "invalid sort key {:?} for {}",
                    sort.key, fields.entity
                ))
            })?;
            OrderBy {
                column: spec.column,
                descending: sort.direction() == admin::sort::Direction::Descending,
            }
        }
        _ => fields.default_order,
    };
    Ok(ListQuery {
        conditions,
        order_by,
        limit: i64::from(limit),
        offset,
    })
}

/// The offset a page token stands for; the empty token is the first page.
pub fn decode_page_token(token: &str) -> Result<i64, AdminError> {
    if token.is_empty() {
        return Ok(0);
    }
    token
        .parse::<i64>()
        .ok()
        .filter(|offset| *offset >= 0)
        .ok_or_else(|| AdminError::invalid(format!("invalid pagination token {token:?}")))
}

/// The token of the page after `query`, or empty when this page was the last.
pub fn next_page_token(query: &ListQuery, rows_returned: usize) -> String {
    if i64::try_from(rows_returned).unwrap_or(i64::MAX) >= query.limit {
        (query.offset + query.limit).to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_joined_terms_and_value_lists() {
        let terms = parse_filters(
            "eq(phase,RUNNING)+gte(created_at,2024-01-01T00:00:00+00:00)+value_in(name,a;b;c)",
        )
        .unwrap();
        assert_eq!(terms.len(), 3);
        assert_eq!(terms[0].operator, Operator::Equal);
        assert_eq!(terms[0].field, "phase");
        assert_eq!(terms[0].values, vec!["RUNNING"]);
        assert_eq!(terms[1].operator, Operator::GreaterThanOrEqual);
        assert_eq!(terms[1].values, vec!["2024-01-01T00:00:00+00:00"]);
        assert_eq!(terms[2].operator, Operator::ValueIn);
        assert_eq!(terms[2].values, vec!["a", "b", "c"]);
    }

    #[test]
    fn empty_filter_has_no_terms() {
        assert!(parse_filters("").unwrap().is_empty());
        assert!(parse_filters("   ").unwrap().is_empty());
    }

    #[test]
    fn rejects_malformed_filters_naming_the_fragment() {
        for bad in [
            "eq(phase)",
            "eq phase,RUNNING",
            "eq(phase,RUNNING)+",
            "eq(phase,RUNNING)x",
            "(a,b)",
        ] {
            let error = parse_filters(bad).unwrap_err();
            assert!(
                matches!(error, FilterError::Malformed { .. }),
                "{bad}: {error:?}"
            );
        }
        assert_eq!(
            parse_filters("like(name,x)").unwrap_err(),
            FilterError::UnknownFunction {
                function: "like".to_string()
            }
        );
    }

    #[test]
    fn resolves_fields_through_the_allow_list() {
        let terms = parse_filters(
            "eq(execution.phase,RUNNING)+eq(workflow.name,wf)+gte(created_at,2024-01-01T00:00:00Z)+contains(name,ab)",
        )
        .unwrap();
        let conditions = resolve_terms(&EXECUTION_FIELDS, &terms).unwrap();
        assert_eq!(
            conditions[0],
            Condition {
                column: "phase",
                operator: Operator::Equal,
                values: vec![SqlValue::Integer(
                    core::workflow_execution::Phase::Running as i64
                )],
            }
        );
        assert_eq!(conditions[1].column, "workflow_name");
        assert_eq!(
            conditions[2].values,
            vec![SqlValue::Integer(1_704_067_200_000_000)]
        );
        assert_eq!(conditions[3].operator, Operator::Contains);
    }

    #[test]
    fn rejects_unknown_fields_and_bad_values() {
        let terms = parse_filters("eq(password,x)").unwrap();
        assert_eq!(
            resolve_terms(&EXECUTION_FIELDS, &terms).unwrap_err(),
            FilterError::UnknownField {
                field: "password".to_string(),
                entity: "execution"
            }
        );
        let terms = parse_filters("eq(phase,SLEEPING)").unwrap();
        assert!(matches!(
            resolve_terms(&EXECUTION_FIELDS, &terms).unwrap_err(),
            FilterError::InvalidValue { .. }
        ));
        let terms = parse_filters("gte(created_at,yesterday)").unwrap();
        assert!(matches!(
            resolve_terms(&TASK_FIELDS, &terms).unwrap_err(),
            FilterError::InvalidValue { .. }
        ));
    }

    #[test]
    fn builds_queries_with_order_page_and_limit() {
        let sort = admin::Sort {
            key: "name".to_string(),
            direction: admin::sort::Direction::Ascending as i32,
        };
        let query = build_list_query(
            &TASK_FIELDS,
            ListRequestParts {
                filters: "eq(version,v1)",
                sort_by: Some(&sort),
                limit: 5,
                token: "10",
            },
            vec![Condition::text("project", "p")],
            None,
        )
        .unwrap();
        assert_eq!(query.limit, 5);
        assert_eq!(query.offset, 10);
        assert_eq!(query.conditions.len(), 2);
        assert_eq!(
            query.order_by,
            OrderBy {
                column: "name",
                descending: false
            }
        );
        let (sql, binds) = query.render(&["project", "name"]);
        assert_eq!(
            sql,
            " WHERE project = $1 AND version = $2 ORDER BY name ASC, project ASC LIMIT $3 OFFSET $4"
        );
        assert_eq!(binds.len(), 4);
        assert_eq!(next_page_token(&query, 5), "15");
        assert_eq!(next_page_token(&query, 4), "");
    }

    #[test]
    fn rejects_zero_limits_bad_tokens_and_unknown_sort_keys() {
        let parts = ListRequestParts {
            limit: 0,
            ..Default::default()
        };
        assert!(build_list_query(&TASK_FIELDS, parts, vec![], None).is_err());
        assert!(build_list_query(&TASK_FIELDS, parts, vec![], Some(100)).is_ok());
        let parts = ListRequestParts {
            limit: 3,
            token: "not-a-number",
            ..Default::default()
        };
        assert!(build_list_query(&TASK_FIELDS, parts, vec![], None).is_err());
        let sort = admin::Sort {
            key: "secret".to_string(),
            direction: 0,
        };
        let parts = ListRequestParts {
            limit: 3,
            sort_by: Some(&sort),
            ..Default::default()
        };
        let error = build_list_query(&TASK_FIELDS, parts, vec![], None).unwrap_err();
        assert!(error.to_string().contains("secret"));
    }

    #[test]
    fn value_in_renders_one_placeholder_per_value_and_contains_escapes() {
        let conditions = resolve_terms(
            &EXECUTION_FIELDS,
            &parse_filters("value_in(phase,RUNNING;SUCCEEDED)+contains(name,50%_off)").unwrap(),
        )
        .unwrap();
        let mut binds = Vec::new();
        let sql = crate::store::render_where(&conditions, &mut binds);
        assert_eq!(sql, " WHERE phase IN ($1, $2) AND name LIKE $3 ESCAPE '\\'");
        assert_eq!(binds[2], SqlValue::Text("%50\\%\\_off%".to_string()));
    }

    #[test]
    fn durations_read_as_seconds_or_go_notation() {
        assert_eq!(parse_duration_micros("90"), Some(90_000_000));
        assert_eq!(parse_duration_micros("1.5"), Some(1_500_000));
        assert_eq!(parse_duration_micros("1h30m"), Some(5_400_000_000));
        assert_eq!(parse_duration_micros("250ms"), Some(250_000));
        assert_eq!(parse_duration_micros("2m3s"), Some(123_000_000));
        for bad in ["", "-5", "5x", "h", "1h-"] {
            assert_eq!(parse_duration_micros(bad), None, "{bad}");
        }
    }
}

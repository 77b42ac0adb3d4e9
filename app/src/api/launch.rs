//! Server functions of the launch form: what a workflow, task or launch plan
//! takes, and creating the execution.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use super::{EntityKind, IdentifierView};
use crate::error::ConsoleError;
use crate::launch::InputKind;
use crate::literals::NamedValue;

/// One input of the form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchField {
    pub name: String,
    /// The type in Python syntax (`List[int]`).
    pub type_name: String,
    pub description: String,
    pub kind: InputKind,
    pub required: bool,
    /// The default, in the field's own syntax.
    pub default_text: Option<String>,
    /// For a union, which of its types the default is.
    pub default_variant: Option<usize>,
}

/// What the launch form of one workflow, task or launch plan shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchForm {
    /// The launch plan (or task) an execution is created from.
    pub target: IdentifierView,
    /// Whether `target` is a task rather than a launch plan.
    pub target_is_task: bool,
    pub fields: Vec<LaunchField>,
    /// Inputs the launch plan fixes; shown, not editable.
    pub fixed_inputs: Vec<NamedValue>,
    /// The execution whose inputs prefill the form (a relaunch), if any.
    pub relaunch_of: Option<String>,
    /// The advanced options as they start: empty, or the relaunched
    /// execution's, in the form's own syntax.
    pub options: LaunchOptions,
}

/// The advanced options of a launch, as the form edits them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LaunchOptions {
    /// `key=value` lines.
    pub labels: String,
    /// `key=value` lines.
    pub annotations: String,
    pub raw_output_prefix: String,
    /// Empty for the platform's default.
    pub max_parallelism: String,
    pub overwrite_cache: bool,
    pub service_account: String,
}

/// What the form sends: each field's text as typed, and the advanced options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LaunchRequest {
    pub project: String,
    pub domain: String,
    /// The launch plan's or task's name and version, from [`LaunchForm::target`].
    pub name: String,
    pub version: String,
    pub target_is_task: bool,
    pub inputs: Vec<(String, String)>,
    /// The type chosen for each union input (an index into its types); a
    /// union without one is read as JSON, the first type that fits.
    #[serde(default)]
    pub union_variants: Vec<(String, usize)>,
    pub options: LaunchOptions,
    /// The execution this one relaunches, if any.
    pub relaunch_of: String,
}

/// The form of a launchable version (`version`, or the newest when empty):
/// a launch plan's own parameters, a workflow's default launch plan (flytekit
/// registers one under the workflow's name and version), or a task's
/// interface.
#[server(input = Json)]
pub async fn get_launch_form(
    project: String,
    domain: String,
    kind: EntityKind,
    name: String,
    version: String,
    relaunch_of: String,
) -> Result<LaunchForm, ConsoleError> {
    let mut client = super::admin_client()?;
    if relaunch_of.is_empty() {
        let version = Some(version.as_str()).filter(|version| !version.is_empty());
        server::launch_form(&mut client, &project, &domain, kind, &name, version).await
    } else {
        server::relaunch_form(&mut client, &project, &domain, &relaunch_of).await
    }
}

/// Creates an execution from the form and answers its name. Every input is
/// checked against the interface fetched here, not the browser's copy.
#[server(input = Json)]
pub async fn launch_execution(request: LaunchRequest) -> Result<String, ConsoleError> {
    let mut client = super::admin_client()?;
    server::launch(&mut client, request).await
}

#[cfg(feature = "ssr")]
pub(crate) use server::launch_options;

#[cfg(feature = "ssr")]
mod server {
    use std::collections::HashMap;

    use updraft_proto::flyteidl::admin;
    use updraft_proto::flyteidl::core::{self, ResourceType};

    use super::{LaunchField, LaunchForm, LaunchOptions, LaunchRequest};
    use crate::api::EntityKind;
    use crate::api::entities::{identifier_view, newest_first};
    use crate::error::ConsoleError;
    use crate::launch::{InputKind, LaunchValue, input_kind, parse_key_values, to_literal};
    use crate::literals::{literal_map_values, literal_value, render_type};

    type Client = crate::api::AdminClient;

    struct Parameter {
        name: String,
        variable: core::Variable,
        default: Option<core::Literal>,
        required: bool,
    }

    struct Target {
        id: core::Identifier,
        parameters: Vec<Parameter>,
        fixed_inputs: Option<core::LiteralMap>,
    }

    fn invalid(message: impl Into<String>) -> ConsoleError {
        ConsoleError::InvalidInput {
            message: message.into(),
        }
    }

    fn list_request(project: &str, domain: &str, name: &str) -> admin::ResourceListRequest {
        admin::ResourceListRequest {
            id: Some(admin::NamedEntityIdentifier {
                project: project.into(),
                domain: domain.into(),
                name: name.into(),
                ..Default::default()
            }),
            limit: 1,
            sort_by: Some(newest_first()),
            ..Default::default()
        }
    }

    async fn target(
        client: &mut Client,
        project: &str,
        domain: &str,
        kind: EntityKind,
        name: &str,
        version: Option<&str>,
    ) -> Result<Target, ConsoleError> {
        let not_found = |what: String| ConsoleError::NotFound { what };
        match kind {
            EntityKind::Task => {
                let task = match version {
                    Some(version) => client
                        .get_task(admin::ObjectGetRequest {
                            id: Some(identifier(
                                ResourceType::Task,
                                project,
                                domain,
                                name,
                                version,
                            )),
                        })
                        .await?
                        .into_inner(),
                    None => client
                        .list_tasks(list_request(project, domain, name))
                        .await?
                        .into_inner()
                        .tasks
                        .into_iter()
                        .next()
                        .ok_or_else(|| not_found(format!("task {name} in {project}/{domain}")))?,
                };
                let inputs = task
                    .closure
                    .and_then(|c| c.compiled_task)
                    .and_then(|c| c.template)
                    .and_then(|t| t.interface)
                    .and_then(|i| i.inputs)
                    .unwrap_or_default();
                Ok(Target {
                    id: task.id.unwrap_or_default(),
                    parameters: inputs
                        .variables
                        .into_iter()
                        .map(|(name, variable)| Parameter {
                            name,
                            variable,
                            default: None,
                            required: true,
                        })
                        .collect(),
                    fixed_inputs: None,
                })
            }
            EntityKind::Workflow | EntityKind::LaunchPlan => {
                let launch_plan = match version {
                    Some(version) => client
                        .get_launch_plan(admin::ObjectGetRequest {
                            id: Some(identifier(ResourceType::LaunchPlan, project, domain, name, version)),
                        })
                        .await?
                        .into_inner(),
                    None => client
                        .list_launch_plans(list_request(project, domain, name))
                        .await?
                        .into_inner()
                        .launch_plans
                        .into_iter()
                        .next()
                        .ok_or_else(|| {
                            not_found(if kind == EntityKind::Workflow {
                                format!(
                                    "a launch plan of workflow {name} in {project}/{domain} (pyflyte register creates one)"
                                )
                            } else {
                                format!("launch plan {name} in {project}/{domain}")
                            })
                        })?,
                };
                let spec = launch_plan.spec.unwrap_or_default();
                let parameters = launch_plan
                    .closure
                    .and_then(|c| c.expected_inputs)
                    .or(spec.default_inputs)
                    .unwrap_or_default();
                Ok(Target {
                    id: launch_plan.id.unwrap_or_default(),
                    parameters: parameters
                        .parameters
                        .into_iter()
                        .map(|(name, parameter)| {
                            use core::parameter::Behavior;
                            let (default, required) = match parameter.behavior {
                                Some(Behavior::Default(literal)) => (Some(literal), false),
                                Some(Behavior::Required(required)) => (None, required),
                                _ => (None, false),
                            };
                            Parameter {
                                name,
                                variable: parameter.var.unwrap_or_default(),
                                default,
                                required,
                            }
                        })
                        .collect(),
                    fixed_inputs: spec.fixed_inputs,
                })
            }
        }
    }

    fn identifier(
        resource_type: ResourceType,
        project: &str,
        domain: &str,
        name: &str,
        version: &str,
    ) -> core::Identifier {
        core::Identifier {
            resource_type: resource_type as i32,
            project: project.into(),
            domain: domain.into(),
            name: name.into(),
            version: version.into(),
            ..Default::default()
        }
    }

    pub async fn launch_form(
        client: &mut Client,
        project: &str,
        domain: &str,
        kind: EntityKind,
        name: &str,
        version: Option<&str>,
    ) -> Result<LaunchForm, ConsoleError> {
        let target = target(client, project, domain, kind, name, version).await?;
        let mut fields: Vec<LaunchField> = target
            .parameters
            .iter()
            .map(|parameter| {
                let literal_type = parameter.variable.r#type.clone().unwrap_or_default();
                let kind = input_kind(&literal_type);
                let default_text = parameter
                    .default
                    .as_ref()
                    .and_then(|literal| kind.default_text(&literal_value(literal)));
                let default_variant = parameter
                    .default
                    .as_ref()
                    .and_then(|literal| union_variant(literal, &kind));
                LaunchField {
                    name: parameter.name.clone(),
                    type_name: render_type(&literal_type),
                    // flytekit describes an undocumented input by its own
                    // name, which says nothing the label does not.
                    description: Some(parameter.variable.description.clone())
                        .filter(|description| description != &parameter.name)
                        .unwrap_or_default(),
                    kind,
                    required: parameter.required,
                    default_text,
                    default_variant,
                }
            })
            .collect();
        // Required first, then by name: what must be filled in comes first.
        fields.sort_by(|a, b| b.required.cmp(&a.required).then(a.name.cmp(&b.name)));
        Ok(LaunchForm {
            target: identifier_view(&target.id),
            target_is_task: kind == EntityKind::Task,
            fields,
            fixed_inputs: target
                .fixed_inputs
                .as_ref()
                .map(literal_map_values)
                .unwrap_or_default(),
            relaunch_of: None,
            options: LaunchOptions::default(),
        })
    }

    /// Which of a union input's types `literal` holds: flytekit keeps the
    /// type with the value.
    fn union_variant(literal: &core::Literal, kind: &InputKind) -> Option<usize> {
        let InputKind::Union(variants) = kind else {
            return None;
        };
        let Some(core::literal::Value::Scalar(scalar)) = &literal.value else {
            return None;
        };
        let Some(core::scalar::Value::Union(union)) = &scalar.value else {
            return None;
        };
        let held = render_type(union.r#type.as_ref()?);
        variants
            .iter()
            .position(|variant| variant.type_name == held)
    }

    /// The form of the exact launch plan (or task) version `execution` ran,
    /// prefilled with the inputs it was given.
    pub async fn relaunch_form(
        client: &mut Client,
        project: &str,
        domain: &str,
        execution: &str,
    ) -> Result<LaunchForm, ConsoleError> {
        let id = core::WorkflowExecutionIdentifier {
            project: project.into(),
            domain: domain.into(),
            name: execution.into(),
            ..Default::default()
        };
        let original = client
            .get_execution(admin::WorkflowExecutionGetRequest {
                id: Some(id.clone()),
            })
            .await?
            .into_inner();
        let spec = original.spec.unwrap_or_default();
        let options = launch_options(&spec);
        let launched = spec.launch_plan.ok_or_else(|| {
            invalid(format!(
                "execution {execution} names no launch plan to relaunch"
            ))
        })?;
        let kind = if launched.resource_type == ResourceType::Task as i32 {
            EntityKind::Task
        } else {
            EntityKind::LaunchPlan
        };
        let mut form = launch_form(
            client,
            &launched.project,
            &launched.domain,
            kind,
            &launched.name,
            Some(&launched.version),
        )
        .await?;
        let data = client
            .get_execution_data(admin::WorkflowExecutionGetDataRequest { id: Some(id) })
            .await?
            .into_inner();
        let given = data.full_inputs.unwrap_or_default().literals;
        for field in &mut form.fields {
            let Some(literal) = given.get(&field.name) else {
                continue;
            };
            if let Some(text) = field.kind.default_text(&literal_value(literal)) {
                field.default_text = Some(text);
                field.default_variant = union_variant(literal, &field.kind);
            }
        }
        form.relaunch_of = Some(execution.to_string());
        form.options = options;
        Ok(form)
    }

    /// An execution's options in the form's syntax: a relaunch starts from
    /// them, and the execution's header shows them.
    pub(crate) fn launch_options(spec: &admin::ExecutionSpec) -> LaunchOptions {
        let key_values = |values: Option<&HashMap<String, String>>| {
            let mut pairs: Vec<String> = values
                .into_iter()
                .flatten()
                .map(|(key, value)| format!("{key}={value}"))
                .collect();
            pairs.sort();
            pairs.join("\n")
        };
        LaunchOptions {
            labels: key_values(spec.labels.as_ref().map(|labels| &labels.values)),
            annotations: key_values(
                spec.annotations
                    .as_ref()
                    .map(|annotations| &annotations.values),
            ),
            raw_output_prefix: spec
                .raw_output_data_config
                .as_ref()
                .map(|config| config.output_location_prefix.clone())
                .unwrap_or_default(),
            max_parallelism: if spec.max_parallelism > 0 {
                spec.max_parallelism.to_string()
            } else {
                String::new()
            },
            overwrite_cache: spec.overwrite_cache,
            service_account: spec
                .security_context
                .as_ref()
                .and_then(|context| context.run_as.as_ref())
                .map(|identity| identity.k8s_service_account.clone())
                .unwrap_or_default(),
        }
    }

    pub async fn launch(
        client: &mut Client,
        request: LaunchRequest,
    ) -> Result<String, ConsoleError> {
        let kind = if request.target_is_task {
            EntityKind::Task
        } else {
            EntityKind::LaunchPlan
        };
        let target = target(
            client,
            &request.project,
            &request.domain,
            kind,
            &request.name,
            Some(&request.version),
        )
        .await?;
        let texts: HashMap<&str, &str> = request
            .inputs
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str()))
            .collect();
        if let Some(unknown) = texts
            .keys()
            .copied()
            .chain(request.union_variants.iter().map(|(name, _)| name.as_str()))
            .find(|name| !target.parameters.iter().any(|p| p.name == *name))
        {
            return Err(invalid(format!(
                "{} has no input named {unknown}",
                request.name
            )));
        }
        let chosen: HashMap<&str, usize> = request
            .union_variants
            .iter()
            .map(|(name, variant)| (name.as_str(), *variant))
            .collect();
        let mut inputs = HashMap::new();
        for parameter in &target.parameters {
            let literal_type = parameter.variable.r#type.clone().unwrap_or_default();
            let text = texts.get(parameter.name.as_str()).copied().unwrap_or("");
            let kind = input_kind(&literal_type);
            let value = match chosen.get(parameter.name.as_str()) {
                Some(variant) => kind.parse_variant(*variant, text),
                None => kind.parse_field(text),
            }
            .map_err(|reason| invalid(format!("input {}: {reason}", parameter.name)))?;
            match value {
                Some(value) => {
                    inputs.insert(parameter.name.clone(), to_literal(&value, &literal_type));
                }
                None if parameter.default.is_some() => {}
                None if parameter.required => {
                    return Err(invalid(format!("input {} is required", parameter.name)));
                }
                None => {
                    inputs.insert(
                        parameter.name.clone(),
                        to_literal(&LaunchValue::None, &literal_type),
                    );
                }
            }
        }
        let labels = parse_key_values("labels", &request.options.labels).map_err(invalid)?;
        let annotations =
            parse_key_values("annotations", &request.options.annotations).map_err(invalid)?;
        let max_parallelism = match request.options.max_parallelism.trim() {
            "" => 0,
            text => text
                .parse::<i32>()
                .ok()
                .filter(|value| *value > 0)
                .ok_or_else(|| {
                    invalid(format!(
                        "max parallelism \"{text}\" is not a positive whole number"
                    ))
                })?,
        };
        let raw_output_prefix = request.options.raw_output_prefix.trim();
        if !raw_output_prefix.is_empty()
            && !raw_output_prefix.starts_with('/')
            && !raw_output_prefix.contains("://")
        {
            return Err(invalid(format!(
                "raw output prefix \"{raw_output_prefix}\" is neither a URI (s3://bucket/prefix, file:///folder) nor an absolute folder"
            )));
        }
        let spec = admin::ExecutionSpec {
            launch_plan: Some(target.id),
            metadata: Some(admin::ExecutionMetadata {
                mode: if request.relaunch_of.is_empty() {
                    admin::execution_metadata::ExecutionMode::Manual
                } else {
                    admin::execution_metadata::ExecutionMode::Relaunch
                } as i32,
                principal: "console".into(),
                reference_execution: (!request.relaunch_of.is_empty()).then(|| {
                    core::WorkflowExecutionIdentifier {
                        project: request.project.clone(),
                        domain: request.domain.clone(),
                        name: request.relaunch_of.clone(),
                        ..Default::default()
                    }
                }),
                ..Default::default()
            }),
            labels: (!labels.is_empty()).then(|| admin::Labels {
                values: labels.into_iter().collect(),
            }),
            annotations: (!annotations.is_empty()).then(|| admin::Annotations {
                values: annotations.into_iter().collect(),
            }),
            raw_output_data_config: (!raw_output_prefix.is_empty()).then(|| {
                admin::RawOutputDataConfig {
                    output_location_prefix: raw_output_prefix.into(),
                }
            }),
            security_context: (!request.options.service_account.trim().is_empty()).then(|| {
                core::SecurityContext {
                    run_as: Some(core::Identity {
                        k8s_service_account: request.options.service_account.trim().into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }
            }),
            max_parallelism,
            overwrite_cache: request.options.overwrite_cache,
            ..Default::default()
        };
        let created = client
            .create_execution(admin::ExecutionCreateRequest {
                project: request.project,
                domain: request.domain,
                spec: Some(spec),
                inputs: Some(core::LiteralMap { literals: inputs }),
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok(created.id.map(|id| id.name).unwrap_or_default())
    }
}

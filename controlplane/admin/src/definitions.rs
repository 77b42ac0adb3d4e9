//! Registration and lookup of tasks, workflows and launch plans, and the named
//! entities their names form. Registration answers as flyteadmin does: an
//! identical re-registration is `AlreadyExists`, different content under an
//! existing id is `InvalidArgument` naming what differs.

use std::collections::HashMap;

use bytes::Bytes;
use prost::Message;
use updraft_proto::flyteidl::core::ResourceType;
use updraft_proto::flyteidl::{admin, core};

use crate::AdminApi;
use crate::compiler::{NodeReference, compile_closure, node_references};
use crate::error::AdminError;
use crate::filters::{
    EntityFields, LAUNCH_PLAN_FIELDS, ListRequestParts, NAMED_ENTITY_FIELDS, TASK_FIELDS,
    WORKFLOW_FIELDS, build_list_query, next_page_token,
};
use crate::identifiers::{
    definition_identifier, definition_key, digest, named_entity_identifier, require,
    require_project_and_domain, resource_label,
};
use crate::store::{
    Condition, DefinitionKey, LaunchPlanRecord, LaunchPlanRepo, NamedEntityKey, NamedEntityRecord,
    NamedEntityRepo, SqlValue, StoreError, TaskRecord, TaskRepo, WorkflowRecord, WorkflowRepo,
    now_micros, timestamp_from_micros,
};

/// Names the fields that differ between two messages of the same type.
macro_rules! differing_fields {
    ($old:expr, $new:expr, $prefix:literal, [$($field:ident),* $(,)?]) => {{
        let mut differing: Vec<String> = Vec::new();
        $(
            if $old.$field != $new.$field {
                differing.push(format!("{}{}", $prefix, stringify!($field)));
            }
        )*
        differing
    }};
}

fn describe_difference(
    resource_type: ResourceType,
    key: &DefinitionKey,
    differing: Vec<String>,
) -> AdminError {
    let what = if differing.is_empty() {
        // The difference lies in fields this build does not decode.
        "fields unknown to this server".to_string()
    } else {
        differing.join(", ")
    };
    AdminError::invalid(format!(
        "{} with different structure already exists with id {key}; differing fields: {what}",
        resource_label(resource_type)
    ))
}

fn identical_exists(resource_type: ResourceType, key: &DefinitionKey) -> AdminError {
    AdminError::AlreadyExists(format!(
        "{} with identical structure already exists with id {key}",
        resource_label(resource_type)
    ))
}

fn task_differences(old: &admin::TaskSpec, new: &admin::TaskSpec) -> Vec<String> {
    let mut differing = differing_fields!(old, new, "", [description]);
    match (&old.template, &new.template) {
        (Some(old), Some(new)) => {
            if old.r#type != new.r#type {
                differing.push("template.type".to_string());
            }
            differing.extend(differing_fields!(
                old,
                new,
                "template.",
                [
                    id,
                    metadata,
                    interface,
                    custom,
                    target,
                    task_type_version,
                    security_context,
                    extended_resources,
                    config,
                ]
            ));
        }
        (old, new) if old != new => differing.push("template".to_string()),
        _ => {}
    }
    differing
}

fn node_differences(old: &[core::Node], new: &[core::Node]) -> Vec<String> {
    let old_by_id: HashMap<&str, &core::Node> =
        old.iter().map(|node| (node.id.as_str(), node)).collect();
    let new_by_id: HashMap<&str, &core::Node> =
        new.iter().map(|node| (node.id.as_str(), node)).collect();
    let mut differing = Vec::new();
    for node in new {
        match old_by_id.get(node.id.as_str()) {
            Some(previous) if *previous == node => {}
            Some(_) => differing.push(format!("template.nodes[{}]", node.id)),
            None => differing.push(format!("template.nodes[{}] (added)", node.id)),
        }
    }
    for node in old {
        if !new_by_id.contains_key(node.id.as_str()) {
            differing.push(format!("template.nodes[{}] (removed)", node.id));
        }
    }
    differing
}

/// Calls `visit` on `node` and on every node nested in it (branch cases,
/// array node bodies).
fn visit_nodes_mut(node: &mut core::Node, visit: &mut impl FnMut(&mut core::Node)) {
    visit(node);
    match &mut node.target {
        Some(core::node::Target::BranchNode(branch)) => {
            if let Some(if_else) = &mut branch.if_else {
                for block in if_else
                    .case
                    .as_deref_mut()
                    .into_iter()
                    .chain(&mut if_else.other)
                {
                    if let Some(then_node) = &mut block.then_node {
                        visit_nodes_mut(then_node, visit);
                    }
                }
                if let Some(core::if_else_block::Default::ElseNode(else_node)) =
                    &mut if_else.default
                {
                    visit_nodes_mut(else_node, visit);
                }
            }
        }
        Some(core::node::Target::ArrayNode(array)) => {
            if let Some(nested) = &mut array.node {
                visit_nodes_mut(nested, visit);
            }
        }
        _ => {}
    }
}

fn canonical_template(template: &mut core::WorkflowTemplate) {
    // flytekit collects a node's upstream ids through a Python set, so their
    // order changes from one `pyflyte register` to the next.
    let mut sort_upstream = |node: &mut core::Node| {
        node.upstream_node_ids.sort();
        node.upstream_node_ids.dedup();
    };
    for node in template
        .nodes
        .iter_mut()
        .chain(template.failure_node.as_mut())
    {
        visit_nodes_mut(node, &mut sort_upstream);
    }
}

/// The spec with the orderings that carry no meaning made canonical, so two
/// registrations of the same workflow compare equal.
fn canonical_workflow_spec(spec: &admin::WorkflowSpec) -> admin::WorkflowSpec {
    let mut canonical = spec.clone();
    for template in canonical
        .template
        .iter_mut()
        .chain(canonical.sub_workflows.iter_mut())
    {
        canonical_template(template);
    }
    canonical.sub_workflows.sort_by(|left, right| {
        identifier_order(left.id.as_ref()).cmp(&identifier_order(right.id.as_ref()))
    });
    canonical
}

fn identifier_order(id: Option<&core::Identifier>) -> Option<(&str, &str, &str, &str)> {
    id.map(|id| {
        (
            id.project.as_str(),
            id.domain.as_str(),
            id.name.as_str(),
            id.version.as_str(),
        )
    })
}

fn workflow_differences(old: &admin::WorkflowSpec, new: &admin::WorkflowSpec) -> Vec<String> {
    let (old, new) = (&canonical_workflow_spec(old), &canonical_workflow_spec(new));
    let mut differing = differing_fields!(old, new, "", [sub_workflows, description]);
    match (&old.template, &new.template) {
        (Some(old), Some(new)) => {
            differing.extend(differing_fields!(
                old,
                new,
                "template.",
                [
                    id,
                    metadata,
                    interface,
                    outputs,
                    failure_node,
                    metadata_defaults
                ]
            ));
            differing.extend(node_differences(&old.nodes, &new.nodes));
        }
        (old, new) if old != new => differing.push("template".to_string()),
        _ => {}
    }
    differing
}

#[allow(deprecated)] // Deprecated fields still count when comparing definitions.
fn launch_plan_differences(
    old: &admin::LaunchPlanSpec,
    new: &admin::LaunchPlanSpec,
) -> Vec<String> {
    differing_fields!(
        old,
        new,
        "",
        [
            workflow_id,
            entity_metadata,
            default_inputs,
            fixed_inputs,
            role,
            labels,
            annotations,
            auth,
            auth_role,
            security_context,
            quality_of_service,
            raw_output_data_config,
            max_parallelism,
            interruptible,
            overwrite_cache,
            envs,
            execution_env_assignments,
            cluster_assignment,
            concurrency_policy,
        ]
    )
}

/// The bytes to store for a spec: the client's own when they decode to the
/// same message (so fields this build does not know survive), else a fresh
/// encoding.
fn stored_spec_bytes<M: Message + Default + PartialEq>(spec: &M, raw: Option<Bytes>) -> Vec<u8> {
    match raw {
        Some(raw) if M::decode(raw.clone()).is_ok_and(|decoded| decoded == *spec) => raw.to_vec(),
        _ => spec.encode_to_vec(),
    }
}

fn short_description(description: Option<&admin::DescriptionEntity>) -> String {
    description
        .map(|description| description.short_description.clone())
        .unwrap_or_default()
}

/// The task template stored in a task record.
pub(crate) fn task_template(record: &TaskRecord) -> Result<core::TaskTemplate, AdminError> {
    Ok(admin::TaskSpec::decode(record.spec.as_slice())?
        .template
        .unwrap_or_default())
}

fn task_from_record(record: &TaskRecord) -> Result<admin::Task, AdminError> {
    Ok(admin::Task {
        id: Some(definition_identifier(&record.key, ResourceType::Task)),
        closure: Some(admin::TaskClosure {
            compiled_task: Some(core::CompiledTask {
                template: Some(task_template(record)?),
            }),
            created_at: Some(timestamp_from_micros(record.created_at)),
        }),
        short_description: record.short_description.clone(),
    })
}

fn workflow_from_record(record: &WorkflowRecord) -> Result<admin::Workflow, AdminError> {
    Ok(admin::Workflow {
        id: Some(definition_identifier(&record.key, ResourceType::Workflow)),
        closure: Some(admin::WorkflowClosure {
            compiled_workflow: Some(core::CompiledWorkflowClosure::decode(
                record.closure.as_slice(),
            )?),
            created_at: Some(timestamp_from_micros(record.created_at)),
        }),
        short_description: record.short_description.clone(),
    })
}

/// The wire launch plan of a record.
pub(crate) fn launch_plan_from_record(
    record: &LaunchPlanRecord,
) -> Result<admin::LaunchPlan, AdminError> {
    let mut closure = admin::LaunchPlanClosure::decode(record.closure.as_slice())?;
    closure.state = record.state;
    closure.created_at = Some(timestamp_from_micros(record.created_at));
    closure.updated_at = Some(timestamp_from_micros(record.updated_at));
    Ok(admin::LaunchPlan {
        id: Some(definition_identifier(&record.key, ResourceType::LaunchPlan)),
        spec: Some(admin::LaunchPlanSpec::decode(record.spec.as_slice())?),
        closure: Some(closure),
    })
}

/// The interface of the primary workflow in a stored closure.
pub(crate) fn workflow_interface(
    record: &WorkflowRecord,
) -> Result<core::TypedInterface, AdminError> {
    Ok(
        core::CompiledWorkflowClosure::decode(record.closure.as_slice())?
            .primary
            .and_then(|primary| primary.template)
            .and_then(|template| template.interface)
            .unwrap_or_default(),
    )
}

/// What a launch plan expects: the workflow's inputs with the launch plan's
/// defaults laid over them, minus the fixed inputs; and the workflow's outputs.
fn expected_interface(
    interface: &core::TypedInterface,
    spec: &admin::LaunchPlanSpec,
) -> (core::ParameterMap, core::VariableMap) {
    let mut parameters: HashMap<String, core::Parameter> = interface
        .inputs
        .as_ref()
        .map(|inputs| {
            inputs
                .variables
                .iter()
                .map(|(name, variable)| {
                    (
                        name.clone(),
                        core::Parameter {
                            var: Some(variable.clone()),
                            behavior: Some(core::parameter::Behavior::Required(true)),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(defaults) = &spec.default_inputs {
        for (name, parameter) in &defaults.parameters {
            parameters.insert(name.clone(), parameter.clone());
        }
    }
    if let Some(fixed) = &spec.fixed_inputs {
        for name in fixed.literals.keys() {
            parameters.remove(name);
        }
    }
    (
        core::ParameterMap { parameters },
        interface.outputs.clone().unwrap_or_default(),
    )
}

fn named_entity_from_record(record: NamedEntityRecord) -> admin::NamedEntity {
    admin::NamedEntity {
        resource_type: record.key.resource_type,
        id: Some(admin::NamedEntityIdentifier {
            project: record.key.project,
            domain: record.key.domain,
            name: record.key.name,
            org: String::new(),
        }),
        metadata: Some(admin::NamedEntityMetadata {
            description: record.description,
            state: record.state,
        }),
    }
}

fn named_entity_resource_type(resource_type: i32) -> Result<ResourceType, AdminError> {
    match ResourceType::try_from(resource_type) {
        Ok(resource @ (ResourceType::Task | ResourceType::Workflow | ResourceType::LaunchPlan)) => {
            Ok(resource)
        }
        _ => Err(AdminError::invalid(format!(
            "invalid resource type {resource_type}; expected TASK, WORKFLOW or LAUNCH_PLAN"
        ))),
    }
}

/// Conditions selecting a project and domain and, if given, a name.
fn scope_conditions(
    id: Option<&admin::NamedEntityIdentifier>,
) -> Result<Vec<Condition>, AdminError> {
    let id = id.ok_or_else(|| AdminError::invalid("missing id"))?;
    require(&id.project, "project")?;
    require(&id.domain, "domain")?;
    let mut conditions = vec![
        Condition::text("project", &id.project),
        Condition::text("domain", &id.domain),
    ];
    if !id.name.is_empty() {
        conditions.push(Condition::text("name", &id.name));
    }
    Ok(conditions)
}

/// The query `ListTasks`, `ListWorkflows` or `ListLaunchPlans` (chosen by
/// `fields`) runs for `request`.
pub fn definition_list_query(
    fields: &EntityFields,
    request: &admin::ResourceListRequest,
) -> Result<crate::store::ListQuery, AdminError> {
    let scope = scope_conditions(request.id.as_ref())?;
    build_list_query(fields, ListRequestParts::from(request), scope, None)
}

impl AdminApi {
    async fn record_named_entity(
        &self,
        resource_type: ResourceType,
        key: &DefinitionKey,
    ) -> Result<(), AdminError> {
        self.state
            .store
            .ensure_named_entity(
                &NamedEntityKey {
                    resource_type: resource_type as i32,
                    project: key.project.clone(),
                    domain: key.domain.clone(),
                    name: key.name.clone(),
                },
                now_micros(),
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn create_task_impl(
        &self,
        request: admin::TaskCreateRequest,
        raw_spec: Option<Bytes>,
    ) -> Result<admin::TaskCreateResponse, AdminError> {
        let key = definition_key(request.id.as_ref(), ResourceType::Task)?;
        require_project_and_domain(&self.state.store, &key.project, &key.domain).await?;
        let spec = request
            .spec
            .ok_or_else(|| AdminError::invalid("missing spec"))?;
        let template = spec
            .template
            .as_ref()
            .ok_or_else(|| AdminError::invalid("missing task template"))?;
        require(&template.r#type, "task type")?;
        let spec_bytes = stored_spec_bytes(&spec, raw_spec);
        let record = TaskRecord {
            key: key.clone(),
            task_type: template.r#type.clone(),
            digest: digest(&spec_bytes),
            spec: spec_bytes,
            short_description: short_description(spec.description.as_ref()),
            created_at: now_micros(),
        };
        match self.state.store.create_task(&record).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { .. }) => {
                let existing = self
                    .state
                    .store
                    .get_task(&key)
                    .await?
                    .ok_or_else(|| identical_exists(ResourceType::Task, &key))?;
                if existing.digest == record.digest {
                    return Err(identical_exists(ResourceType::Task, &key));
                }
                let old = admin::TaskSpec::decode(existing.spec.as_slice())?;
                // Map fields encode in hash order, so equal specs can have
                // different bytes; compare the decoded messages too.
                if old == spec {
                    return Err(identical_exists(ResourceType::Task, &key));
                }
                return Err(describe_difference(
                    ResourceType::Task,
                    &key,
                    task_differences(&old, &spec),
                ));
            }
            Err(other) => return Err(other.into()),
        }
        self.record_named_entity(ResourceType::Task, &key).await?;
        self.record_description(ResourceType::Task, &key, spec.description.as_ref())
            .await?;
        tracing::info!(task = %key, "registered task");
        Ok(admin::TaskCreateResponse {})
    }

    pub(crate) async fn get_task_impl(
        &self,
        request: admin::ObjectGetRequest,
    ) -> Result<admin::Task, AdminError> {
        let key = definition_key(request.id.as_ref(), ResourceType::Task)?;
        let record = self
            .state
            .store
            .get_task(&key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("task {key} does not exist")))?;
        task_from_record(&record)
    }

    pub(crate) async fn list_tasks_impl(
        &self,
        request: admin::ResourceListRequest,
    ) -> Result<admin::TaskList, AdminError> {
        let query = definition_list_query(&TASK_FIELDS, &request)?;
        let records = self.state.store.list_tasks(&query).await?;
        Ok(admin::TaskList {
            token: next_page_token(&query, records.len()),
            tasks: records
                .iter()
                .map(task_from_record)
                .collect::<Result<_, _>>()?,
        })
    }

    pub(crate) async fn list_definition_ids_impl(
        &self,
        resource_type: ResourceType,
        request: admin::NamedEntityIdentifierListRequest,
    ) -> Result<admin::NamedEntityIdentifierList, AdminError> {
        require(&request.project, "project")?;
        require(&request.domain, "domain")?;
        let fields: &EntityFields = match resource_type {
            ResourceType::Task => &TASK_FIELDS,
            ResourceType::Workflow => &WORKFLOW_FIELDS,
            _ => &LAUNCH_PLAN_FIELDS,
        };
        let mut fields_by_name = *fields;
        fields_by_name.default_order = crate::store::OrderBy {
            column: "name",
            descending: false,
        };
        let query = build_list_query(
            &fields_by_name,
            ListRequestParts::from(&request),
            vec![
                Condition::text("project", &request.project),
                Condition::text("domain", &request.domain),
            ],
            None,
        )?;
        let names = match resource_type {
            ResourceType::Task => self.state.store.list_task_names(&query).await?,
            ResourceType::Workflow => self.state.store.list_workflow_names(&query).await?,
            _ => self.state.store.list_launch_plan_names(&query).await?,
        };
        Ok(admin::NamedEntityIdentifierList {
            token: next_page_token(&query, names.len()),
            entities: names.iter().map(named_entity_identifier).collect(),
        })
    }

    /// Loads what the workflow's nodes refer to, failing with the node's name
    /// when a task or launch plan is not registered.
    async fn resolve_references(
        &self,
        spec: &admin::WorkflowSpec,
        primary: &core::WorkflowTemplate,
    ) -> Result<(Vec<core::TaskTemplate>, Vec<core::LaunchPlanTemplate>), AdminError> {
        let mut tasks: Vec<(DefinitionKey, core::TaskTemplate)> = Vec::new();
        let mut launch_plans: Vec<(DefinitionKey, core::LaunchPlanTemplate)> = Vec::new();
        let references = std::iter::once(primary)
            .chain(spec.sub_workflows.iter())
            .flat_map(node_references);
        for reference in references {
            match reference {
                NodeReference::Task { node, id } => {
                    let key = definition_key(Some(&id), ResourceType::Task).map_err(|error| {
                        AdminError::invalid(format!(
                            "node {node} has an invalid task reference: {error}"
                        ))
                    })?;
                    if tasks.iter().any(|(known, _)| *known == key) {
                        continue;
                    }
                    let record = self.state.store.get_task(&key).await?.ok_or_else(|| {
                        AdminError::invalid(format!(
                            "node {node} references task {key}, which is not registered"
                        ))
                    })?;
                    tasks.push((key, task_template(&record)?));
                }
                NodeReference::LaunchPlan { node, id } => {
                    let key =
                        definition_key(Some(&id), ResourceType::LaunchPlan).map_err(|error| {
                            AdminError::invalid(format!(
                                "node {node} has an invalid launch plan reference: {error}"
                            ))
                        })?;
                    if launch_plans.iter().any(|(known, _)| *known == key) {
                        continue;
                    }
                    let record = self.state.store.get_launch_plan(&key).await?.ok_or_else(
                        || {
                            AdminError::invalid(format!(
                                "node {node} references launch plan {key}, which is not registered"
                            ))
                        },
                    )?;
                    let launch_plan = launch_plan_from_record(&record)?;
                    let closure = launch_plan.closure.unwrap_or_default();
                    let inputs = closure.expected_inputs.map(|parameters| core::VariableMap {
                        variables: parameters
                            .parameters
                            .into_iter()
                            .filter_map(|(name, parameter)| parameter.var.map(|var| (name, var)))
                            .collect(),
                    });
                    launch_plans.push((
                        key,
                        core::LaunchPlanTemplate {
                            id: launch_plan.id,
                            interface: Some(core::TypedInterface {
                                inputs,
                                outputs: closure.expected_outputs,
                            }),
                            fixed_inputs: launch_plan.spec.and_then(|spec| spec.fixed_inputs),
                        },
                    ));
                }
                NodeReference::SubWorkflow { .. } => {}
            }
        }
        Ok((
            tasks.into_iter().map(|(_, template)| template).collect(),
            launch_plans
                .into_iter()
                .map(|(_, template)| template)
                .collect(),
        ))
    }

    pub(crate) async fn create_workflow_impl(
        &self,
        request: admin::WorkflowCreateRequest,
        raw_spec: Option<Bytes>,
    ) -> Result<admin::WorkflowCreateResponse, AdminError> {
        let key = definition_key(request.id.as_ref(), ResourceType::Workflow)?;
        require_project_and_domain(&self.state.store, &key.project, &key.domain).await?;
        let spec = request
            .spec
            .ok_or_else(|| AdminError::invalid("missing spec"))?;
        let primary = spec
            .template
            .as_ref()
            .ok_or_else(|| AdminError::invalid("missing workflow template"))?;
        let spec_bytes = stored_spec_bytes(&spec, raw_spec);
        let spec_digest = digest(&spec_bytes);
        // An identical re-registration is answered before compiling, so a retry
        // never fails on a task deleted since.
        if let Some(existing) = self.state.store.get_workflow(&key).await? {
            return Err(self.workflow_conflict(&key, &existing, &spec, &spec_digest)?);
        }
        let (tasks, launch_plans) = self.resolve_references(&spec, primary).await?;
        let closure = compile_closure(primary, &spec.sub_workflows, tasks, launch_plans)
            .map_err(|error| AdminError::invalid(error.to_string()))?;
        let record = WorkflowRecord {
            key: key.clone(),
            spec: spec_bytes,
            closure: closure.encode_to_vec(),
            digest: spec_digest.clone(),
            short_description: short_description(spec.description.as_ref()),
            created_at: now_micros(),
        };
        match self.state.store.create_workflow(&record).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { .. }) => {
                let existing = self
                    .state
                    .store
                    .get_workflow(&key)
                    .await?
                    .ok_or_else(|| identical_exists(ResourceType::Workflow, &key))?;
                return Err(self.workflow_conflict(&key, &existing, &spec, &spec_digest)?);
            }
            Err(other) => return Err(other.into()),
        }
        self.record_named_entity(ResourceType::Workflow, &key)
            .await?;
        self.record_description(ResourceType::Workflow, &key, spec.description.as_ref())
            .await?;
        tracing::info!(workflow = %key, "registered workflow");
        Ok(admin::WorkflowCreateResponse {})
    }

    fn workflow_conflict(
        &self,
        key: &DefinitionKey,
        existing: &WorkflowRecord,
        spec: &admin::WorkflowSpec,
        spec_digest: &str,
    ) -> Result<AdminError, AdminError> {
        if existing.digest == spec_digest {
            return Ok(identical_exists(ResourceType::Workflow, key));
        }
        let old = admin::WorkflowSpec::decode(existing.spec.as_slice())?;
        // Map fields encode in hash order and flytekit orders some lists at
        // random, so equal specs can have different bytes; compare canonical
        // decoded messages too.
        if canonical_workflow_spec(&old) == canonical_workflow_spec(spec) {
            return Ok(identical_exists(ResourceType::Workflow, key));
        }
        Ok(describe_difference(
            ResourceType::Workflow,
            key,
            workflow_differences(&old, spec),
        ))
    }

    pub(crate) async fn get_workflow_impl(
        &self,
        request: admin::ObjectGetRequest,
    ) -> Result<admin::Workflow, AdminError> {
        let key = definition_key(request.id.as_ref(), ResourceType::Workflow)?;
        let record = self
            .state
            .store
            .get_workflow(&key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("workflow {key} does not exist")))?;
        workflow_from_record(&record)
    }

    pub(crate) async fn list_workflows_impl(
        &self,
        request: admin::ResourceListRequest,
    ) -> Result<admin::WorkflowList, AdminError> {
        let query = definition_list_query(&WORKFLOW_FIELDS, &request)?;
        let records = self.state.store.list_workflows(&query).await?;
        Ok(admin::WorkflowList {
            token: next_page_token(&query, records.len()),
            workflows: records
                .iter()
                .map(workflow_from_record)
                .collect::<Result<_, _>>()?,
        })
    }

    pub(crate) async fn create_launch_plan_impl(
        &self,
        request: admin::LaunchPlanCreateRequest,
        raw_spec: Option<Bytes>,
    ) -> Result<admin::LaunchPlanCreateResponse, AdminError> {
        let key = definition_key(request.id.as_ref(), ResourceType::LaunchPlan)?;
        require_project_and_domain(&self.state.store, &key.project, &key.domain).await?;
        let spec = request
            .spec
            .ok_or_else(|| AdminError::invalid("missing spec"))?;
        let workflow_key = definition_key(spec.workflow_id.as_ref(), ResourceType::Workflow)
            .map_err(|error| AdminError::invalid(format!("invalid workflow_id: {error}")))?;
        let spec_bytes = stored_spec_bytes(&spec, raw_spec);
        let spec_digest = digest(&spec_bytes);
        if let Some(existing) = self.state.store.get_launch_plan(&key).await? {
            return Err(launch_plan_conflict(&key, &existing, &spec, &spec_digest)?);
        }
        let workflow = self
            .state
            .store
            .get_workflow(&workflow_key)
            .await?
            .ok_or_else(|| {
                AdminError::not_found(format!(
                    "workflow {workflow_key} referenced by launch plan {key} does not exist"
                ))
            })?;
        let (expected_inputs, expected_outputs) =
            expected_interface(&workflow_interface(&workflow)?, &spec);
        validate_schedule(&spec, &expected_inputs)?;
        let closure = admin::LaunchPlanClosure {
            expected_inputs: Some(expected_inputs),
            expected_outputs: Some(expected_outputs),
            ..Default::default()
        };
        let now = now_micros();
        let record = LaunchPlanRecord {
            key: key.clone(),
            workflow: workflow_key,
            spec: spec_bytes,
            closure: closure.encode_to_vec(),
            digest: spec_digest.clone(),
            state: admin::LaunchPlanState::Inactive as i32,
            created_at: now,
            updated_at: now,
        };
        match self.state.store.create_launch_plan(&record).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { .. }) => {
                let existing = self
                    .state
                    .store
                    .get_launch_plan(&key)
                    .await?
                    .ok_or_else(|| identical_exists(ResourceType::LaunchPlan, &key))?;
                return Err(launch_plan_conflict(&key, &existing, &spec, &spec_digest)?);
            }
            Err(other) => return Err(other.into()),
        }
        self.record_named_entity(ResourceType::LaunchPlan, &key)
            .await?;
        tracing::info!(launch_plan = %key, "registered launch plan");
        Ok(admin::LaunchPlanCreateResponse {})
    }

    pub(crate) async fn get_launch_plan_impl(
        &self,
        request: admin::ObjectGetRequest,
    ) -> Result<admin::LaunchPlan, AdminError> {
        let key = definition_key(request.id.as_ref(), ResourceType::LaunchPlan)?;
        let record = self
            .state
            .store
            .get_launch_plan(&key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("launch plan {key} does not exist")))?;
        launch_plan_from_record(&record)
    }

    pub(crate) async fn get_active_launch_plan_impl(
        &self,
        request: admin::ActiveLaunchPlanRequest,
    ) -> Result<admin::LaunchPlan, AdminError> {
        let id = request
            .id
            .ok_or_else(|| AdminError::invalid("missing id"))?;
        require(&id.project, "project")?;
        require(&id.domain, "domain")?;
        require(&id.name, "name")?;
        let record = self
            .state
            .store
            .get_active_launch_plan(&id.project, &id.domain, &id.name)
            .await?
            .ok_or_else(|| {
                AdminError::not_found(format!(
                    "no active launch plan named {}/{}/{}",
                    id.project, id.domain, id.name
                ))
            })?;
        launch_plan_from_record(&record)
    }

    pub(crate) async fn list_active_launch_plans_impl(
        &self,
        request: admin::ActiveLaunchPlanListRequest,
    ) -> Result<admin::LaunchPlanList, AdminError> {
        require(&request.project, "project")?;
        require(&request.domain, "domain")?;
        let query = build_list_query(
            &LAUNCH_PLAN_FIELDS,
            ListRequestParts {
                filters: "",
                sort_by: request.sort_by.as_ref(),
                limit: request.limit,
                token: &request.token,
            },
            vec![
                Condition::text("project", &request.project),
                Condition::text("domain", &request.domain),
                Condition::equal(
                    "state",
                    SqlValue::Integer(admin::LaunchPlanState::Active as i64),
                ),
            ],
            None,
        )?;
        let records = self.state.store.list_launch_plans(&query).await?;
        Ok(admin::LaunchPlanList {
            token: next_page_token(&query, records.len()),
            launch_plans: records
                .iter()
                .map(launch_plan_from_record)
                .collect::<Result<_, _>>()?,
        })
    }

    pub(crate) async fn list_launch_plans_impl(
        &self,
        request: admin::ResourceListRequest,
    ) -> Result<admin::LaunchPlanList, AdminError> {
        let query = definition_list_query(&LAUNCH_PLAN_FIELDS, &request)?;
        let records = self.state.store.list_launch_plans(&query).await?;
        Ok(admin::LaunchPlanList {
            token: next_page_token(&query, records.len()),
            launch_plans: records
                .iter()
                .map(launch_plan_from_record)
                .collect::<Result<_, _>>()?,
        })
    }

    pub(crate) async fn update_launch_plan_impl(
        &self,
        request: admin::LaunchPlanUpdateRequest,
    ) -> Result<admin::LaunchPlanUpdateResponse, AdminError> {
        let key = definition_key(request.id.as_ref(), ResourceType::LaunchPlan)?;
        let now = now_micros();
        let updated = match admin::LaunchPlanState::try_from(request.state) {
            Ok(admin::LaunchPlanState::Active) => {
                let Some(record) = self.state.store.get_launch_plan(&key).await? else {
                    return Err(AdminError::not_found(format!(
                        "launch plan {key} does not exist"
                    )));
                };
                let schedule = stored_schedule(&key, &record)?;
                self.state
                    .store
                    .activate_launch_plan(&key, schedule.as_ref(), now)
                    .await?
            }
            Ok(admin::LaunchPlanState::Inactive) => {
                self.state.store.deactivate_launch_plan(&key, now).await?
            }
            Err(_) => {
                return Err(AdminError::invalid(format!(
                    "invalid launch plan state {}",
                    request.state
                )));
            }
        };
        if !updated {
            return Err(AdminError::not_found(format!(
                "launch plan {key} does not exist"
            )));
        }
        self.state.schedule_changes.notify_one();
        tracing::info!(launch_plan = %key, state = request.state, "updated launch plan state");
        Ok(admin::LaunchPlanUpdateResponse {})
    }

    pub(crate) async fn get_named_entity_impl(
        &self,
        request: admin::NamedEntityGetRequest,
    ) -> Result<admin::NamedEntity, AdminError> {
        let resource_type = named_entity_resource_type(request.resource_type)?;
        let key = named_entity_key(resource_type, request.id.as_ref())?;
        let record = self
            .state
            .store
            .get_named_entity(&key)
            .await?
            .ok_or_else(|| {
                AdminError::not_found(format!(
                    "{} {}/{}/{} does not exist",
                    resource_label(resource_type),
                    key.project,
                    key.domain,
                    key.name
                ))
            })?;
        Ok(named_entity_from_record(record))
    }

    pub(crate) async fn list_named_entities_impl(
        &self,
        request: admin::NamedEntityListRequest,
    ) -> Result<admin::NamedEntityList, AdminError> {
        let resource_type = named_entity_resource_type(request.resource_type)?;
        require(&request.project, "project")?;
        require(&request.domain, "domain")?;
        let query = build_list_query(
            &NAMED_ENTITY_FIELDS,
            ListRequestParts::from(&request),
            vec![
                Condition::equal("resource_type", SqlValue::Integer(resource_type as i64)),
                Condition::text("project", &request.project),
                Condition::text("domain", &request.domain),
            ],
            None,
        )?;
        let records = self.state.store.list_named_entities(&query).await?;
        Ok(admin::NamedEntityList {
            token: next_page_token(&query, records.len()),
            entities: records.into_iter().map(named_entity_from_record).collect(),
        })
    }

    pub(crate) async fn update_named_entity_impl(
        &self,
        request: admin::NamedEntityUpdateRequest,
    ) -> Result<admin::NamedEntityUpdateResponse, AdminError> {
        let resource_type = named_entity_resource_type(request.resource_type)?;
        let key = named_entity_key(resource_type, request.id.as_ref())?;
        let metadata = request
            .metadata
            .ok_or_else(|| AdminError::invalid("missing metadata"))?;
        if admin::NamedEntityState::try_from(metadata.state).is_err() {
            return Err(AdminError::invalid(format!(
                "invalid named entity state {}",
                metadata.state
            )));
        }
        let updated = self
            .state
            .store
            .update_named_entity(&key, &metadata.description, metadata.state)
            .await?;
        if !updated {
            return Err(AdminError::not_found(format!(
                "{} {}/{}/{} does not exist",
                resource_label(resource_type),
                key.project,
                key.domain,
                key.name
            )));
        }
        Ok(admin::NamedEntityUpdateResponse {})
    }
}

/// flyteadmin's checks of a launch plan's schedule at registration: one the
/// scheduler can run, every required input bound except the kickoff time,
/// and the kickoff time a free datetime input.
fn validate_schedule(
    spec: &admin::LaunchPlanSpec,
    expected_inputs: &core::ParameterMap,
) -> Result<(), AdminError> {
    let Some(schedule) = spec
        .entity_metadata
        .as_ref()
        .and_then(|metadata| metadata.schedule.as_ref())
    else {
        return Ok(());
    };
    let parsed = updraft_scheduler::Schedule::from_proto(schedule)
        .map_err(|error| AdminError::invalid(error.to_string()))?;
    if parsed.is_none() {
        return Ok(());
    }
    let kickoff = &schedule.kickoff_time_input_arg;
    let mut unbound: Vec<&String> = expected_inputs
        .parameters
        .iter()
        .filter(|(name, parameter)| {
            *name != kickoff
                && matches!(
                    parameter.behavior,
                    Some(core::parameter::Behavior::Required(true))
                )
        })
        .map(|(name, _)| name)
        .collect();
    unbound.sort();
    if let Some(first) = unbound.first() {
        return Err(AdminError::invalid(format!(
            "a launch plan with a schedule cannot have an unbound required input, and {first:?} \
             is one: give it a default or a fixed value"
        )));
    }
    if kickoff.is_empty() {
        return Ok(());
    }
    let Some(parameter) = expected_inputs.parameters.get(kickoff) else {
        return Err(AdminError::invalid(format!(
            "the schedule's kickoff_time_input_arg {kickoff:?} is not a free input of the \
             launch plan: it does not exist or has a fixed value"
        )));
    };
    let literal_type = parameter
        .var
        .as_ref()
        .and_then(|variable| variable.r#type.as_ref());
    let is_datetime = literal_type.is_some_and(|literal_type| {
        literal_type.r#type
            == Some(core::literal_type::Type::Simple(
                core::SimpleType::Datetime as i32,
            ))
    });
    if !is_datetime {
        return Err(AdminError::invalid(format!(
            "the schedule's kickoff_time_input_arg {kickoff:?} must be a datetime input, not {}",
            literal_type.map_or_else(
                || "untyped".to_string(),
                crate::literal_types::describe_type
            )
        )));
    }
    Ok(())
}

/// The schedule of a registered launch plan, to turn on with it.
fn stored_schedule(
    key: &DefinitionKey,
    record: &LaunchPlanRecord,
) -> Result<Option<updraft_scheduler::Schedule>, AdminError> {
    let spec = admin::LaunchPlanSpec::decode(record.spec.as_slice())?;
    let Some(schedule) = spec
        .entity_metadata
        .as_ref()
        .and_then(|metadata| metadata.schedule.as_ref())
    else {
        return Ok(None);
    };
    updraft_scheduler::Schedule::from_proto(schedule).map_err(|error| {
        AdminError::invalid(format!(
            "launch plan {key} has a schedule that cannot run: {error}"
        ))
    })
}

fn launch_plan_conflict(
    key: &DefinitionKey,
    existing: &LaunchPlanRecord,
    spec: &admin::LaunchPlanSpec,
    spec_digest: &str,
) -> Result<AdminError, AdminError> {
    if existing.digest == spec_digest {
        return Ok(identical_exists(ResourceType::LaunchPlan, key));
    }
    let old = admin::LaunchPlanSpec::decode(existing.spec.as_slice())?;
    // Map fields encode in hash order, so equal specs can have different
    // bytes; compare the decoded messages too.
    if old == *spec {
        return Ok(identical_exists(ResourceType::LaunchPlan, key));
    }
    Ok(describe_difference(
        ResourceType::LaunchPlan,
        key,
        launch_plan_differences(&old, spec),
    ))
}

fn named_entity_key(
    resource_type: ResourceType,
    id: Option<&admin::NamedEntityIdentifier>,
) -> Result<NamedEntityKey, AdminError> {
    let id = id.ok_or_else(|| AdminError::invalid("missing id"))?;
    require(&id.project, "project")?;
    require(&id.domain, "domain")?;
    require(&id.name, "name")?;
    Ok(NamedEntityKey {
        resource_type: resource_type as i32,
        project: id.project.clone(),
        domain: id.domain.clone(),
        name: id.name.clone(),
    })
}

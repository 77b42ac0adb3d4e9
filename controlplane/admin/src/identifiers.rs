//! Parsing identifiers out of requests: every required part present, the
//! resource type right, and the project and domain registered.

use sha2::{Digest, Sha256};
use updraft_proto::flyteidl::{admin, core};

use crate::error::AdminError;
use crate::projects::DOMAINS;
use crate::store::{DefinitionKey, ExecutionKey, ProjectRepo, SqlStore};

/// Fails with `missing <what>` when `value` is empty, as flyteadmin words it.
pub(crate) fn require(value: &str, what: &str) -> Result<(), AdminError> {
    if value.trim().is_empty() {
        Err(AdminError::invalid(format!("missing {what}")))
    } else {
        Ok(())
    }
}

/// A human name for a resource type, used in messages.
pub(crate) fn resource_label(resource_type: core::ResourceType) -> &'static str {
    match resource_type {
        core::ResourceType::Task => "task",
        core::ResourceType::Workflow => "workflow",
        core::ResourceType::LaunchPlan => "launch plan",
        core::ResourceType::Dataset => "dataset",
        core::ResourceType::Unspecified => "entity",
    }
}

/// The key of a versioned definition, checking every part and the type.
pub(crate) fn definition_key(
    id: Option<&core::Identifier>,
    expected: core::ResourceType,
) -> Result<DefinitionKey, AdminError> {
    let id = id.ok_or_else(|| AdminError::invalid("missing id"))?;
    if id.resource_type != expected as i32 && id.resource_type != 0 {
        return Err(AdminError::invalid(format!(
            "unexpected resource type {} for identifier {}/{}/{}/{}, expected {}",
            core::ResourceType::try_from(id.resource_type)
                .map(|resource| resource.as_str_name().to_string())
                .unwrap_or_else(|_| id.resource_type.to_string()),
            id.project,
            id.domain,
            id.name,
            id.version,
            expected.as_str_name()
        )));
    }
    require(&id.project, "project")?;
    require(&id.domain, "domain")?;
    require(&id.name, "name")?;
    require(&id.version, "version")?;
    Ok(DefinitionKey {
        project: id.project.clone(),
        domain: id.domain.clone(),
        name: id.name.clone(),
        version: id.version.clone(),
    })
}

/// The wire identifier of a stored definition.
pub(crate) fn definition_identifier(
    key: &DefinitionKey,
    resource_type: core::ResourceType,
) -> core::Identifier {
    core::Identifier {
        resource_type: resource_type as i32,
        project: key.project.clone(),
        domain: key.domain.clone(),
        name: key.name.clone(),
        version: key.version.clone(),
        org: String::new(),
    }
}

/// The key of an execution, checking every part.
pub(crate) fn execution_key(
    id: Option<&core::WorkflowExecutionIdentifier>,
) -> Result<ExecutionKey, AdminError> {
    let id = id.ok_or_else(|| AdminError::invalid("missing id"))?;
    require(&id.project, "project")?;
    require(&id.domain, "domain")?;
    require(&id.name, "name")?;
    Ok(ExecutionKey {
        project: id.project.clone(),
        domain: id.domain.clone(),
        name: id.name.clone(),
    })
}

/// The wire identifier of a stored execution.
pub(crate) fn execution_identifier(key: &ExecutionKey) -> core::WorkflowExecutionIdentifier {
    core::WorkflowExecutionIdentifier {
        project: key.project.clone(),
        domain: key.domain.clone(),
        name: key.name.clone(),
        org: String::new(),
    }
}

/// The wire identifier of a name (no version).
pub(crate) fn named_entity_identifier(key: &DefinitionKey) -> admin::NamedEntityIdentifier {
    admin::NamedEntityIdentifier {
        project: key.project.clone(),
        domain: key.domain.clone(),
        name: key.name.clone(),
        org: String::new(),
    }
}

/// Fails with `InvalidArgument` unless the project is registered and the domain
/// is one of the configured domains, as flyteadmin does before storing anything.
pub(crate) async fn require_project_and_domain(
    store: &SqlStore,
    project: &str,
    domain: &str,
) -> Result<(), AdminError> {
    require(project, "project")?;
    require(domain, "domain")?;
    let registered = store.get_project(project).await?.is_some();
    if !registered || !DOMAINS.contains(&domain) {
        return Err(AdminError::invalid(format!(
            "failed to validate that project {project} and domain {domain} are registered"
        )));
    }
    Ok(())
}

/// The digest stored next to a spec and compared on re-registration.
pub(crate) fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

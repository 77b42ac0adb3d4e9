//! Matchable attributes: defaults (task resources, execution queue, workflow
//! execution config, …) set per project, per project and domain, or per
//! workflow, one resource type at a time, as flyteadmin's resource manager
//! keeps them.

use prost::Message;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::admin::MatchableResource;
use updraft_proto::flyteidl::admin::matching_attributes::Target;

use crate::AdminApi;
use crate::error::AdminError;
use crate::identifiers::{require, require_project_and_domain};
use crate::store::{
    MatchableAttributesKey, MatchableAttributesRecord, MatchableAttributesRepo, ProjectRepo,
    now_micros,
};

/// The resource type the attributes are for, which their oneof decides.
fn resource_type_of(
    attributes: Option<&admin::MatchingAttributes>,
) -> Result<MatchableResource, AdminError> {
    let target = attributes
        .and_then(|attributes| attributes.target.as_ref())
        .ok_or_else(|| {
            AdminError::invalid(
                "missing matching_attributes: set exactly one kind of attribute, which decides the resource type",
            )
        })?;
    Ok(match target {
        Target::TaskResourceAttributes(_) => MatchableResource::TaskResource,
        Target::ClusterResourceAttributes(_) => MatchableResource::ClusterResource,
        Target::ExecutionQueueAttributes(_) => MatchableResource::ExecutionQueue,
        Target::ExecutionClusterLabel(_) => MatchableResource::ExecutionClusterLabel,
        Target::QualityOfService(_) => MatchableResource::QualityOfServiceSpecification,
        Target::PluginOverrides(_) => MatchableResource::PluginOverride,
        Target::WorkflowExecutionConfig(_) => MatchableResource::WorkflowExecutionConfig,
        Target::ClusterAssignment(_) => MatchableResource::ClusterAssignment,
    })
}

/// A requested resource type, which must be one Flyte defines.
fn requested_resource_type(value: i32) -> Result<MatchableResource, AdminError> {
    MatchableResource::try_from(value).map_err(|_| {
        AdminError::invalid(format!(
            "invalid resource_type {value}: expected one of TASK_RESOURCE, CLUSTER_RESOURCE, \
             EXECUTION_QUEUE, EXECUTION_CLUSTER_LABEL, QUALITY_OF_SERVICE_SPECIFICATION, \
             PLUGIN_OVERRIDE, WORKFLOW_EXECUTION_CONFIG, CLUSTER_ASSIGNMENT"
        ))
    })
}

fn key(
    resource_type: MatchableResource,
    project: &str,
    domain: &str,
    workflow: &str,
) -> MatchableAttributesKey {
    MatchableAttributesKey {
        resource_type: resource_type as i32,
        project: project.to_string(),
        domain: domain.to_string(),
        workflow: workflow.to_string(),
        launch_plan: String::new(),
    }
}

fn describe(key: &MatchableAttributesKey) -> String {
    let resource = MatchableResource::try_from(key.resource_type)
        .map(|resource| resource.as_str_name().to_string())
        .unwrap_or_else(|_| key.resource_type.to_string());
    let mut scope = format!("project {}", key.project);
    if !key.domain.is_empty() {
        scope.push_str(&format!(", domain {}", key.domain));
    }
    if !key.workflow.is_empty() {
        scope.push_str(&format!(", workflow {}", key.workflow));
    }
    format!("{resource} attributes for {scope}")
}

impl AdminApi {
    async fn require_project(&self, project: &str) -> Result<(), AdminError> {
        require(project, "project")?;
        if self.state.store.get_project(project).await?.is_none() {
            return Err(AdminError::invalid(format!(
                "failed to validate that project {project} is registered"
            )));
        }
        Ok(())
    }

    async fn store_attributes(
        &self,
        key: MatchableAttributesKey,
        attributes: Option<admin::MatchingAttributes>,
    ) -> Result<(), AdminError> {
        let description = describe(&key);
        self.state
            .store
            .put_matchable_attributes(
                &MatchableAttributesRecord {
                    key,
                    attributes: attributes.unwrap_or_default().encode_to_vec(),
                },
                now_micros(),
            )
            .await?;
        tracing::info!(attributes = %description, "stored matchable attributes");
        Ok(())
    }

    async fn load_attributes(
        &self,
        key: &MatchableAttributesKey,
    ) -> Result<Option<admin::MatchingAttributes>, AdminError> {
        match self.state.store.get_matchable_attributes(key).await? {
            Some(record) => Ok(Some(admin::MatchingAttributes::decode(
                record.attributes.as_slice(),
            )?)),
            None => Ok(None),
        }
    }

    /// The attributes of `resource_type` that apply to `workflow` in a
    /// project and domain, the most specific level first as flyteadmin's
    /// resource manager picks them: the workflow's own, else the project and
    /// domain's, else the project's.
    pub(crate) async fn most_specific_attributes(
        &self,
        resource_type: MatchableResource,
        project: &str,
        domain: &str,
        workflow: &str,
    ) -> Result<Option<admin::MatchingAttributes>, AdminError> {
        let levels = [
            (!workflow.is_empty()).then(|| key(resource_type, project, domain, workflow)),
            Some(key(resource_type, project, domain, "")),
            Some(key(resource_type, project, "", "")),
        ];
        for level in levels.iter().flatten() {
            if let Some(attributes) = self.load_attributes(level).await? {
                return Ok(Some(attributes));
            }
        }
        Ok(None)
    }

    async fn delete_attributes(&self, key: &MatchableAttributesKey) -> Result<(), AdminError> {
        if self.state.store.delete_matchable_attributes(key).await? {
            Ok(())
        } else {
            Err(AdminError::not_found(format!(
                "{} do not exist",
                describe(key)
            )))
        }
    }

    pub(crate) async fn update_project_attributes_impl(
        &self,
        request: admin::ProjectAttributesUpdateRequest,
    ) -> Result<admin::ProjectAttributesUpdateResponse, AdminError> {
        let attributes = request
            .attributes
            .ok_or_else(|| AdminError::invalid("missing attributes"))?;
        self.require_project(&attributes.project).await?;
        let resource_type = resource_type_of(attributes.matching_attributes.as_ref())?;
        self.store_attributes(
            key(resource_type, &attributes.project, "", ""),
            attributes.matching_attributes,
        )
        .await?;
        Ok(admin::ProjectAttributesUpdateResponse {})
    }

    pub(crate) async fn get_project_attributes_impl(
        &self,
        request: admin::ProjectAttributesGetRequest,
    ) -> Result<admin::ProjectAttributesGetResponse, AdminError> {
        require(&request.project, "project")?;
        let resource_type = requested_resource_type(request.resource_type)?;
        let key = key(resource_type, &request.project, "", "");
        let matching_attributes = match self.load_attributes(&key).await? {
            Some(found) => found,
            // As flyteadmin: a project without its own execution config gets
            // the server's defaults (none are configured here), so the
            // console's project settings page has something to show.
            None if resource_type == MatchableResource::WorkflowExecutionConfig => {
                self.require_project(&request.project).await?;
                admin::MatchingAttributes {
                    target: Some(Target::WorkflowExecutionConfig(Default::default())),
                }
            }
            None => {
                return Err(AdminError::not_found(format!(
                    "{} do not exist",
                    describe(&key)
                )));
            }
        };
        Ok(admin::ProjectAttributesGetResponse {
            attributes: Some(admin::ProjectAttributes {
                project: request.project,
                matching_attributes: Some(matching_attributes),
                org: request.org,
            }),
        })
    }

    pub(crate) async fn delete_project_attributes_impl(
        &self,
        request: admin::ProjectAttributesDeleteRequest,
    ) -> Result<admin::ProjectAttributesDeleteResponse, AdminError> {
        require(&request.project, "project")?;
        let resource_type = requested_resource_type(request.resource_type)?;
        self.delete_attributes(&key(resource_type, &request.project, "", ""))
            .await?;
        Ok(admin::ProjectAttributesDeleteResponse {})
    }

    pub(crate) async fn update_project_domain_attributes_impl(
        &self,
        request: admin::ProjectDomainAttributesUpdateRequest,
    ) -> Result<admin::ProjectDomainAttributesUpdateResponse, AdminError> {
        let attributes = request
            .attributes
            .ok_or_else(|| AdminError::invalid("missing attributes"))?;
        require_project_and_domain(&self.state.store, &attributes.project, &attributes.domain)
            .await?;
        let resource_type = resource_type_of(attributes.matching_attributes.as_ref())?;
        self.store_attributes(
            key(resource_type, &attributes.project, &attributes.domain, ""),
            attributes.matching_attributes,
        )
        .await?;
        Ok(admin::ProjectDomainAttributesUpdateResponse {})
    }

    pub(crate) async fn get_project_domain_attributes_impl(
        &self,
        request: admin::ProjectDomainAttributesGetRequest,
    ) -> Result<admin::ProjectDomainAttributesGetResponse, AdminError> {
        require(&request.project, "project")?;
        require(&request.domain, "domain")?;
        let resource_type = requested_resource_type(request.resource_type)?;
        let key = key(resource_type, &request.project, &request.domain, "");
        let matching_attributes = self
            .load_attributes(&key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("{} do not exist", describe(&key))))?;
        Ok(admin::ProjectDomainAttributesGetResponse {
            attributes: Some(admin::ProjectDomainAttributes {
                project: request.project,
                domain: request.domain,
                matching_attributes: Some(matching_attributes),
                org: request.org,
            }),
        })
    }

    pub(crate) async fn delete_project_domain_attributes_impl(
        &self,
        request: admin::ProjectDomainAttributesDeleteRequest,
    ) -> Result<admin::ProjectDomainAttributesDeleteResponse, AdminError> {
        require(&request.project, "project")?;
        require(&request.domain, "domain")?;
        let resource_type = requested_resource_type(request.resource_type)?;
        self.delete_attributes(&key(resource_type, &request.project, &request.domain, ""))
            .await?;
        Ok(admin::ProjectDomainAttributesDeleteResponse {})
    }

    pub(crate) async fn update_workflow_attributes_impl(
        &self,
        request: admin::WorkflowAttributesUpdateRequest,
    ) -> Result<admin::WorkflowAttributesUpdateResponse, AdminError> {
        let attributes = request
            .attributes
            .ok_or_else(|| AdminError::invalid("missing attributes"))?;
        require_project_and_domain(&self.state.store, &attributes.project, &attributes.domain)
            .await?;
        require(&attributes.workflow, "workflow")?;
        let resource_type = resource_type_of(attributes.matching_attributes.as_ref())?;
        self.store_attributes(
            key(
                resource_type,
                &attributes.project,
                &attributes.domain,
                &attributes.workflow,
            ),
            attributes.matching_attributes,
        )
        .await?;
        Ok(admin::WorkflowAttributesUpdateResponse {})
    }

    pub(crate) async fn get_workflow_attributes_impl(
        &self,
        request: admin::WorkflowAttributesGetRequest,
    ) -> Result<admin::WorkflowAttributesGetResponse, AdminError> {
        require(&request.project, "project")?;
        require(&request.domain, "domain")?;
        require(&request.workflow, "workflow")?;
        let resource_type = requested_resource_type(request.resource_type)?;
        let key = key(
            resource_type,
            &request.project,
            &request.domain,
            &request.workflow,
        );
        let matching_attributes = self
            .load_attributes(&key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("{} do not exist", describe(&key))))?;
        Ok(admin::WorkflowAttributesGetResponse {
            attributes: Some(admin::WorkflowAttributes {
                project: request.project,
                domain: request.domain,
                workflow: request.workflow,
                matching_attributes: Some(matching_attributes),
                org: request.org,
            }),
        })
    }

    pub(crate) async fn delete_workflow_attributes_impl(
        &self,
        request: admin::WorkflowAttributesDeleteRequest,
    ) -> Result<admin::WorkflowAttributesDeleteResponse, AdminError> {
        require(&request.project, "project")?;
        require(&request.domain, "domain")?;
        require(&request.workflow, "workflow")?;
        let resource_type = requested_resource_type(request.resource_type)?;
        self.delete_attributes(&key(
            resource_type,
            &request.project,
            &request.domain,
            &request.workflow,
        ))
        .await?;
        Ok(admin::WorkflowAttributesDeleteResponse {})
    }

    pub(crate) async fn list_matchable_attributes_impl(
        &self,
        request: admin::ListMatchableAttributesRequest,
    ) -> Result<admin::ListMatchableAttributesResponse, AdminError> {
        let resource_type = requested_resource_type(request.resource_type)?;
        let records = self
            .state
            .store
            .list_matchable_attributes(resource_type as i32)
            .await?;
        let configurations = records
            .into_iter()
            .map(|record| {
                Ok(admin::MatchableAttributesConfiguration {
                    attributes: Some(admin::MatchingAttributes::decode(
                        record.attributes.as_slice(),
                    )?),
                    domain: record.key.domain,
                    project: record.key.project,
                    workflow: record.key.workflow,
                    launch_plan: record.key.launch_plan,
                    org: String::new(),
                })
            })
            .collect::<Result<_, AdminError>>()?;
        Ok(admin::ListMatchableAttributesResponse { configurations })
    }
}

//! Projects and domains.

use prost::Message;
use updraft_proto::flyteidl::admin;

use crate::AdminApi;
use crate::error::AdminError;
use crate::filters::{ListRequestParts, PROJECT_FIELDS, build_list_query, next_page_token};
use crate::identifiers::require;
use crate::store::{Condition, ProjectRecord, ProjectRepo, SqlValue, now_micros};

/// The domains every project has, in flyteadmin's default order.
pub(crate) const DOMAINS: [&str; 3] = ["development", "staging", "production"];

/// The domains as the wire lists them.
pub(crate) fn domains() -> Vec<admin::Domain> {
    DOMAINS
        .iter()
        .map(|domain| admin::Domain {
            id: domain.to_string(),
            name: domain.to_string(),
        })
        .collect()
}

fn project_from_record(record: ProjectRecord) -> Result<admin::Project, AdminError> {
    let labels = if record.labels.is_empty() {
        None
    } else {
        Some(admin::Labels::decode(record.labels.as_slice())?)
    };
    Ok(admin::Project {
        id: record.id,
        name: record.name,
        domains: domains(),
        description: record.description,
        labels,
        state: record.state,
        org: record.org,
    })
}

/// Projects listed when no filter is given: everything not archived, as flyteadmin.
const ARCHIVED: i64 = admin::project::ProjectState::Archived as i64;

impl AdminApi {
    pub(crate) async fn register_project_impl(
        &self,
        request: admin::ProjectRegisterRequest,
    ) -> Result<admin::ProjectRegisterResponse, AdminError> {
        let project = request
            .project
            .ok_or_else(|| AdminError::invalid("missing project"))?;
        require(&project.id, "project_id")?;
        require(&project.name, "project_name")?;
        if !project.domains.is_empty() {
            return Err(AdminError::invalid(
                "domains are set system wide; register the project without domains",
            ));
        }
        let now = now_micros();
        let record = ProjectRecord {
            id: project.id,
            name: project.name,
            description: project.description,
            labels: project
                .labels
                .map(|labels| labels.encode_to_vec())
                .unwrap_or_default(),
            state: project.state,
            org: project.org,
            created_at: now,
            updated_at: now,
        };
        self.state.store.create_project(&record).await?;
        tracing::info!(project = %record.id, "registered project");
        Ok(admin::ProjectRegisterResponse {})
    }

    pub(crate) async fn update_project_impl(
        &self,
        project: admin::Project,
    ) -> Result<admin::ProjectUpdateResponse, AdminError> {
        require(&project.id, "project_id")?;
        let existing = self
            .state
            .store
            .get_project(&project.id)
            .await?
            .ok_or_else(|| {
                AdminError::not_found(format!("project {} does not exist", project.id))
            })?;
        let record = ProjectRecord {
            // An empty name keeps the old one, as flyteadmin's partial update does.
            name: if project.name.is_empty() {
                existing.name.clone()
            } else {
                project.name
            },
            description: project.description,
            labels: project
                .labels
                .map(|labels| labels.encode_to_vec())
                .unwrap_or_default(),
            state: project.state,
            updated_at: now_micros(),
            ..existing
        };
        if !self.state.store.update_project(&record).await? {
            return Err(AdminError::not_found(format!(
                "project {} does not exist",
                record.id
            )));
        }
        Ok(admin::ProjectUpdateResponse {})
    }

    pub(crate) async fn get_project_impl(
        &self,
        request: admin::ProjectGetRequest,
    ) -> Result<admin::Project, AdminError> {
        require(&request.id, "project_id")?;
        let record = self
            .state
            .store
            .get_project(&request.id)
            .await?
            .ok_or_else(|| {
                AdminError::not_found(format!("project {} does not exist", request.id))
            })?;
        project_from_record(record)
    }

    pub(crate) async fn list_projects_impl(
        &self,
        request: admin::ProjectListRequest,
    ) -> Result<admin::Projects, AdminError> {
        let scope = if request.filters.trim().is_empty() {
            vec![Condition {
                column: "state",
                operator: crate::store::Operator::NotEqual,
                values: vec![SqlValue::Integer(ARCHIVED)],
            }]
        } else {
            Vec::new()
        };
        let query = build_list_query(
            &PROJECT_FIELDS,
            ListRequestParts::from(&request),
            scope,
            Some(crate::filters::MAX_PAGE_SIZE),
        )?;
        let records = self.state.store.list_projects(&query).await?;
        let token = next_page_token(&query, records.len());
        Ok(admin::Projects {
            projects: records
                .into_iter()
                .map(project_from_record)
                .collect::<Result<_, _>>()?,
            token,
        })
    }
}

//! Description entities: the docstrings and source links flytekit puts in
//! the `description` of task and workflow specs, stored per version when
//! registered and served to the console's entity pages.

use prost::Message;
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, ResourceType};

use crate::AdminApi;
use crate::error::AdminError;
use crate::filters::{
    DESCRIPTION_ENTITY_FIELDS, ListRequestParts, build_list_query, next_page_token,
};
use crate::identifiers::{definition_identifier, definition_key, require};
use crate::store::{
    Condition, DefinitionKey, DescriptionEntityRecord, DescriptionEntityRepo, SqlValue, now_micros,
};

/// Tasks and workflows carry descriptions; nothing else does.
fn described_resource_type(resource_type: i32) -> Result<ResourceType, AdminError> {
    match ResourceType::try_from(resource_type) {
        Ok(resource @ (ResourceType::Task | ResourceType::Workflow)) => Ok(resource),
        Ok(ResourceType::Unspecified) => Err(AdminError::invalid(
            "missing resource_type: expected TASK or WORKFLOW",
        )),
        _ => Err(AdminError::invalid(format!(
            "invalid resource_type {resource_type}: only TASK and WORKFLOW have description entities"
        ))),
    }
}

fn description_from_record(
    record: &DescriptionEntityRecord,
) -> Result<admin::DescriptionEntity, AdminError> {
    let mut entity = admin::DescriptionEntity::decode(record.entity.as_slice())?;
    let resource_type = ResourceType::try_from(record.resource_type).unwrap_or_default();
    // The id is the version's, whatever the client put inside the spec.
    entity.id = Some(definition_identifier(&record.key, resource_type));
    Ok(entity)
}

impl AdminApi {
    /// Stores the description a newly registered task or workflow carries.
    pub(crate) async fn record_description(
        &self,
        resource_type: ResourceType,
        key: &DefinitionKey,
        description: Option<&admin::DescriptionEntity>,
    ) -> Result<(), AdminError> {
        let Some(description) = description else {
            return Ok(());
        };
        self.state
            .store
            .create_description_entity(&DescriptionEntityRecord {
                resource_type: resource_type as i32,
                key: key.clone(),
                short_description: description.short_description.clone(),
                entity: description.encode_to_vec(),
                created_at: now_micros(),
            })
            .await?;
        Ok(())
    }

    pub(crate) async fn get_description_entity_impl(
        &self,
        request: admin::ObjectGetRequest,
    ) -> Result<admin::DescriptionEntity, AdminError> {
        let id: Option<&core::Identifier> = request.id.as_ref();
        let resource_type = described_resource_type(
            id.ok_or_else(|| AdminError::invalid("missing id"))?
                .resource_type,
        )?;
        let key = definition_key(id, resource_type)?;
        let record = self
            .state
            .store
            .get_description_entity(resource_type as i32, &key)
            .await?
            .ok_or_else(|| {
                AdminError::not_found(format!(
                    "description entity of {} {key} does not exist",
                    crate::identifiers::resource_label(resource_type)
                ))
            })?;
        description_from_record(&record)
    }

    pub(crate) async fn list_description_entities_impl(
        &self,
        request: admin::DescriptionEntityListRequest,
    ) -> Result<admin::DescriptionEntityList, AdminError> {
        let resource_type = described_resource_type(request.resource_type)?;
        let id = request
            .id
            .as_ref()
            .ok_or_else(|| AdminError::invalid("missing id"))?;
        require(&id.project, "project")?;
        require(&id.domain, "domain")?;
        let mut scope = vec![
            Condition::equal("resource_type", SqlValue::Integer(resource_type as i64)),
            Condition::text("project", &id.project),
            Condition::text("domain", &id.domain),
        ];
        if !id.name.is_empty() {
            scope.push(Condition::text("name", &id.name));
        }
        let query = build_list_query(
            &DESCRIPTION_ENTITY_FIELDS,
            ListRequestParts::from(&request),
            scope,
            None,
        )?;
        let records = self.state.store.list_description_entities(&query).await?;
        Ok(admin::DescriptionEntityList {
            token: next_page_token(&query, records.len()),
            description_entities: records
                .iter()
                .map(description_from_record)
                .collect::<Result<_, _>>()?,
        })
    }
}

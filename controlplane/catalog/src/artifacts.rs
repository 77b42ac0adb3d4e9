//! CreateArtifact, GetArtifact, ListArtifacts, UpdateArtifact and AddTag.
//!
//! Each output of an artifact is one object in the store; a lookup whose
//! object is gone (a lifecycle rule, a hand cleaning the bucket) answers
//! NOT_FOUND, which propeller counts as a miss, and drops the artifact so
//! the next successful run can cache its outputs again under the same tag.

use prost::Message;
use updraft_proto::datacatalog;

use crate::CatalogApi;
use crate::blobs::BlobReadError;
use crate::error::CatalogError;
use crate::identifiers::{DatasetKey, path_segment, required};
use crate::listing;
use crate::store::{
    ArtifactCreation, ArtifactDataRecord, ArtifactListQuery, ArtifactRecord, DatasetRecord,
    NewArtifact, SourceExecution, now_micros, timestamp_from_micros,
};

/// The metadata keys propeller records the producing execution under.
const EXECUTION_PROJECT_KEY: &str = "exec-project";
const EXECUTION_DOMAIN_KEY: &str = "exec-domain";
const EXECUTION_NAME_KEY: &str = "execution-name";

/// Who produced an artifact, from the metadata propeller gives it.
pub(crate) fn source_execution(metadata: Option<&datacatalog::Metadata>) -> SourceExecution {
    let value = |key: &str| {
        metadata
            .and_then(|metadata| metadata.key_map.get(key))
            .cloned()
            .unwrap_or_default()
    };
    SourceExecution {
        project: value(EXECUTION_PROJECT_KEY),
        domain: value(EXECUTION_DOMAIN_KEY),
        name: value(EXECUTION_NAME_KEY),
    }
}

/// Checks the outputs of an artifact (at `field` in the request): at least
/// one, each named once, with a value, and the name usable as a folder.
fn check_data(data: &[datacatalog::ArtifactData], field: &str) -> Result<(), CatalogError> {
    if data.is_empty() {
        return Err(CatalogError::invalid(format!(
            "{field} is required: an artifact holds at least one output"
        )));
    }
    for (index, output) in data.iter().enumerate() {
        path_segment(&output.name, &format!("{field}[{index}].name"))?;
        if data[..index]
            .iter()
            .any(|earlier| earlier.name == output.name)
        {
            return Err(CatalogError::invalid(format!(
                "{field}[{index}].name repeats the output {:?}",
                output.name
            )));
        }
        if output.value.is_none() {
            return Err(CatalogError::invalid(format!(
                "{field}[{index}].value is required"
            )));
        }
    }
    Ok(())
}

/// An output whose object is gone from the store.
struct LostOutput {
    name: String,
    location: String,
}

/// What storing a checked artifact came to.
pub(crate) enum StoredArtifact {
    /// Stored, with its tags.
    Created,
    /// Another artifact holds the tag: nothing was stored.
    TagHeld {
        tag_name: String,
        artifact_id: String,
    },
}

impl CatalogApi {
    /// Writes `data` as the outputs of artifact `artifact_id`; on failure
    /// deletes what it wrote.
    async fn write_artifact_data(
        &self,
        dataset: &DatasetKey,
        artifact_id: &str,
        data: &[datacatalog::ArtifactData],
    ) -> Result<Vec<ArtifactDataRecord>, CatalogError> {
        let blobs = &self.state.blobs;
        let writes = data.iter().map(|output| async move {
            let value = output.value.clone().unwrap_or_default();
            let location = blobs
                .put(dataset, artifact_id, &output.name, &value)
                .await?;
            Ok::<_, CatalogError>(ArtifactDataRecord {
                name: output.name.clone(),
                location,
            })
        });
        let written = futures::future::join_all(writes).await;
        if written.iter().any(Result::is_err) {
            let locations: Vec<String> = written
                .iter()
                .filter_map(|write| write.as_ref().ok().map(|record| record.location.clone()))
                .collect();
            self.state.blobs.delete_all(&locations).await;
        }
        written.into_iter().collect()
    }

    /// The outputs of `record`, or the first one whose object is gone.
    async fn read_artifact_data(
        &self,
        record: &ArtifactRecord,
    ) -> Result<Result<Vec<datacatalog::ArtifactData>, LostOutput>, CatalogError> {
        let reads = record.data.iter().map(|output| async move {
            let value =
                self.state
                    .blobs
                    .get(&output.location)
                    .await
                    .map_err(|error| match error {
                        BlobReadError::Storage(error) => CatalogError::Blobs(error),
                        BlobReadError::Decode(error) => CatalogError::Decode(error),
                    })?;
            Ok::<_, CatalogError>((output, value))
        });
        let mut data = Vec::with_capacity(record.data.len());
        for read in futures::future::join_all(reads).await {
            let (output, value) = read?;
            match value {
                Some(value) => data.push(datacatalog::ArtifactData {
                    name: output.name.clone(),
                    value: Some(value),
                }),
                None => {
                    return Ok(Err(LostOutput {
                        name: output.name.clone(),
                        location: output.location.clone(),
                    }));
                }
            }
        }
        Ok(Ok(data))
    }

    /// Deletes artifacts with everything that belongs to them, data
    /// included; answers how many there were.
    pub(crate) async fn delete_artifacts(
        &self,
        dataset_uuid: &str,
        artifact_ids: &[String],
    ) -> Result<usize, CatalogError> {
        let locations = self
            .state
            .store
            .delete_artifacts(dataset_uuid, artifact_ids)
            .await?;
        self.state.blobs.delete_all(&locations).await;
        Ok(artifact_ids.len())
    }

    /// `record` with its outputs read from the store, or NOT_FOUND (after
    /// dropping it) when one of them is gone.
    pub(crate) async fn artifact_with_data(
        &self,
        dataset: &DatasetRecord,
        record: &ArtifactRecord,
    ) -> Result<datacatalog::Artifact, CatalogError> {
        match self.read_artifact_data(record).await? {
            Ok(data) => artifact_from_record(&dataset.key, record, data),
            Err(lost) => {
                tracing::warn!(
                    artifact = record.artifact_id,
                    dataset = %dataset.key,
                    output = lost.name,
                    location = lost.location,
                    "cached output is gone from the object store; dropping the artifact"
                );
                self.delete_artifacts(
                    &record.dataset_uuid,
                    std::slice::from_ref(&record.artifact_id),
                )
                .await?;
                Err(CatalogError::not_found(format!(
                    "artifact {} of {} lost its output {:?} from the object store; it was dropped, \
                     so it counts as not cached",
                    record.artifact_id, dataset.key, lost.name
                )))
            }
        }
    }

    /// Checks and stores an artifact with the tags it carries, all or nothing.
    pub(crate) async fn store_artifact(
        &self,
        artifact: datacatalog::Artifact,
    ) -> Result<StoredArtifact, CatalogError> {
        let key = DatasetKey::parse(artifact.dataset.as_ref(), "artifact.dataset")?;
        path_segment(required(&artifact.id, "artifact.id")?, "artifact.id")?;
        check_data(&artifact.data, "artifact.data")?;
        let mut tags = Vec::with_capacity(artifact.tags.len());
        for (index, tag) in artifact.tags.iter().enumerate() {
            let field = format!("artifact.tags[{index}]");
            required(&tag.name, &format!("{field}.name"))?;
            if !tag.artifact_id.is_empty() && tag.artifact_id != artifact.id {
                return Err(CatalogError::invalid(format!(
                    "{field}.artifact_id {:?} is not the artifact's id {:?}",
                    tag.artifact_id, artifact.id
                )));
            }
            if tag.dataset.is_some()
                && DatasetKey::parse(tag.dataset.as_ref(), &format!("{field}.dataset"))? != key
            {
                return Err(CatalogError::invalid(format!(
                    "{field}.dataset is not the artifact's dataset"
                )));
            }
            if !tags.contains(&tag.name) {
                tags.push(tag.name.clone());
            }
        }
        let dataset = self.existing_dataset(&key).await?;
        let partition_keys = datacatalog::Dataset::decode(dataset.spec.as_slice())?.partition_keys;
        check_partitions(&partition_keys, &artifact.partitions)?;
        if self
            .state
            .store
            .artifact_exists(&dataset.uuid, &artifact.id)
            .await?
        {
            return Err(CatalogError::AlreadyExists(format!(
                "artifact {} already exists in {key}",
                artifact.id
            )));
        }
        let data = self
            .write_artifact_data(&key, &artifact.id, &artifact.data)
            .await?;
        let new = NewArtifact {
            dataset_uuid: dataset.uuid.clone(),
            artifact_id: artifact.id.clone(),
            metadata: artifact
                .metadata
                .clone()
                .unwrap_or_default()
                .encode_to_vec(),
            source: source_execution(artifact.metadata.as_ref()),
            data,
            partitions: artifact
                .partitions
                .iter()
                .map(|partition| (partition.key.clone(), partition.value.clone()))
                .collect(),
            tags,
            created_at: now_micros(),
        };
        let stored = self.state.store.create_artifact(&new).await;
        let locations: Vec<String> = new
            .data
            .iter()
            .map(|output| output.location.clone())
            .collect();
        match stored {
            Ok(ArtifactCreation::Created) => Ok(StoredArtifact::Created),
            // Another create of the same id raced this one past the check:
            // the objects written are now that artifact's, so they stay.
            Ok(ArtifactCreation::ArtifactExists) => Err(CatalogError::AlreadyExists(format!(
                "artifact {} already exists in {key}",
                artifact.id
            ))),
            Ok(ArtifactCreation::TagTaken {
                tag_name,
                artifact_id,
            }) => {
                self.state.blobs.delete_all(&locations).await;
                Ok(StoredArtifact::TagHeld {
                    tag_name,
                    artifact_id,
                })
            }
            Err(error) => {
                self.state.blobs.delete_all(&locations).await;
                Err(error.into())
            }
        }
    }

    pub(crate) async fn create_artifact_impl(
        &self,
        request: datacatalog::CreateArtifactRequest,
    ) -> Result<datacatalog::CreateArtifactResponse, CatalogError> {
        let artifact = request
            .artifact
            .ok_or_else(|| CatalogError::invalid("artifact is required"))?;
        let dataset = artifact.dataset.clone();
        match self.store_artifact(artifact).await? {
            StoredArtifact::Created => Ok(datacatalog::CreateArtifactResponse {}),
            StoredArtifact::TagHeld {
                tag_name,
                artifact_id,
            } => {
                let key = DatasetKey::parse(dataset.as_ref(), "artifact.dataset")?;
                Err(CatalogError::AlreadyExists(format!(
                    "tag {tag_name} already names artifact {artifact_id} in {key}; nothing was stored"
                )))
            }
        }
    }

    /// The artifact a query handle names, with its dataset, or NOT_FOUND
    /// naming what is missing.
    async fn find_artifact(
        &self,
        dataset_id: Option<&datacatalog::DatasetId>,
        artifact_id: Option<&str>,
        tag_name: Option<&str>,
    ) -> Result<(DatasetRecord, ArtifactRecord), CatalogError> {
        match (artifact_id, tag_name) {
            (_, Some(tag_name)) => {
                let key = DatasetKey::parse(dataset_id, "dataset")?;
                required(tag_name, "tag_name")?;
                match self
                    .state
                    .store
                    .find_artifact_by_tag(&key, tag_name)
                    .await?
                {
                    Some(found) => Ok(found),
                    None => {
                        // Say which part is missing; a miss costs this
                        // second query only.
                        self.existing_dataset(&key).await?;
                        Err(CatalogError::not_found(format!(
                            "no artifact is tagged {tag_name} in {key}"
                        )))
                    }
                }
            }
            (Some(artifact_id), None) => {
                required(artifact_id, "artifact_id")?;
                // As in datacatalog, the dataset may be left out: artifact
                // ids are UUIDs.
                let dataset = match dataset_id {
                    Some(id) => Some(
                        self.existing_dataset(&DatasetKey::parse(Some(id), "dataset")?)
                            .await?,
                    ),
                    None => None,
                };
                let record = self
                    .state
                    .store
                    .find_artifact_by_id(
                        dataset.as_ref().map(|dataset| dataset.uuid.as_str()),
                        artifact_id,
                    )
                    .await?;
                let missing = || match &dataset {
                    Some(dataset) => CatalogError::not_found(format!(
                        "artifact {artifact_id} not found in {}",
                        dataset.key
                    )),
                    None => CatalogError::not_found(format!("artifact {artifact_id} not found")),
                };
                let record = record.ok_or_else(missing)?;
                let dataset = match dataset {
                    Some(dataset) => dataset,
                    None => self
                        .state
                        .store
                        .dataset_of(&record)
                        .await?
                        .ok_or_else(missing)?,
                };
                Ok((dataset, record))
            }
            (None, None) => Err(CatalogError::invalid(
                "one of artifact_id or tag_name is required",
            )),
        }
    }

    pub(crate) async fn get_artifact_impl(
        &self,
        request: datacatalog::GetArtifactRequest,
    ) -> Result<datacatalog::GetArtifactResponse, CatalogError> {
        use datacatalog::get_artifact_request::QueryHandle;
        let (artifact_id, tag_name) = match &request.query_handle {
            Some(QueryHandle::ArtifactId(id)) => (Some(id.as_str()), None),
            Some(QueryHandle::TagName(tag)) => (None, Some(tag.as_str())),
            None => (None, None),
        };
        let (dataset, record) = self
            .find_artifact(request.dataset.as_ref(), artifact_id, tag_name)
            .await?;
        Ok(datacatalog::GetArtifactResponse {
            artifact: Some(self.artifact_with_data(&dataset, &record).await?),
        })
    }

    pub(crate) async fn list_artifacts_impl(
        &self,
        request: datacatalog::ListArtifactsRequest,
    ) -> Result<datacatalog::ListArtifactsResponse, CatalogError> {
        let key = DatasetKey::parse(request.dataset.as_ref(), "dataset")?;
        let query = ArtifactListQuery {
            filters: listing::artifact_filters(request.filter.as_ref())?,
            page: listing::page(request.pagination.as_ref())?,
        };
        let dataset = self.existing_dataset(&key).await?;
        let records = self
            .state
            .store
            .list_artifacts(&dataset.uuid, &query)
            .await?;
        let reads = records
            .iter()
            .map(|record| self.artifact_with_data(&dataset, record));
        let mut artifacts = Vec::with_capacity(records.len());
        for read in futures::future::join_all(reads).await {
            match read {
                Ok(artifact) => artifacts.push(artifact),
                // Lost its data and was dropped (and logged): not listed.
                Err(CatalogError::NotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(datacatalog::ListArtifactsResponse {
            next_token: listing::next_token(&query.page, records.len()),
            artifacts,
        })
    }

    pub(crate) async fn update_artifact_impl(
        &self,
        request: datacatalog::UpdateArtifactRequest,
    ) -> Result<datacatalog::UpdateArtifactResponse, CatalogError> {
        use datacatalog::update_artifact_request::QueryHandle;
        check_data(&request.data, "data")?;
        let (artifact_id, tag_name) = match &request.query_handle {
            Some(QueryHandle::ArtifactId(id)) => (Some(id.as_str()), None),
            Some(QueryHandle::TagName(tag)) => (None, Some(tag.as_str())),
            None => (None, None),
        };
        let (dataset, record) = self
            .find_artifact(request.dataset.as_ref(), artifact_id, tag_name)
            .await?;
        let data = self
            .write_artifact_data(&dataset.key, &record.artifact_id, &request.data)
            .await?;
        let metadata = request.metadata.clone().unwrap_or_default();
        let removed = self
            .state
            .store
            .update_artifact(
                &record.dataset_uuid,
                &record.artifact_id,
                &metadata.encode_to_vec(),
                &source_execution(Some(&metadata)),
                &data,
                now_micros(),
            )
            .await?
            .ok_or_else(|| {
                CatalogError::not_found(format!(
                    "artifact {} not found in {}",
                    record.artifact_id, dataset.key
                ))
            })?;
        self.state.blobs.delete_all(&removed).await;
        Ok(datacatalog::UpdateArtifactResponse {
            artifact_id: record.artifact_id,
        })
    }

    pub(crate) async fn add_tag_impl(
        &self,
        request: datacatalog::AddTagRequest,
    ) -> Result<datacatalog::AddTagResponse, CatalogError> {
        let tag = request
            .tag
            .ok_or_else(|| CatalogError::invalid("tag is required"))?;
        let key = DatasetKey::parse(tag.dataset.as_ref(), "tag.dataset")?;
        required(&tag.name, "tag.name")?;
        required(&tag.artifact_id, "tag.artifact_id")?;
        let dataset = self.existing_dataset(&key).await?;
        if !self
            .state
            .store
            .artifact_exists(&dataset.uuid, &tag.artifact_id)
            .await?
        {
            return Err(CatalogError::not_found(format!(
                "artifact {} not found in {key}",
                tag.artifact_id
            )));
        }
        match self
            .state
            .store
            .add_tag(&dataset.uuid, &tag.name, &tag.artifact_id, now_micros())
            .await?
        {
            Ok(()) => Ok(datacatalog::AddTagResponse {}),
            Err(holder) => Err(CatalogError::AlreadyExists(format!(
                "tag {} already names artifact {holder} in {key}",
                tag.name
            ))),
        }
    }
}

/// An artifact's partitions must assign each of its dataset's partition
/// keys once, and nothing else.
fn check_partitions(
    dataset_keys: &[String],
    partitions: &[datacatalog::Partition],
) -> Result<(), CatalogError> {
    for (index, partition) in partitions.iter().enumerate() {
        let field = format!("artifact.partitions[{index}]");
        required(&partition.key, &format!("{field}.key"))?;
        required(&partition.value, &format!("{field}.value"))?;
        if !dataset_keys.contains(&partition.key) {
            return Err(CatalogError::invalid(format!(
                "{field}.key {:?} is not a partition key of the dataset (its keys: {dataset_keys:?})",
                partition.key
            )));
        }
        if partitions[..index]
            .iter()
            .any(|earlier| earlier.key == partition.key)
        {
            return Err(CatalogError::invalid(format!(
                "{field}.key {:?} is assigned twice",
                partition.key
            )));
        }
    }
    if partitions.len() != dataset_keys.len() {
        return Err(CatalogError::invalid(format!(
            "artifact.partitions must assign every partition key of the dataset ({dataset_keys:?})"
        )));
    }
    Ok(())
}

/// The protobuf artifact of a stored one, with `data` read from the store.
pub(crate) fn artifact_from_record(
    dataset: &DatasetKey,
    record: &ArtifactRecord,
    data: Vec<datacatalog::ArtifactData>,
) -> Result<datacatalog::Artifact, CatalogError> {
    let dataset_id = dataset.to_dataset_id(&record.dataset_uuid);
    Ok(datacatalog::Artifact {
        id: record.artifact_id.clone(),
        dataset: Some(dataset_id.clone()),
        data,
        metadata: Some(datacatalog::Metadata::decode(record.metadata.as_slice())?),
        partitions: record
            .partitions
            .iter()
            .map(|(key, value)| datacatalog::Partition {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        tags: record
            .tags
            .iter()
            .map(|name| datacatalog::Tag {
                name: name.clone(),
                artifact_id: record.artifact_id.clone(),
                dataset: Some(dataset_id.clone()),
            })
            .collect(),
        created_at: Some(timestamp_from_micros(record.created_at)),
    })
}

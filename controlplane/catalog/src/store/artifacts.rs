//! Artifacts with their data locations, partitions and tags. An artifact
//! and the tags it is created with are stored in one transaction, so a
//! racing put either wins the tag or leaves nothing behind.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyRow;
use updraft_database::{bind_values, is_unique_violation};

use super::datasets::DatasetRecord;
use super::statements::{self, ArtifactListQuery};
use super::{CatalogStore, DatabaseContext, StoreError, time_repository_call};
use crate::identifiers::DatasetKey;

/// The execution that produced an artifact (empty parts when its metadata
/// does not say).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceExecution {
    /// `exec-project`.
    pub project: String,
    /// `exec-domain`.
    pub domain: String,
    /// `execution-name`.
    pub name: String,
}

/// Where one output of an artifact is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactDataRecord {
    /// The output's name.
    pub name: String,
    /// The URI of its `Literal` in the object store.
    pub location: String,
}

/// A stored artifact with everything that belongs to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRecord {
    /// Its dataset's UUID.
    pub dataset_uuid: String,
    /// Its id.
    pub artifact_id: String,
    /// Its `datacatalog.Metadata`.
    pub metadata: Vec<u8>,
    /// When it was created (an update keeps this, as datacatalog does).
    pub created_at: i64,
    /// When it was last written.
    pub updated_at: i64,
    /// Its outputs, in the order they were given.
    pub data: Vec<ArtifactDataRecord>,
    /// Its partitions, `(key, value)` in the order they were given.
    pub partitions: Vec<(String, String)>,
    /// The tags that name it.
    pub tags: Vec<String>,
}

/// An artifact to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArtifact {
    /// Its dataset's UUID.
    pub dataset_uuid: String,
    /// Its id.
    pub artifact_id: String,
    /// Its `datacatalog.Metadata`.
    pub metadata: Vec<u8>,
    /// Who produced it.
    pub source: SourceExecution,
    /// Its outputs' locations.
    pub data: Vec<ArtifactDataRecord>,
    /// Its partitions.
    pub partitions: Vec<(String, String)>,
    /// Tags created with it, in the same transaction.
    pub tags: Vec<String>,
    /// Now.
    pub created_at: i64,
}

/// What storing an artifact did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactCreation {
    /// The artifact and its tags are stored.
    Created,
    /// An artifact with that id exists already; nothing was stored.
    ArtifactExists,
    /// Another artifact holds one of the tags; nothing was stored.
    TagTaken {
        /// The tag.
        tag_name: String,
        /// The artifact it names.
        artifact_id: String,
    },
}

fn artifact_from_row(row: &AnyRow) -> Result<ArtifactRecord, sqlx::Error> {
    Ok(ArtifactRecord {
        dataset_uuid: row.try_get("dataset_uuid")?,
        artifact_id: row.try_get("artifact_id")?,
        metadata: row.try_get("metadata")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        data: Vec::new(),
        partitions: Vec::new(),
        tags: Vec::new(),
    })
}

/// Whether inserting failed on a uniqueness constraint, or how else.
fn inserted(
    result: Result<sqlx::any::AnyQueryResult, sqlx::Error>,
    action: &'static str,
) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(error) if is_unique_violation(&error) => Ok(false),
        Err(source) => Err(StoreError::Database { action, source }),
    }
}

async fn insert_artifact_data(
    connection: &mut sqlx::AnyConnection,
    dataset_uuid: &str,
    artifact_id: &str,
    data: &[ArtifactDataRecord],
) -> Result<(), StoreError> {
    for (position, output) in data.iter().enumerate() {
        sqlx::query(
            "INSERT INTO catalog_artifact_data (dataset_uuid, artifact_id, name, position, location) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(dataset_uuid)
        .bind(artifact_id)
        .bind(&output.name)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(&output.location)
        .execute(&mut *connection)
        .await
        .context("store an artifact's data location")?;
    }
    Ok(())
}

impl CatalogStore {
    /// Whether the dataset `dataset_uuid` has an artifact `artifact_id`.
    pub async fn artifact_exists(
        &self,
        dataset_uuid: &str,
        artifact_id: &str,
    ) -> Result<bool, StoreError> {
        let _timer = time_repository_call!("artifact", "get");
        let (sql, binds) = statements::artifact_by_id(Some(dataset_uuid), artifact_id);
        let row = bind_values(sqlx::query(&sql), &binds)
            .fetch_optional(&self.pool)
            .await
            .context("look for an artifact")?;
        Ok(row.is_some())
    }

    /// Stores an artifact, its data locations, partitions and tags in one
    /// transaction.
    #[tracing::instrument(skip_all, fields(artifact = %artifact.artifact_id))]
    pub async fn create_artifact(
        &self,
        artifact: &NewArtifact,
    ) -> Result<ArtifactCreation, StoreError> {
        let _timer = time_repository_call!("artifact", "create");
        let mut transaction = self
            .pool
            .begin()
            .await
            .context("begin storing an artifact")?;
        let created = sqlx::query(
            "INSERT INTO catalog_artifacts (dataset_uuid, artifact_id, metadata, \
             source_execution_project, source_execution_domain, source_execution_name, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&artifact.dataset_uuid)
        .bind(&artifact.artifact_id)
        .bind(&artifact.metadata)
        .bind(&artifact.source.project)
        .bind(&artifact.source.domain)
        .bind(&artifact.source.name)
        .bind(artifact.created_at)
        .execute(&mut *transaction)
        .await;
        if !inserted(created, "store an artifact")? {
            transaction
                .rollback()
                .await
                .context("roll back an artifact")?;
            return Ok(ArtifactCreation::ArtifactExists);
        }
        insert_artifact_data(
            &mut transaction,
            &artifact.dataset_uuid,
            &artifact.artifact_id,
            &artifact.data,
        )
        .await?;
        for (position, (key, value)) in artifact.partitions.iter().enumerate() {
            sqlx::query(
                "INSERT INTO catalog_partitions (dataset_uuid, artifact_id, partition_key, \
                 partition_value, position) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&artifact.dataset_uuid)
            .bind(&artifact.artifact_id)
            .bind(key)
            .bind(value)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .execute(&mut *transaction)
            .await
            .context("store an artifact's partition")?;
        }
        for tag_name in &artifact.tags {
            let tagged = sqlx::query(
                "INSERT INTO catalog_tags (dataset_uuid, tag_name, artifact_id, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&artifact.dataset_uuid)
            .bind(tag_name)
            .bind(&artifact.artifact_id)
            .bind(artifact.created_at)
            .execute(&mut *transaction)
            .await;
            if !inserted(tagged, "tag an artifact")? {
                transaction
                    .rollback()
                    .await
                    .context("roll back an artifact")?;
                let holder = self.tag_holder(&artifact.dataset_uuid, tag_name).await?;
                return Ok(ArtifactCreation::TagTaken {
                    tag_name: tag_name.clone(),
                    artifact_id: holder.unwrap_or_default(),
                });
            }
        }
        transaction.commit().await.context("commit an artifact")?;
        Ok(ArtifactCreation::Created)
    }

    /// Tags the artifact `artifact_id`; `Err(holder)` inside `Ok` when the
    /// tag already names an artifact (`holder`).
    #[tracing::instrument(skip_all, fields(tag = tag_name))]
    pub async fn add_tag(
        &self,
        dataset_uuid: &str,
        tag_name: &str,
        artifact_id: &str,
        now: i64,
    ) -> Result<Result<(), String>, StoreError> {
        let _timer = time_repository_call!("tag", "create");
        let tagged = sqlx::query(
            "INSERT INTO catalog_tags (dataset_uuid, tag_name, artifact_id, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(dataset_uuid)
        .bind(tag_name)
        .bind(artifact_id)
        .bind(now)
        .execute(&self.pool)
        .await;
        if inserted(tagged, "tag an artifact")? {
            Ok(Ok(()))
        } else {
            let holder = self.tag_holder(dataset_uuid, tag_name).await?;
            Ok(Err(holder.unwrap_or_default()))
        }
    }

    /// The artifact the tag `tag_name` names in the dataset `dataset_uuid`.
    pub async fn tag_holder(
        &self,
        dataset_uuid: &str,
        tag_name: &str,
    ) -> Result<Option<String>, StoreError> {
        let _timer = time_repository_call!("tag", "get");
        let (sql, binds) = statements::tag(dataset_uuid, tag_name);
        let row = bind_values(sqlx::query(&sql), &binds)
            .fetch_optional(&self.pool)
            .await
            .context("read a tag")?;
        row.map(|row| row.try_get("artifact_id"))
            .transpose()
            .context("read a tag")
    }

    /// The artifact `tag_name` names in the dataset `key`, with the dataset:
    /// one query for the artifact, then its outputs, partitions and tags.
    #[tracing::instrument(skip_all, fields(dataset = %key, tag = tag_name))]
    pub async fn find_artifact_by_tag(
        &self,
        key: &DatasetKey,
        tag_name: &str,
    ) -> Result<Option<(DatasetRecord, ArtifactRecord)>, StoreError> {
        let _timer = time_repository_call!("tag", "get");
        let (sql, binds) = statements::artifact_by_tag(key, tag_name);
        let Some(row) = bind_values(sqlx::query(&sql), &binds)
            .fetch_optional(&self.pool)
            .await
            .context("find an artifact by tag")?
        else {
            return Ok(None);
        };
        let read = || -> Result<_, sqlx::Error> {
            let artifact = artifact_from_row(&row)?;
            let dataset = DatasetRecord {
                key: key.clone(),
                uuid: artifact.dataset_uuid.clone(),
                spec: row.try_get("dataset_spec")?,
                created_at: row.try_get("dataset_created_at")?,
            };
            Ok((dataset, artifact))
        };
        let (dataset, artifact) = read().context("find an artifact by tag")?;
        let mut artifacts = vec![artifact];
        self.load_artifact_details(&dataset.uuid, &mut artifacts)
            .await?;
        Ok(artifacts.pop().map(|artifact| (dataset, artifact)))
    }

    /// The artifact `artifact_id`, in the dataset `dataset_uuid` or, without
    /// one, in whichever dataset has it.
    #[tracing::instrument(skip_all, fields(artifact = artifact_id))]
    pub async fn find_artifact_by_id(
        &self,
        dataset_uuid: Option<&str>,
        artifact_id: &str,
    ) -> Result<Option<ArtifactRecord>, StoreError> {
        let _timer = time_repository_call!("artifact", "get");
        let (sql, binds) = statements::artifact_by_id(dataset_uuid, artifact_id);
        let row = bind_values(sqlx::query(&sql), &binds)
            .fetch_optional(&self.pool)
            .await
            .context("find an artifact")?;
        let Some(artifact) = row
            .as_ref()
            .map(artifact_from_row)
            .transpose()
            .context("find an artifact")?
        else {
            return Ok(None);
        };
        let dataset_uuid = artifact.dataset_uuid.clone();
        let mut artifacts = vec![artifact];
        self.load_artifact_details(&dataset_uuid, &mut artifacts)
            .await?;
        Ok(artifacts.pop())
    }

    /// One page of the artifacts of the dataset `dataset_uuid`.
    #[tracing::instrument(skip_all)]
    pub async fn list_artifacts(
        &self,
        dataset_uuid: &str,
        query: &ArtifactListQuery,
    ) -> Result<Vec<ArtifactRecord>, StoreError> {
        let _timer = time_repository_call!("artifact", "list");
        let (sql, binds) = statements::list_artifacts(dataset_uuid, query);
        let rows = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list artifacts")?;
        let mut artifacts = rows
            .iter()
            .map(artifact_from_row)
            .collect::<Result<Vec<_>, _>>()
            .context("list artifacts")?;
        self.load_artifact_details(dataset_uuid, &mut artifacts)
            .await?;
        Ok(artifacts)
    }

    /// Fills in the outputs, partitions and tags of `artifacts`, all of the
    /// dataset `dataset_uuid`: three queries, whatever their number.
    async fn load_artifact_details(
        &self,
        dataset_uuid: &str,
        artifacts: &mut [ArtifactRecord],
    ) -> Result<(), StoreError> {
        if artifacts.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = artifacts
            .iter()
            .map(|artifact| artifact.artifact_id.clone())
            .collect();
        let index: HashMap<String, usize> = ids
            .iter()
            .enumerate()
            .map(|(position, id)| (id.clone(), position))
            .collect();
        let fetch = |table, columns, order| {
            let (sql, binds) =
                statements::artifact_details(table, columns, order, dataset_uuid, &ids);
            let pool = self.pool.clone();
            async move {
                bind_values(sqlx::query(&sql), &binds)
                    .fetch_all(&pool)
                    .await
                    .context("read an artifact's details")
            }
        };
        let (data, partitions, tags) = futures::try_join!(
            fetch(
                "catalog_artifact_data",
                "artifact_id, name, location",
                "artifact_id, position"
            ),
            fetch(
                "catalog_partitions",
                "artifact_id, partition_key, partition_value",
                "artifact_id, position"
            ),
            fetch(
                "catalog_tags",
                "artifact_id, tag_name",
                "artifact_id, tag_name"
            ),
        )?;
        let owner = |row: &AnyRow| -> Result<Option<usize>, StoreError> {
            let artifact_id: String = row
                .try_get("artifact_id")
                .context("read an artifact's details")?;
            Ok(index.get(&artifact_id).copied())
        };
        for row in &data {
            if let Some(position) = owner(row)? {
                artifacts[position].data.push(ArtifactDataRecord {
                    name: row.try_get("name").context("read an artifact's data")?,
                    location: row.try_get("location").context("read an artifact's data")?,
                });
            }
        }
        for row in &partitions {
            if let Some(position) = owner(row)? {
                artifacts[position].partitions.push((
                    row.try_get("partition_key")
                        .context("read an artifact's partitions")?,
                    row.try_get("partition_value")
                        .context("read an artifact's partitions")?,
                ));
            }
        }
        for row in &tags {
            if let Some(position) = owner(row)? {
                artifacts[position]
                    .tags
                    .push(row.try_get("tag_name").context("read an artifact's tags")?);
            }
        }
        Ok(())
    }

    /// Replaces an artifact's metadata and outputs; answers the locations of
    /// outputs it no longer has (for the caller to delete), or `None` when
    /// there is no such artifact.
    #[tracing::instrument(skip_all, fields(artifact = artifact_id))]
    pub async fn update_artifact(
        &self,
        dataset_uuid: &str,
        artifact_id: &str,
        metadata: &[u8],
        source: &SourceExecution,
        data: &[ArtifactDataRecord],
        now: i64,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let _timer = time_repository_call!("artifact", "update");
        let mut transaction = self
            .pool
            .begin()
            .await
            .context("begin updating an artifact")?;
        let updated = sqlx::query(
            "UPDATE catalog_artifacts SET metadata = $1, source_execution_project = $2, \
             source_execution_domain = $3, source_execution_name = $4, updated_at = $5 \
             WHERE dataset_uuid = $6 AND artifact_id = $7",
        )
        .bind(metadata)
        .bind(&source.project)
        .bind(&source.domain)
        .bind(&source.name)
        .bind(now)
        .bind(dataset_uuid)
        .bind(artifact_id)
        .execute(&mut *transaction)
        .await
        .context("update an artifact")?;
        if updated.rows_affected() == 0 {
            transaction
                .rollback()
                .await
                .context("roll back an artifact update")?;
            return Ok(None);
        }
        let previous: Vec<String> = sqlx::query(
            "SELECT location FROM catalog_artifact_data WHERE dataset_uuid = $1 AND artifact_id = $2",
        )
        .bind(dataset_uuid)
        .bind(artifact_id)
        .fetch_all(&mut *transaction)
        .await
        .context("read an artifact's data locations")?
        .iter()
        .map(|row| row.try_get("location"))
        .collect::<Result<_, _>>()
        .context("read an artifact's data locations")?;
        sqlx::query(
            "DELETE FROM catalog_artifact_data WHERE dataset_uuid = $1 AND artifact_id = $2",
        )
        .bind(dataset_uuid)
        .bind(artifact_id)
        .execute(&mut *transaction)
        .await
        .context("replace an artifact's data")?;
        insert_artifact_data(&mut transaction, dataset_uuid, artifact_id, data).await?;
        transaction
            .commit()
            .await
            .context("commit an artifact update")?;
        Ok(Some(
            previous
                .into_iter()
                .filter(|location| !data.iter().any(|output| &output.location == location))
                .collect(),
        ))
    }

    /// Deletes the artifacts `artifact_ids` of the dataset `dataset_uuid`
    /// with their tags, partitions and data rows, in one transaction;
    /// answers the data locations they had, for the caller to delete.
    #[tracing::instrument(skip_all, fields(artifacts = artifact_ids.len()))]
    pub async fn delete_artifacts(
        &self,
        dataset_uuid: &str,
        artifact_ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let _timer = time_repository_call!("artifact", "delete");
        if artifact_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut transaction = self
            .pool
            .begin()
            .await
            .context("begin deleting artifacts")?;
        let (sql, binds) = statements::artifact_details(
            "catalog_artifact_data",
            "location",
            "location",
            dataset_uuid,
            artifact_ids,
        );
        let locations: Vec<String> = bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&mut *transaction)
            .await
            .context("read the data locations of artifacts")?
            .iter()
            .map(|row| row.try_get("location"))
            .collect::<Result<_, _>>()
            .context("read the data locations of artifacts")?;
        for table in [
            "catalog_tags",
            "catalog_partitions",
            "catalog_artifact_data",
            "catalog_artifacts",
        ] {
            // The same key prefix as the detail reads, so each delete is
            // served by the index they use.
            let (condition, binds) = statements::artifacts_in(dataset_uuid, artifact_ids);
            bind_values(
                sqlx::query(&format!("DELETE FROM {table} WHERE {condition}")),
                &binds,
            )
            .execute(&mut *transaction)
            .await
            .context("delete artifacts")?;
        }
        transaction
            .commit()
            .await
            .context("commit deleting artifacts")?;
        Ok(locations)
    }

    /// The artifacts (dataset UUID, artifact id) the execution produced.
    #[tracing::instrument(skip_all, fields(execution = name))]
    pub async fn artifacts_of_execution(
        &self,
        project: &str,
        domain: &str,
        name: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let _timer = time_repository_call!("artifact", "list");
        let (sql, binds) = statements::artifacts_of_execution(project, domain, name);
        bind_values(sqlx::query(&sql), &binds)
            .fetch_all(&self.pool)
            .await
            .context("list the artifacts of an execution")?
            .iter()
            .map(|row| Ok((row.try_get("dataset_uuid")?, row.try_get("artifact_id")?)))
            .collect::<Result<_, sqlx::Error>>()
            .context("list the artifacts of an execution")
    }

    /// The dataset of an artifact read by id alone.
    pub async fn dataset_of(
        &self,
        artifact: &ArtifactRecord,
    ) -> Result<Option<DatasetRecord>, StoreError> {
        self.get_dataset_by_uuid(&artifact.dataset_uuid).await
    }
}

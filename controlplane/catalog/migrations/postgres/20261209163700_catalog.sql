-- DataCatalog's tables, keyed as datacatalog keys them (datasets by project,
-- name, domain and version; artifacts, tags and partitions within a dataset;
-- reservations by dataset and tag), in the database admin uses. Timestamps
-- are microseconds since the Unix epoch.

CREATE TABLE catalog_datasets (
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    domain TEXT NOT NULL,
    version TEXT NOT NULL,
    uuid TEXT NOT NULL,
    -- The `datacatalog.Dataset` as created, without its id: metadata and
    -- partition keys.
    spec BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project, name, domain, version),
    UNIQUE (uuid)
);
-- ListDatasets filters on any one property and pages newest first.
CREATE INDEX catalog_datasets_by_creation ON catalog_datasets (created_at);
CREATE INDEX catalog_datasets_by_name ON catalog_datasets (name, created_at);
CREATE INDEX catalog_datasets_by_domain ON catalog_datasets (domain, created_at);
CREATE INDEX catalog_datasets_by_version ON catalog_datasets (version, created_at);

CREATE TABLE catalog_artifacts (
    dataset_uuid TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    -- The artifact's `datacatalog.Metadata`.
    metadata BYTEA NOT NULL,
    -- The execution that produced it, from its metadata, for eviction.
    source_execution_project TEXT NOT NULL,
    source_execution_domain TEXT NOT NULL,
    source_execution_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (dataset_uuid, artifact_id)
);
CREATE INDEX catalog_artifacts_by_creation ON catalog_artifacts (dataset_uuid, created_at, artifact_id);
-- GetArtifact by id may leave the dataset out.
CREATE INDEX catalog_artifacts_by_id ON catalog_artifacts (artifact_id);
CREATE INDEX catalog_artifacts_by_source_execution
    ON catalog_artifacts (source_execution_project, source_execution_domain, source_execution_name);

-- Where each output of an artifact is kept in the object store.
CREATE TABLE catalog_artifact_data (
    dataset_uuid TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    location TEXT NOT NULL,
    PRIMARY KEY (dataset_uuid, artifact_id, name)
);

CREATE TABLE catalog_partitions (
    dataset_uuid TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    partition_value TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (dataset_uuid, artifact_id, partition_key)
);

CREATE TABLE catalog_tags (
    dataset_uuid TEXT NOT NULL,
    tag_name TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (dataset_uuid, tag_name)
);
CREATE INDEX catalog_tags_by_artifact ON catalog_tags (dataset_uuid, artifact_id);

CREATE TABLE catalog_reservations (
    dataset_project TEXT NOT NULL,
    dataset_name TEXT NOT NULL,
    dataset_domain TEXT NOT NULL,
    dataset_version TEXT NOT NULL,
    tag_name TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (dataset_project, dataset_name, dataset_domain, dataset_version, tag_name)
);

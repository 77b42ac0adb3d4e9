-- Descriptions (docstrings, source links) flytekit sends inside task and
-- workflow specs, one per registered version that carries one.
-- migrations/sqlite holds the same with BLOB for BYTEA.

CREATE TABLE description_entities (
    resource_type     BIGINT NOT NULL,
    project           TEXT   NOT NULL,
    domain            TEXT   NOT NULL,
    name              TEXT   NOT NULL,
    version           TEXT   NOT NULL,
    short_description TEXT   NOT NULL,
    -- The encoded admin.DescriptionEntity, as the client sent it.
    entity            BYTEA  NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (resource_type, project, domain, name, version)
);
CREATE INDEX description_entities_by_name_created_at ON description_entities (resource_type, project, domain, name, created_at);
CREATE INDEX description_entities_by_scope_created_at ON description_entities (resource_type, project, domain, created_at);

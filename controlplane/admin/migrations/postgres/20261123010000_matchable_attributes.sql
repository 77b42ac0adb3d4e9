-- Matchable attributes (task resources, execution queues, workflow execution
-- config, …) set for a project, a project and domain, or one workflow. The
-- empty string stands for "any" in domain, workflow and launch_plan, so every
-- level shares one key. migrations/sqlite holds the same with BLOB for BYTEA.

CREATE TABLE matchable_attributes (
    resource_type BIGINT NOT NULL,
    project       TEXT   NOT NULL,
    domain        TEXT   NOT NULL,
    workflow      TEXT   NOT NULL,
    launch_plan   TEXT   NOT NULL,
    -- The encoded admin.MatchingAttributes.
    attributes    BYTEA  NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (resource_type, project, domain, workflow, launch_plan)
);

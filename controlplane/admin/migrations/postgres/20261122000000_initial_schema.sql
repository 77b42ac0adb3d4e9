-- The admin's schema. migrations/sqlite holds the same tables with BLOB for
-- BYTEA; keep the two in step. Timestamps are microseconds since the Unix epoch,
-- protobuf payloads are stored as sent so fields this build does not know survive.

CREATE TABLE projects (
    id          TEXT   NOT NULL PRIMARY KEY,
    name        TEXT   NOT NULL,
    description TEXT   NOT NULL,
    labels      BYTEA   NOT NULL,
    state       BIGINT NOT NULL,
    org         TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX projects_by_created_at ON projects (created_at);
CREATE INDEX projects_by_state ON projects (state, created_at);
CREATE INDEX projects_by_name ON projects (name);

CREATE TABLE tasks (
    project           TEXT   NOT NULL,
    domain            TEXT   NOT NULL,
    name              TEXT   NOT NULL,
    version           TEXT   NOT NULL,
    task_type         TEXT   NOT NULL,
    spec              BYTEA   NOT NULL,
    digest            TEXT   NOT NULL,
    short_description TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (project, domain, name, version)
);
CREATE INDEX tasks_by_name_created_at ON tasks (project, domain, name, created_at);
CREATE INDEX tasks_by_scope_created_at ON tasks (project, domain, created_at);

CREATE TABLE workflows (
    project           TEXT   NOT NULL,
    domain            TEXT   NOT NULL,
    name              TEXT   NOT NULL,
    version           TEXT   NOT NULL,
    spec              BYTEA   NOT NULL,
    closure           BYTEA   NOT NULL,
    digest            TEXT   NOT NULL,
    short_description TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (project, domain, name, version)
);
CREATE INDEX workflows_by_name_created_at ON workflows (project, domain, name, created_at);
CREATE INDEX workflows_by_scope_created_at ON workflows (project, domain, created_at);

CREATE TABLE launch_plans (
    project          TEXT   NOT NULL,
    domain           TEXT   NOT NULL,
    name             TEXT   NOT NULL,
    version          TEXT   NOT NULL,
    workflow_project TEXT   NOT NULL,
    workflow_domain  TEXT   NOT NULL,
    workflow_name    TEXT   NOT NULL,
    workflow_version TEXT   NOT NULL,
    spec             BYTEA   NOT NULL,
    closure          BYTEA   NOT NULL,
    digest           TEXT   NOT NULL,
    state            BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (project, domain, name, version)
);
CREATE INDEX launch_plans_by_name_created_at ON launch_plans (project, domain, name, created_at);
CREATE INDEX launch_plans_by_scope_created_at ON launch_plans (project, domain, created_at);
CREATE INDEX launch_plans_by_state ON launch_plans (project, domain, state, name);
CREATE INDEX launch_plans_by_workflow ON launch_plans (workflow_project, workflow_domain, workflow_name, created_at);

CREATE TABLE named_entities (
    resource_type BIGINT NOT NULL,
    project       TEXT   NOT NULL,
    domain        TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    description   TEXT   NOT NULL,
    state         BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (resource_type, project, domain, name)
);
CREATE INDEX named_entities_by_created_at ON named_entities (resource_type, project, domain, created_at);
CREATE INDEX named_entities_by_state ON named_entities (resource_type, project, domain, state, name);

CREATE TABLE executions (
    project              TEXT   NOT NULL,
    domain               TEXT   NOT NULL,
    name                 TEXT   NOT NULL,
    launch_plan_project  TEXT   NOT NULL,
    launch_plan_domain   TEXT   NOT NULL,
    launch_plan_name     TEXT   NOT NULL,
    launch_plan_version  TEXT   NOT NULL,
    workflow_project     TEXT   NOT NULL,
    workflow_domain      TEXT   NOT NULL,
    workflow_name        TEXT   NOT NULL,
    workflow_version     TEXT   NOT NULL,
    phase                BIGINT NOT NULL,
    mode                 BIGINT NOT NULL,
    principal            TEXT   NOT NULL,
    state                BIGINT NOT NULL,
    spec                 BYTEA   NOT NULL,
    closure              BYTEA   NOT NULL,
    inputs_uri           TEXT   NOT NULL,
    user_inputs_uri      TEXT   NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    started_at           BIGINT,
    -- The propeller that took the execution and until when its lease holds;
    -- NULL while the execution waits in the queue.
    claimed_by           TEXT,
    claim_expires_at     BIGINT,
    PRIMARY KEY (project, domain, name)
);
CREATE INDEX executions_by_scope_created_at ON executions (project, domain, created_at);
CREATE INDEX executions_by_phase ON executions (project, domain, phase, created_at);
CREATE INDEX executions_by_state ON executions (project, domain, state, created_at);
CREATE INDEX executions_by_launch_plan ON executions (launch_plan_project, launch_plan_domain, launch_plan_name, created_at);
CREATE INDEX executions_by_workflow ON executions (workflow_project, workflow_domain, workflow_name, created_at);
CREATE INDEX executions_queue ON executions (phase, claim_expires_at, created_at);

-- What propeller reports while executions run: node and task executions, and
-- the lease counter that fences a propeller whose claim was taken over.
-- migrations/sqlite holds the same with BLOB for BYTEA.

ALTER TABLE executions ADD COLUMN claim_count BIGINT NOT NULL DEFAULT 0;

-- Executions a propeller may claim: not terminal. The predicate must match the
-- claim query's so both databases use this small index instead of a scan.
CREATE INDEX executions_claimable ON executions (created_at) WHERE phase IN (0, 1, 2, 3, 5, 9);

CREATE TABLE node_executions (
    project        TEXT   NOT NULL,
    domain         TEXT   NOT NULL,
    execution_name TEXT   NOT NULL,
    node_id        TEXT   NOT NULL,
    phase          BIGINT NOT NULL,
    input_uri      TEXT   NOT NULL,
    closure        BYTEA  NOT NULL,
    metadata       BYTEA  NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (project, domain, execution_name, node_id)
);
CREATE INDEX node_executions_by_execution ON node_executions (project, domain, execution_name, created_at);
CREATE INDEX node_executions_by_phase ON node_executions (project, domain, execution_name, phase);

CREATE TABLE task_executions (
    project        TEXT   NOT NULL,
    domain         TEXT   NOT NULL,
    execution_name TEXT   NOT NULL,
    node_id        TEXT   NOT NULL,
    task_project   TEXT   NOT NULL,
    task_domain    TEXT   NOT NULL,
    task_name      TEXT   NOT NULL,
    task_version   TEXT   NOT NULL,
    retry_attempt  BIGINT NOT NULL,
    phase          BIGINT NOT NULL,
    phase_version  BIGINT NOT NULL,
    input_uri      TEXT   NOT NULL,
    closure        BYTEA  NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (project, domain, execution_name, node_id, task_project, task_domain, task_name, task_version, retry_attempt)
);
CREATE INDEX task_executions_by_node ON task_executions (project, domain, execution_name, node_id, created_at);

-- Signals of gate nodes: created (without a value) when a workflow first waits
-- on one, set later by a person or flytekit. migrations/sqlite holds the same with
-- BLOB for BYTEA.

CREATE TABLE signals (
    execution_project TEXT   NOT NULL,
    execution_domain  TEXT   NOT NULL,
    execution_name    TEXT   NOT NULL,
    signal_id         TEXT   NOT NULL,
    -- The encoded core.LiteralType every value must match.
    literal_type      BYTEA  NOT NULL,
    -- The encoded core.Literal; NULL until the signal is set.
    value             BYTEA,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (execution_project, execution_domain, execution_name, signal_id)
);
CREATE INDEX signals_by_execution_created_at ON signals (execution_project, execution_domain, execution_name, created_at);

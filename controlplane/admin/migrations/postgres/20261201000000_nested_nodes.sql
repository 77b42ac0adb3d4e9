-- Nodes nested under a parent node (subworkflow, branch and dynamic children)
-- name it here; top-level nodes have ''. A dynamic node's generated workflow is
-- kept as an encoded `event.DynamicWorkflowNodeMetadata` (empty when none).
ALTER TABLE node_executions ADD COLUMN parent_node_id TEXT NOT NULL DEFAULT '';
ALTER TABLE node_executions ADD COLUMN dynamic_workflow BYTEA NOT NULL DEFAULT ''::bytea;
CREATE INDEX node_executions_by_parent ON node_executions (project, domain, execution_name, parent_node_id, created_at, node_id);

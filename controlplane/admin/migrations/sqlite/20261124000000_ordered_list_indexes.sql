-- Indexes that serve list pages in their order. A list sorts by the requested
-- column and then by the key (so pages are stable); an index that ends with
-- the same columns lets the database read one page and stop, instead of
-- sorting every matching row. Listing executions always constrains `state`
-- (archived ones are hidden unless asked for), so it leads those indexes.
-- Same statements in migrations/sqlite and migrations/postgres.

DROP INDEX executions_by_state;
CREATE INDEX executions_by_state ON executions (project, domain, state, created_at, name);
DROP INDEX executions_by_phase;
CREATE INDEX executions_by_phase ON executions (project, domain, state, phase, created_at, name);
-- The console's executions of one workflow or launch plan.
CREATE INDEX executions_by_scope_workflow ON executions (project, domain, state, workflow_name, created_at, name);
CREATE INDEX executions_by_scope_launch_plan ON executions (project, domain, state, launch_plan_name, created_at, name);

DROP INDEX node_executions_by_execution;
CREATE INDEX node_executions_by_execution ON node_executions (project, domain, execution_name, created_at, node_id);
CREATE INDEX task_executions_by_attempt ON task_executions (project, domain, execution_name, node_id, retry_attempt);
DROP INDEX signals_by_execution_created_at;
CREATE INDEX signals_by_execution_created_at ON signals (execution_project, execution_domain, execution_name, created_at, signal_id);

DROP INDEX tasks_by_name_created_at;
CREATE INDEX tasks_by_name_created_at ON tasks (project, domain, name, created_at, version);
DROP INDEX tasks_by_scope_created_at;
CREATE INDEX tasks_by_scope_created_at ON tasks (project, domain, created_at, name, version);
DROP INDEX workflows_by_name_created_at;
CREATE INDEX workflows_by_name_created_at ON workflows (project, domain, name, created_at, version);
DROP INDEX workflows_by_scope_created_at;
CREATE INDEX workflows_by_scope_created_at ON workflows (project, domain, created_at, name, version);
DROP INDEX launch_plans_by_name_created_at;
CREATE INDEX launch_plans_by_name_created_at ON launch_plans (project, domain, name, created_at, version);
DROP INDEX launch_plans_by_scope_created_at;
CREATE INDEX launch_plans_by_scope_created_at ON launch_plans (project, domain, created_at, name, version);
DROP INDEX description_entities_by_name_created_at;
CREATE INDEX description_entities_by_name_created_at ON description_entities (resource_type, project, domain, name, created_at, version);
DROP INDEX description_entities_by_scope_created_at;
CREATE INDEX description_entities_by_scope_created_at ON description_entities (resource_type, project, domain, created_at, name, version);

DROP INDEX projects_by_created_at;
CREATE INDEX projects_by_created_at ON projects (created_at, id);
DROP INDEX projects_by_name;
CREATE INDEX projects_by_name ON projects (name, id);

-- How long a finished execution ran (microseconds), so lists filter and sort
-- by duration as flyteadmin's do; NULL until the execution ends.
ALTER TABLE executions ADD COLUMN duration_micros BIGINT;
CREATE INDEX executions_by_duration ON executions (project, domain, duration_micros);

-- Lists sorted by duration read archived-or-not rows in order, as the other
-- execution lists do: without `state` and the `name` tie-break, SQLite sorted
-- them in a temporary table after reading.
DROP INDEX executions_by_duration;
CREATE INDEX executions_by_duration ON executions (project, domain, state, duration_micros, name);

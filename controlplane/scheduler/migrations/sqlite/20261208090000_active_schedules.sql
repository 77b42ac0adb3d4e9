-- One row per launch plan version whose schedule is on: admin writes it in
-- the transaction that activates the launch plan and deletes it in the one
-- that deactivates it; the scheduler reads the rows and records, per row,
-- the last scheduled time it launched, so a restart resumes from there.
-- Times are microseconds since the Unix epoch.
CREATE TABLE active_schedules (
    project TEXT NOT NULL,
    domain TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    -- Exactly one of the two is set: a cron expression, or a fixed rate.
    cron_expression TEXT NOT NULL DEFAULT '',
    fixed_rate_value BIGINT NOT NULL DEFAULT 0,
    fixed_rate_unit INTEGER NOT NULL DEFAULT 0,
    kickoff_time_input_arg TEXT NOT NULL DEFAULT '',
    activated_at BIGINT NOT NULL,
    last_fired_at BIGINT,
    PRIMARY KEY (project, domain, name, version)
);

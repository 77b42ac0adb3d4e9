-- One row, bumped in every transaction that turns a schedule on or off, so a
-- scheduler in another process notices a change by reading one number
-- instead of every schedule.
CREATE TABLE schedule_changes (
    id INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO schedule_changes (id, version) VALUES (1, 0);

-- The scheduler that leads: only it launches. It renews its row well before
-- `expires_at` (microseconds since the Unix epoch); another takes the row
-- over once that time has passed.
CREATE TABLE scheduler_leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- A cron schedule's offset as written (an ISO-8601 duration, empty for
-- none); applied only by a scheduler told to honour offsets.
ALTER TABLE active_schedules ADD COLUMN cron_offset TEXT NOT NULL DEFAULT '';

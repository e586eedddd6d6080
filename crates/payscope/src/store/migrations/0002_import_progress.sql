-- The import's bookkeeping beyond ranges: per-resource state (readable or not, completeness check), per-day counts
-- of what Stripe listed (checked against what was stored), and how far into a range its cursor got.

ALTER TABLE import_ranges ADD COLUMN cursor_created BIGINT;

CREATE TABLE import_resources (
    job_id         TEXT NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
    account_id     TEXT NOT NULL,
    resource       TEXT NOT NULL,
    state          TEXT NOT NULL,
    reason         TEXT,
    range_start    BIGINT NOT NULL,
    range_end      BIGINT NOT NULL,
    check_outcome  TEXT,
    check_detail   TEXT,
    checked_at     BIGINT,
    PRIMARY KEY (job_id, resource)
);

CREATE TABLE import_day_counts (
    job_id    TEXT NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
    resource  TEXT NOT NULL,
    day       BIGINT NOT NULL,
    listed    BIGINT NOT NULL,
    PRIMARY KEY (job_id, resource, day)
);

-- The run history: one row per command that left a run report, its report as a VARIANT, so
-- freshness checks and dashboards read it with SQL and need no access to the stage. Created by
-- `init`; never replaced.
-- Placeholders: {{table}} (qualified).
CREATE TABLE IF NOT EXISTS {{table}} (
  "RUN_ID" VARCHAR NOT NULL,
  "PIPELINE" VARCHAR,
  "COMMAND" VARCHAR,
  "STARTED_AT" TIMESTAMP_TZ,
  "FINISHED_AT" TIMESTAMP_TZ,
  "OUTCOME" VARCHAR,
  "EXIT_CODE" NUMBER(3,0),
  "REPORT" VARIANT,
  "LOADED_AT" TIMESTAMP_TZ
);

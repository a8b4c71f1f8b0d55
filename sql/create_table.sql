-- An object's target table: one row per record (its key: RECORDNO unless the pipeline sets another), merged from staging, soft-deleted
-- rows kept with _DELETED = TRUE. Columns come from the batch schema persisted on the stage.
-- IF NOT EXISTS, never OR REPLACE: re-running `init` (even between a crash and its resume)
-- never loses data.
-- Placeholders: {{table}} (qualified), {{columns}} (name and type per column).
CREATE TABLE IF NOT EXISTS {{table}} (
  {{columns}}
);

-- An object's target table: one row per record (its key: RECORDNO unless the pipeline sets another), merged from staging, soft-deleted
-- rows kept with _DELETED = TRUE. Columns come from the batch schema persisted on the stage.
-- IF NOT EXISTS, never OR REPLACE: re-running `init` (even between a crash and its resume)
-- never loses data.
-- Template forms (src/loader/sql.rs): {{#each columns ",\n  "}}...{{/each}} repeats per column,
-- one column a line.
-- Placeholders: {{table}} (qualified), {{columns}} (items: {{column}} and its {{column_type}}).
CREATE TABLE IF NOT EXISTS {{table}} (
  {{#each columns ",\n  "}}{{column}} {{column_type}}{{/each}}
);

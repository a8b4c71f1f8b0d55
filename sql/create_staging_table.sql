-- An object's staging table: COPY loads a batch's Parquet parts here, MERGE reads them by
-- _BATCH_ID, and DELETE ... WHERE _BATCH_ID removes them. TRANSIENT: reloadable data needs no
-- fail-safe copy. Persistent (never TRUNCATE, never re-created): its COPY load metadata is what
-- stops a file from loading twice.
-- Template forms (src/loader/sql.rs): {{#each columns ",\n  "}}...{{/each}} repeats per column,
-- one column a line.
-- Placeholders: {{table}} (qualified), {{columns}} (items: {{column}} and its {{column_type}}).
CREATE TRANSIENT TABLE IF NOT EXISTS {{table}} (
  {{#each columns ",\n  "}}{{column}} {{column_type}}{{/each}}
);

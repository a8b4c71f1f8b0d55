-- An object's staging table: COPY loads a batch's Parquet parts here, MERGE reads them by
-- _BATCH_ID, and DELETE ... WHERE _BATCH_ID removes them. TRANSIENT: reloadable data needs no
-- fail-safe copy. Persistent (never TRUNCATE, never re-created): its COPY load metadata is what
-- stops a file from loading twice.
-- Placeholders: {{table}} (qualified), {{columns}}.
CREATE TRANSIENT TABLE IF NOT EXISTS {{table}} (
  {{columns}}
);

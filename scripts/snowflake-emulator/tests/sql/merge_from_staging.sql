-- Merges one batch from an object's staging table into its target table. Run per batch by the
-- loader after COPY; safe to repeat.
-- QUALIFY keeps one source row per key (the newest WHENMODIFIED): Snowflake fails a MERGE whose
-- source holds a key twice (100090, Duplicate row detected during DML action).
-- The `s.WHENMODIFIED > t.WHENMODIFIED` guard makes a replay of an old batch update nothing, so a
-- newer row is never overwritten by an older one.
-- Tombstones (rows of the delete feed: _DELETED = TRUE, WHENMODIFIED = the delete time, every other
-- column NULL) only mark the target row deleted and never null its columns: the first WHEN MATCHED
-- clause takes them before the general one. A delete at the same instant as the last change still
-- wins over a row not yet deleted (a replay of the tombstone then updates nothing), and at equal
-- WHENMODIFIED QUALIFY prefers the tombstone.
-- A tombstone whose key the target lacks is inserted as is, so a replayed older batch cannot bring
-- the record back.
-- The result row and the SQL API `stats` give the inserted and updated counts.
-- Placeholders: {{database}}, {{schema}}, {{target_table}}, {{staging_table}}, {{key_column}}
-- (e.g. RECORDNO), {{batch_id}} (a string literal's content: single quotes doubled),
-- {{update_set}} (e.g. NAME = s.NAME, ...), {{insert_columns}} (e.g. RECORDNO, NAME, ...),
-- {{insert_values}} (e.g. s.RECORDNO, s.NAME, ...).
MERGE INTO {{database}}.{{schema}}.{{target_table}} t
USING (
  SELECT *
  FROM {{database}}.{{schema}}.{{staging_table}}
  WHERE _BATCH_ID = '{{batch_id}}'
  QUALIFY ROW_NUMBER() OVER (PARTITION BY {{key_column}} ORDER BY WHENMODIFIED DESC, _DELETED DESC) = 1
) s
ON t.{{key_column}} = s.{{key_column}}
WHEN MATCHED AND s._DELETED AND (
  s.WHENMODIFIED > t.WHENMODIFIED
  OR (s.WHENMODIFIED = t.WHENMODIFIED AND NOT COALESCE(t._DELETED, FALSE))
) THEN UPDATE SET
  _DELETED = TRUE, WHENMODIFIED = s.WHENMODIFIED, _BATCH_ID = s._BATCH_ID, _EXTRACTED_AT = s._EXTRACTED_AT
WHEN MATCHED AND s.WHENMODIFIED > t.WHENMODIFIED THEN UPDATE SET {{update_set}}
WHEN NOT MATCHED THEN INSERT ({{insert_columns}}) VALUES ({{insert_values}});

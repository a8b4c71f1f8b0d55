-- Merges one batch from an object's staging table into its target table. Run per batch by the
-- loader after COPY; safe to repeat.
-- QUALIFY keeps one source row per key (the newest WHENMODIFIED): Snowflake fails a MERGE whose
-- source holds a key twice (100090, Duplicate row detected during DML action).
-- The `s.WHENMODIFIED > t.WHENMODIFIED` guard makes a replay of an old batch update nothing, so a
-- newer row is never overwritten by an older one.
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
  QUALIFY ROW_NUMBER() OVER (PARTITION BY {{key_column}} ORDER BY WHENMODIFIED DESC) = 1
) s
ON t.{{key_column}} = s.{{key_column}}
WHEN MATCHED AND s.WHENMODIFIED > t.WHENMODIFIED THEN UPDATE SET {{update_set}}
WHEN NOT MATCHED THEN INSERT ({{insert_columns}}) VALUES ({{insert_values}});

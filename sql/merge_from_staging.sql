-- Merges one batch from an object's staging table into its target table. Run per batch by the
-- loader after COPY; safe to repeat and to replay.
-- {{source}} keeps one row per {{key}} (RECORDNO unless the pipeline sets another) (QUALIFY ROW_NUMBER() ... = 1, newest change first,
-- a tombstone before a live row at the same instant): Snowflake fails a MERGE whose source
-- matches a target row twice (100090, Duplicate row detected during DML action). Tombstones that
-- name their record by another column (an ID, or a header's key for line objects) are expanded
-- in {{source}} to every record, in the target or in the batch, that carries that value.
-- The change time is COALESCE(WHENMODIFIED, <creation timestamp>): a record first staged with an
-- empty WHENMODIFIED still takes its later updates and its delete.
-- Updates happen only when the source is newer ({{newer}}): a replayed older batch never
-- overwrites a newer row, and a re-read of the same instant wins only when it was extracted
-- later. Tombstones only mark the target row deleted and never null its columns; a delete at
-- the same instant as the last change still wins over a row not yet deleted.
-- Placeholders: {{target_table}}, {{source}}, {{key}}, {{tombstone_newer}}, {{newer}},
-- {{tombstone_set}}, {{update_set}}, {{insert_columns}}, {{insert_values}}.
MERGE INTO {{target_table}} t
USING (
  {{source}}
) s
ON t.{{key}} = s.{{key}}
WHEN MATCHED AND s."_DELETED" AND ({{tombstone_newer}}) THEN UPDATE SET {{tombstone_set}}
WHEN MATCHED AND NOT s."_DELETED" AND ({{newer}}) THEN UPDATE SET {{update_set}}
WHEN NOT MATCHED THEN INSERT ({{insert_columns}}) VALUES ({{insert_values}});

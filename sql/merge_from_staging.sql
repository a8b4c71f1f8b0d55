-- Merges one batch from an object's staging table into its target table. Run per batch by the
-- loader after COPY; safe to repeat and to replay.
-- The source keeps one row per {{key}} (RECORDNO unless the pipeline sets another) with
-- QUALIFY ROW_NUMBER() ... = 1, newest change first, a tombstone before a live row at the same
-- instant: Snowflake fails a MERGE whose source matches a target row twice (100090, Duplicate
-- row detected during DML action). Tombstones that name their record by another column than
-- the key (an ID, or a header's key for line objects) carry no key: they are expanded to every
-- record, in the target or in the batch, that carries that value.
-- The change time is COALESCE(<watermark field>, <creation timestamp>): a record first staged
-- with an empty WHENMODIFIED still takes its later updates and its delete.
-- Updates happen only when the source is newer: a replayed older batch never overwrites a newer
-- row, and a re-read of the same instant wins only when it was extracted later. Tombstones only
-- mark the target row deleted and never null its columns; a delete at the same instant as the
-- last change still wins over a row not yet deleted.
--
-- Template forms (src/loader/sql.rs): {{x.name}} qualifies identifiers with the alias x;
-- {{#if name}}...{{/if}} is there only when name is true; {{#each name ", "}}...{{/each}} repeats
-- per item; a line ending in \ goes on with the next, so the source is sent as one line.
-- Placeholders: {{target_table}}, {{staging_table}} (qualified); {{batch_id}} (a string
-- literal: the _BATCH_ID the batch's rows carry); {{key}}; {{modified}} (the watermark field);
-- {{columns}} (the batch's columns, in file order); {{change_time}} (the watermark field and the
-- creation timestamp: {{x.change_time}} is COALESCE(x.<watermark field>, x.<creation timestamp>),
-- or x.<watermark field> alone for an object without a creation timestamp); {{update_columns}}
-- (items: {{column}}, every column but the key); {{expand_tombstones}} (true when tombstones
-- name their records by {{delete_key}}, another column than the key) and, only then,
-- {{delete_key}} and {{tombstone_row}} (items, one per column: {{column}} and where a tombstone's
-- value of it comes from: from_keys, the key of a record found by {{delete_key}};
-- from_tombstone, the tombstone itself ({{delete_key}}, the watermark field and the batch
-- columns); marks_deleted, TRUE for _DELETED; unknown, NULL for the rest).
MERGE INTO {{target_table}} t
USING (
  SELECT {{u.columns}} \
  FROM (\
    SELECT {{b.columns}} \
    FROM {{staging_table}} b \
    WHERE b."_BATCH_ID" = {{batch_id}} AND b.{{key}} IS NOT NULL\
{{#if expand_tombstones}} \
    UNION ALL \
    SELECT {{#each tombstone_row ", "}}\
      {{#if from_keys}}k.{{column}}{{/if}}\
      {{#if from_tombstone}}d.{{column}}{{/if}}\
      {{#if marks_deleted}}TRUE{{/if}}\
      {{#if unknown}}NULL{{/if}} AS {{column}}\
    {{/each}} \
    FROM {{staging_table}} d \
    JOIN (\
      SELECT {{key}}, {{delete_key}} FROM {{target_table}} WHERE {{delete_key}} IS NOT NULL \
      UNION \
      SELECT {{key}}, {{delete_key}} FROM {{staging_table}} \
      WHERE "_BATCH_ID" = {{batch_id}} AND {{key}} IS NOT NULL AND {{delete_key}} IS NOT NULL\
    ) k ON k.{{delete_key}} = d.{{delete_key}} \
    WHERE d."_BATCH_ID" = {{batch_id}} AND d.{{key}} IS NULL AND d."_DELETED"\
{{/if}}\
  ) u \
  QUALIFY ROW_NUMBER() OVER (\
    PARTITION BY u.{{key}} \
    ORDER BY {{u.change_time}} DESC NULLS LAST, u."_DELETED" DESC, u."_EXTRACTED_AT" DESC\
  ) = 1
) s
ON t.{{key}} = s.{{key}}
WHEN MATCHED AND s."_DELETED" AND (\
  {{s.change_time}} > {{t.change_time}} OR {{t.change_time}} IS NULL \
  OR ({{s.change_time}} = {{t.change_time}} AND NOT COALESCE(t."_DELETED", FALSE))\
) THEN UPDATE SET \
  "_DELETED" = TRUE, {{modified}} = s.{{modified}}, \
  "_BATCH_ID" = s."_BATCH_ID", "_EXTRACTED_AT" = s."_EXTRACTED_AT"
WHEN MATCHED AND NOT s."_DELETED" AND (\
  {{s.change_time}} > {{t.change_time}} OR {{t.change_time}} IS NULL \
  OR ({{s.change_time}} = {{t.change_time}} \
      AND s."_EXTRACTED_AT" > t."_EXTRACTED_AT" AND NOT COALESCE(t."_DELETED", FALSE))\
) THEN UPDATE SET {{#each update_columns ", "}}{{column}} = s.{{column}}{{/each}}
WHEN NOT MATCHED THEN INSERT ({{columns}}) VALUES ({{s.columns}});

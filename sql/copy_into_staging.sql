-- Loads one batch's Parquet parts into an object's staging table. Run per batch by the loader.
-- FILES lists exactly the manifest's parts (at most 1,000 names per statement), relative to
-- {{object_path}}: stray files on the stage are never loaded. Files already loaded into this table
-- are skipped by Snowflake's load metadata, so a repeated COPY answers one row,
-- status = 'Copy executed with 0 files processed.' Snowflake answers the same for files whose load
-- status is uncertain (staged or last loaded more than 64 days ago), so the loader counts the
-- batch's staging rows afterwards (count_staged_batch.sql). FORCE = TRUE for replays, whose files
-- were loaded before on purpose, and for the copy again after a count that differed.
-- MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE maps the Parquet column names onto the table's columns.
-- Placeholders: {{staging_table}} (qualified), {{stage}} (qualified), {{object_path}} (e.g. VENDOR),
-- {{files}} (a list of string literals: '<batch_id>/part-00001.parquet', ...), {{file_format}} (a
-- literal 'DB.SCHEMA.FORMAT'), {{force}} (a boolean: TRUE or FALSE).
COPY INTO {{staging_table}}
  FROM @{{stage}}/{{object_path}}/
  FILES = ({{files}})
  FILE_FORMAT = (FORMAT_NAME = {{file_format}})
  MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
  ON_ERROR = ABORT_STATEMENT
  FORCE = {{force}};

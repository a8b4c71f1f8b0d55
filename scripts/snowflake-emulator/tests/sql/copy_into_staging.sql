-- Loads one batch's Parquet parts into an object's staging table. Run per batch by the loader.
-- FILES lists exactly the manifest's parts (at most 1,000 names per statement), relative to
-- {{object_path}}: stray files on the stage are never loaded. Files already loaded into this table
-- are skipped by Snowflake's load metadata, so a repeated COPY answers one row,
-- status = 'Copy executed with 0 files processed.'.
-- MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE maps lower-case Parquet names onto upper-case columns.
-- Placeholders: {{database}}, {{schema}}, {{staging_table}}, {{stage}}, {{object_path}} (e.g. vendor),
-- {{files}} (quoted, comma-separated: 'batch-000123/part-00000.parquet', ...), {{file_format}}.
COPY INTO {{database}}.{{schema}}.{{staging_table}}
  FROM @{{database}}.{{schema}}.{{stage}}/{{object_path}}/
  FILES = ({{files}})
  FILE_FORMAT = (FORMAT_NAME = '{{database}}.{{schema}}.{{file_format}}')
  MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
  ON_ERROR = ABORT_STATEMENT;

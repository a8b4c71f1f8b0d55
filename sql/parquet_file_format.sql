-- Parquet file format the loader's COPY INTO names (FILE_FORMAT = (FORMAT_NAME = ...)).
-- One-time DDL, run by `init` against Snowflake (or the local emulator).
-- USE_LOGICAL_TYPE = TRUE: read Parquet logical types (TIMESTAMP(MICROS, UTC), DECIMAL, DATE) as
-- such; without it INT64 timestamps can land as raw integers. BINARY_AS_TEXT = FALSE keeps binary
-- columns binary.
-- Placeholders: {{file_format}} (qualified).
CREATE FILE FORMAT IF NOT EXISTS {{file_format}}
  TYPE = PARQUET
  USE_LOGICAL_TYPE = TRUE
  BINARY_AS_TEXT = FALSE;

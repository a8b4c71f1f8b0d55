-- External stage the extractor's Parquet parts are loaded from. One-time DDL, run by `init`.
-- Production: {{stage_url}} is the S3 prefix (s3://bucket/prefix/) and {{storage_integration}} an
-- integration an account admin created once (and granted USAGE on to the loader's role):
--   CREATE STORAGE INTEGRATION <name> TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3' ENABLED = TRUE
--     STORAGE_AWS_ROLE_ARN = '<role arn>' STORAGE_ALLOWED_LOCATIONS = ('s3://bucket/prefix/');
-- Local emulator and tests: {{stage_url}} is a file:///absolute/dir/ URL (or an s3:// URL read
-- from the emulator's --s3-endpoint); the integration must exist, as in Snowflake: the tests'
-- emulators declare it with --storage-integration.
-- The SQL API cannot PUT files, so an internal stage is not an option: files reach the stage through
-- object storage, never through Snowflake.
-- Placeholders: {{database}}, {{schema}}, {{stage}}, {{stage_url}} (ends with '/'),
-- {{storage_integration}}, {{file_format}}.
CREATE STAGE IF NOT EXISTS {{database}}.{{schema}}.{{stage}}
  URL = '{{stage_url}}'
  STORAGE_INTEGRATION = {{storage_integration}}
  FILE_FORMAT = {{database}}.{{schema}}.{{file_format}};

-- External stage the extractor's Parquet parts are loaded from. One-time DDL, run by `init`.
-- {{stage_url}} is the S3 prefix (s3://bucket/prefix/) and {{storage_integration}} an integration
-- an account admin created once (and granted USAGE on to the loader's role):
--   CREATE STORAGE INTEGRATION <name> TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3' ENABLED = TRUE
--     STORAGE_AWS_ROLE_ARN = '<role arn>' STORAGE_ALLOWED_LOCATIONS = ('s3://bucket/prefix/');
-- The SQL API cannot PUT files, so an internal stage is not an option: files reach the stage through
-- object storage, never through Snowflake.
-- Placeholders: {{stage}} (qualified), {{stage_url}} (a literal ending with '/'),
-- {{storage_integration}}, {{file_format}} (qualified).
CREATE STAGE IF NOT EXISTS {{stage}}
  URL = {{stage_url}}
  STORAGE_INTEGRATION = {{storage_integration}}
  FILE_FORMAT = {{file_format}};

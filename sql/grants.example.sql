-- What an account administrator runs once for the loader: its role and warehouse, the database
-- and schema it loads into, and the storage integration its S3 stage reads through, with the
-- grants the role needs and nothing more. With exactly these, `init` and every load work: the
-- role creates its tables, views, stage and file format in the schema and owns them.
-- Safe to run again (IF NOT EXISTS). The README's Snowflake set-up shows this file; the tests run
-- it as it is.
CREATE ROLE IF NOT EXISTS INTACCT_LOADER;
CREATE WAREHOUSE IF NOT EXISTS LOAD_WH WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60;
GRANT USAGE ON WAREHOUSE LOAD_WH TO ROLE INTACCT_LOADER;
CREATE DATABASE IF NOT EXISTS FINANCE;
CREATE SCHEMA IF NOT EXISTS FINANCE.INTACCT_RAW;
GRANT USAGE ON DATABASE FINANCE TO ROLE INTACCT_LOADER;
GRANT USAGE ON SCHEMA FINANCE.INTACCT_RAW TO ROLE INTACCT_LOADER;
GRANT CREATE TABLE, CREATE VIEW, CREATE STAGE, CREATE FILE FORMAT ON SCHEMA FINANCE.INTACCT_RAW TO ROLE INTACCT_LOADER;
CREATE STORAGE INTEGRATION IF NOT EXISTS INTACCT_S3 TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::<account>:role/<role>'
  STORAGE_ALLOWED_LOCATIONS = ('s3://acme-finance-intacct/stage/');
GRANT USAGE ON INTEGRATION INTACCT_S3 TO ROLE INTACCT_LOADER;

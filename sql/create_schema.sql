-- The pipeline's schema. Sent by `init` only when SHOW SCHEMAS does not list it (Snowflake
-- refuses even IF NOT EXISTS to a role without CREATE SCHEMA on the database, which a loader's
-- role usually lacks: an administrator creates the schema, see sql/grants.example.sql).
CREATE SCHEMA IF NOT EXISTS {{database}}.{{schema}};

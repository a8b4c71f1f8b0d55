-- The pipeline's schema, created when missing (run by `init`; the loader's role needs
-- CREATE SCHEMA on the database, or an administrator creates the schema first).
CREATE SCHEMA IF NOT EXISTS {{database}}.{{schema}};

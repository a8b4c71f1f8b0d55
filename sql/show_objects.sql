-- Whether one object `init` needs exists, before it creates anything: a role that holds only
-- USAGE on the database and schema may not run CREATE DATABASE / CREATE SCHEMA ... IF NOT
-- EXISTS even when the object is there (Snowflake checks the privilege first), so `init` looks
-- and creates only what is missing. SHOW lists only what the role can see. LIKE is
-- case-insensitive and `_` matches any character: the answer is filtered to the exact name.
-- Placeholders: {{objects}} (DATABASES, SCHEMAS, FILE FORMATS, STAGES, TABLES or VIEWS),
-- {{name}} (a string literal); {{scoped}} (a boolean) and, only then, {{scope}} (DATABASE
-- "D" or SCHEMA "D"."S").
SHOW {{objects}} LIKE {{name}}{{#if scoped}} IN {{scope}}{{/if}};

-- The pipeline's database. Sent by `init` only with `[snowflake] create_database = true` (the
-- local emulator) and only when SHOW DATABASES does not list it; an account administrator
-- usually creates the database and grants the loader's role what it needs
-- (sql/grants.example.sql).
CREATE DATABASE IF NOT EXISTS {{database}};

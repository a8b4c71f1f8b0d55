-- The pipeline's database, created when missing. Sent by `init` only with
-- `[snowflake] create_database = true` (the local emulator; an account administrator usually
-- creates the database and grants the loader's role what it needs).
CREATE DATABASE IF NOT EXISTS {{database}};

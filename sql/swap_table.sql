-- `reset`: the rebuilt table takes the live table's place in one statement (Snowflake swaps the
-- two tables' contents and metadata atomically, grants included), so a query reads either the
-- old rows or the new ones, never an empty or missing table.
-- Placeholders: {{table}} (the live table), {{reset_table}} (both qualified).
ALTER TABLE {{table}} SWAP WITH {{reset_table}};

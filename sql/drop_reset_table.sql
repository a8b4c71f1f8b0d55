-- `reset`: after the swap, <OBJECT>__RESET holds the old rows; nothing reads it.
-- Placeholders: {{reset_table}} (qualified).
DROP TABLE IF EXISTS {{reset_table}};

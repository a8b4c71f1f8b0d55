-- A column a newer batch schema has (a new custom field), added before that batch loads.
-- Placeholders: {{table}}, {{column}}, {{column_type}}.
ALTER TABLE {{table}} ADD COLUMN IF NOT EXISTS {{column}} {{column_type}};

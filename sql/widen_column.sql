-- A column widened where Snowflake allows it (NUMBER precision at the same scale, VARCHAR length).
-- Placeholders: {{table}}, {{column}}, {{column_type}}.
ALTER TABLE {{table}} ALTER COLUMN {{column}} SET DATA TYPE {{column_type}};

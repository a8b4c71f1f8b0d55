-- Every column of every table in the pipeline's schema: what schema evolution compares a batch
-- schema with. One query per load, not per batch.
-- Placeholders: {{database}}, {{schema_name}} (a string literal).
SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, CHARACTER_MAXIMUM_LENGTH
FROM {{database}}.INFORMATION_SCHEMA.COLUMNS
WHERE TABLE_SCHEMA = {{schema_name}}
ORDER BY TABLE_NAME, ORDINAL_POSITION;

-- The options of the Parquet file format as Snowflake holds them (one row per property:
-- property, property_type, property_value, property_default), compared by `init` with the
-- options the loader needs (parquet_file_format.sql): CREATE ... IF NOT EXISTS keeps a format
-- someone made before with other options.
-- Placeholders: {{file_format}} (qualified).
DESC FILE FORMAT {{file_format}};

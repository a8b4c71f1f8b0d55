-- The schema the loader's `init` creates, with every name quoted as the loader renders it.
-- Placeholders: {{database}}, {{schema}}.
CREATE SCHEMA IF NOT EXISTS "{{database}}"."{{schema}}";

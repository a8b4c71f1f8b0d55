-- Whether the pipeline's schema exists and the role sees it (an error when the database does
-- not, or the role may not use it). Sent by `check`; `name` of each row is compared exactly,
-- since LIKE's `_` matches any character.
-- Placeholders: {{schema_name}} (a string literal), {{database}}.
SHOW SCHEMAS LIKE {{schema_name}} IN DATABASE {{database}};

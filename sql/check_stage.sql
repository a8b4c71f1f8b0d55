-- Snowflake's listing of the external stage under a path: `check` looks for the probe file it
-- has just written there, which proves Snowflake reads where the tool writes.
-- Placeholders: {{stage}} (qualified), {{path}} (a stage path).
LIST @{{stage}}/{{path}};

-- The role and the warehouse the loader's statements run with (the pipeline's snowflake.role
-- and snowflake.warehouse, else the user's defaults). Sent by `check`; reads nothing.
SELECT CURRENT_ROLE() AS "ROLE", CURRENT_WAREHOUSE() AS "WAREHOUSE";

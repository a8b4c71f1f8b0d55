-- Counts one batch's rows in an object's staging table. Run by the loader after the batch's
-- COPYs and before its MERGE: the MERGE runs only when the staging table holds exactly the rows
-- the manifest lists for the batch's files. A COPY that processed no file proves nothing (its
-- files may have been skipped as of uncertain load status, or the table emptied or re-created
-- since), so the count decides; when it differs, the batch's staging rows are deleted and its
-- files copied again with FORCE = TRUE.
-- Placeholders: {{staging_table}} (qualified), {{batch_id}} (a string literal).
SELECT COUNT(*) AS ROWS_STAGED FROM {{staging_table}} WHERE "_BATCH_ID" = {{batch_id}};

-- Removes one merged batch from an object's staging table. Run by the loader after a successful
-- MERGE. DELETE keeps the table's COPY load metadata (TRUNCATE would erase it and let the batch's
-- files load again).
-- Placeholders: {{staging_table}} (qualified), {{batch_id}} (a string literal).
DELETE FROM {{staging_table}} WHERE "_BATCH_ID" = {{batch_id}};

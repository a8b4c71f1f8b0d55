-- The VENDOR example tables the emulator tests load: the target table and its persistent staging table.
-- Both carry the load columns: _BATCH_ID (the manifest batch a row came from), _EXTRACTED_AT (when
-- the extractor read it) and _DELETED (soft delete, from AUDITHISTORY).
-- The staging table is TRANSIENT (no fail-safe copy needed for reloadable data) and persistent:
-- it is cleaned with DELETE ... WHERE _BATCH_ID = ..., never TRUNCATE, because TRUNCATE erases the
-- COPY load metadata and would let the same files load twice.
-- Timestamps are TIMESTAMP_TZ holding UTC instants (Parquet TIMESTAMP(MICROS, UTC)).
-- Placeholders: {{database}}, {{schema}}.
CREATE TABLE IF NOT EXISTS {{database}}.{{schema}}.VENDOR (
  RECORDNO NUMBER(38,0) NOT NULL,
  VENDORID VARCHAR,
  NAME VARCHAR,
  ZIP VARCHAR,
  TOTALDUE NUMBER(38,2),
  WHENMODIFIED TIMESTAMP_TZ,
  _BATCH_ID VARCHAR,
  _EXTRACTED_AT TIMESTAMP_TZ,
  _DELETED BOOLEAN
);

CREATE TRANSIENT TABLE IF NOT EXISTS {{database}}.{{schema}}.VENDOR_STG (
  RECORDNO NUMBER(38,0),
  VENDORID VARCHAR,
  NAME VARCHAR,
  ZIP VARCHAR,
  TOTALDUE NUMBER(38,2),
  WHENMODIFIED TIMESTAMP_TZ,
  _BATCH_ID VARCHAR,
  _EXTRACTED_AT TIMESTAMP_TZ,
  _DELETED BOOLEAN
);

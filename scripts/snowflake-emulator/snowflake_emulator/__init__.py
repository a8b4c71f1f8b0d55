"""A local Snowflake SQL API v2 endpoint over fakesnow, for tests, benchmarks and the demo.

Modules, each owning one concern (the evidence for each fidelity rule is cited where it lives):

* `__main__`         command line, start-up and shutdown
* `http_front`       routes, request validation, fault injection points, admin endpoints
* `auth`             key-pair JWT and programmatic access token checks
* `statements`       statement lifecycle: handles, requestId history and its window, executor,
                     timeout, cancel
* `statement_text`   splitting a request into statements, statement kinds
* `engine`           per-request fakesnow sessions; running one statement into a result,
                     atomically for COPY and MERGE; TIMEZONE, the warehouse rule, IF NOT EXISTS
* `access_control`   warehouses, roles, storage integrations, grants, the locked-down role
* `clock`            the emulator's clock (wall clock plus an offset tests move forward)
* `copy_statement`   COPY INTO from named stages: which files it names, Snowflake's result shape
* `copy_execution`   running a planned COPY: choosing, fetching and naming files, recording loads
* `load_metadata`    which files each table loaded, with what content, when (the 64-day rule)
* `stage_storage`    stage references; the files behind file:// and s3:// stage URLs; LIST
* `file_formats`     named file formats: DESC, ALTER, what their options do to Parquet COPY
* `object_statements` LIST, DESC/ALTER FILE FORMAT and SHOW ... LIKE answered by the emulator
* `identifiers`      object names written in SQL text (quoted and unquoted parts)
* `merge_statement`  Snowflake's nondeterministic-merge check (100090)
* `aggregates`       exact SUM and AVG of NUMBER
* `fakesnow_patches` the fakesnow transforms the emulator replaces
* `database`         the fakesnow instance, in memory or persisted under --db-path
* `responses`        SQL API v2 response bodies and partitions, as the published spec defines them
* `wire_values`      rowType metadata and value encoding
* `sql_errors`       Snowflake error triples and exception mapping
* `faults`           the fault grammar and which submission gets which fault
* `counters`         what the stats endpoint reports
"""

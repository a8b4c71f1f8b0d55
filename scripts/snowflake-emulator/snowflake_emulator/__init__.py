"""A local Snowflake SQL API v2 endpoint over fakesnow, for tests, benchmarks and the demo.

Modules, each owning one concern:

* `__main__`       command line, start-up and shutdown
* `http_front`     routes, request validation, fault injection points, admin endpoints
* `auth`           key-pair JWT and programmatic access token checks
* `statements`     statement lifecycle: handles, requestId history, executor, timeout, cancel
* `statement_text` splitting a request into statements, statement kinds
* `engine`         per-request fakesnow sessions; running one statement into a result, atomically
                   for COPY and MERGE; TIMEZONE, the warehouse rule, IF NOT EXISTS answers
* `copy_statement` COPY INTO: file listing from file:// stages, FORCE, Snowflake's result shape
* `load_metadata`  which files each table loaded, with what content (skips, TRUNCATE, reloads)
* `merge_statement` Snowflake's nondeterministic-merge check (100090)
* `aggregates`     exact SUM and AVG of NUMBER
* `fakesnow_patches` the fakesnow transforms the emulator replaces
* `database`       the fakesnow instance, in memory or persisted under --db-path
* `responses`      SQL API v2 response bodies and partitions
* `wire_values`    rowType metadata and value encoding
* `sql_errors`     Snowflake error triples and exception mapping
* `faults`         the fault grammar and which submission gets which fault
* `counters`       what the stats endpoint reports
"""

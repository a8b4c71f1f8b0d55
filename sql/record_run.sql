-- Records one command's run report in the run history, once: a MERGE on RUN_ID, so a resend
-- (same requestId, retry=true) or a second attempt for the same run adds no second row.
-- Sent at the end of every command that leaves a run report.
-- Placeholders: {{table}} (qualified), {{run_id}}, {{pipeline}}, {{command}}, {{started_at}},
-- {{finished_at}} (RFC 3339 literals), {{outcome}}, {{exit_code}} (a number), {{report}} (the
-- report's JSON as a literal).
MERGE INTO {{table}} t
USING (SELECT {{run_id}} AS "RUN_ID", {{pipeline}} AS "PIPELINE", {{command}} AS "COMMAND", \
  TO_TIMESTAMP_TZ({{started_at}}) AS "STARTED_AT", TO_TIMESTAMP_TZ({{finished_at}}) AS "FINISHED_AT", \
  {{outcome}} AS "OUTCOME", {{exit_code}} AS "EXIT_CODE", PARSE_JSON({{report}}) AS "REPORT") s
ON t."RUN_ID" = s."RUN_ID"
WHEN NOT MATCHED THEN INSERT ("RUN_ID", "PIPELINE", "COMMAND", "STARTED_AT", "FINISHED_AT", "OUTCOME", "EXIT_CODE", "REPORT", "LOADED_AT") \
  VALUES (s."RUN_ID", s."PIPELINE", s."COMMAND", s."STARTED_AT", s."FINISHED_AT", s."OUTCOME", s."EXIT_CODE", s."REPORT", CURRENT_TIMESTAMP());

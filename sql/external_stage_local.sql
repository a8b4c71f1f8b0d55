-- External stage over a local directory, for the local emulator and tests: {{stage_url}} is a
-- file:///absolute/dir/ URL and no storage integration is involved.
-- Placeholders: {{stage}} (qualified), {{stage_url}} (a literal ending with '/'), {{file_format}}.
CREATE STAGE IF NOT EXISTS {{stage}}
  URL = {{stage_url}}
  FILE_FORMAT = {{file_format}};

-- `reset`: the table an object is rebuilt in, beside its live table (<OBJECT>__RESET), with the
-- columns of the reset batch's schema and every column only the live table has (so the swap
-- drops no column a view or a query reads). OR REPLACE: it holds nothing yet (a reset that
-- stopped before its swap left only its own rows in it); the live table is never touched.
-- Template forms (src/loader/sql.rs): {{#each columns ",\n  "}}...{{/each}} repeats per column.
-- Placeholders: {{table}} (qualified), {{columns}} (items: {{column}} and its {{column_type}}).
CREATE OR REPLACE TABLE {{table}} (
  {{#each columns ",\n  "}}{{column}} {{column_type}}{{/each}}
);

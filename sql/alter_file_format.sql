-- Gives an existing Parquet file format the options the loader needs that it lacks (run by
-- `init` after DESC FILE FORMAT; only the format's owner may alter it).
-- Template forms (src/loader/sql.rs): {{#each options " "}}...{{/each}} repeats per option.
-- Placeholders: {{file_format}} (qualified), {{options}} (items: {{option}} and its {{value}},
-- both fixed text of the loader's).
ALTER FILE FORMAT {{file_format}} SET {{#each options " "}}{{option}} = {{value}}{{/each}};

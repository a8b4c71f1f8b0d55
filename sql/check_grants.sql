-- The privileges granted to a role, and the roles granted to it (rows granted_on = ROLE,
-- whose grants `check` reads in turn): what `check` compares with what `init` and a load need.
-- Placeholders: {{role}}.
SHOW GRANTS TO ROLE {{role}};

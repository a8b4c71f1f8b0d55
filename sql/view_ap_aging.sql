-- AP_AGING: open bills by vendor, as of the current date (in the session's TIMEZONE, which the
-- loader sets to UTC), in buckets of days past the due date: current (not yet due, or no due
-- date), 1-30, 31-60, 61-90, over 90. A bill is open while its TOTALDUE is not zero; deleted
-- bills are excluded. Amounts are the bills' TOTALDUE in base currency, summed exactly (NUMBER).
-- COPY GRANTS: replacing the view keeps the grants it had (an analyst role's SELECT);
-- without it Snowflake drops them with the old view.
-- Placeholders: {{view}}, {{apbill}}.
CREATE OR REPLACE VIEW {{view}} COPY GRANTS AS
SELECT
  b."VENDORID" AS VENDORID,
  MAX(b."VENDORNAME") AS VENDORNAME,
  CURRENT_DATE() AS AS_OF_DATE,
  COUNT(*) AS OPEN_BILLS,
  SUM(b."TOTALDUE") AS TOTAL_DUE,
  SUM(CASE WHEN b."WHENDUE" IS NULL OR b."WHENDUE" >= CURRENT_DATE() THEN b."TOTALDUE" ELSE 0 END) AS CURRENT_DUE,
  SUM(CASE WHEN DATEDIFF('day', b."WHENDUE", CURRENT_DATE()) BETWEEN 1 AND 30 THEN b."TOTALDUE" ELSE 0 END) AS PAST_DUE_1_30,
  SUM(CASE WHEN DATEDIFF('day', b."WHENDUE", CURRENT_DATE()) BETWEEN 31 AND 60 THEN b."TOTALDUE" ELSE 0 END) AS PAST_DUE_31_60,
  SUM(CASE WHEN DATEDIFF('day', b."WHENDUE", CURRENT_DATE()) BETWEEN 61 AND 90 THEN b."TOTALDUE" ELSE 0 END) AS PAST_DUE_61_90,
  SUM(CASE WHEN DATEDIFF('day', b."WHENDUE", CURRENT_DATE()) > 90 THEN b."TOTALDUE" ELSE 0 END) AS PAST_DUE_OVER_90
FROM {{apbill}} b
WHERE NOT COALESCE(b."_DELETED", FALSE)
  AND b."TOTALDUE" <> 0
GROUP BY b."VENDORID";

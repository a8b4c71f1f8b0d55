-- VENDOR_SPEND_MONTHLY: billed amount per vendor per month of the bill's posting date, by GL
-- account and department, through the bill lines (APBILLITEM.RECORDKEY = APBILL.RECORDNO).
-- Account titles and department names come from the GLACCOUNT and DEPARTMENT lookup tables,
-- joined on their IDs. Deleted bills, lines, accounts and departments are excluded.
-- COPY GRANTS: replacing the view keeps the grants it had (an analyst role's SELECT);
-- without it Snowflake drops them with the old view.
-- Placeholders: {{view}}, {{apbill}}, {{apbillitem}}, {{glaccount}}, {{department}}.
CREATE OR REPLACE VIEW {{view}} COPY GRANTS AS
SELECT
  b."VENDORID" AS VENDORID,
  MAX(b."VENDORNAME") AS VENDORNAME,
  CAST(DATE_TRUNC('MONTH', b."WHENPOSTED") AS DATE) AS SPEND_MONTH,
  i."ACCOUNTNO" AS ACCOUNTNO,
  MAX(g."TITLE") AS ACCOUNT_TITLE,
  i."DEPARTMENTID" AS DEPARTMENTID,
  MAX(d."TITLE") AS DEPARTMENT_TITLE,
  COUNT(DISTINCT b."RECORDNO") AS BILLS,
  COUNT(*) AS BILL_LINES,
  SUM(i."AMOUNT") AS BILLED_AMOUNT
FROM {{apbillitem}} i
JOIN {{apbill}} b
  ON b."RECORDNO" = i."RECORDKEY" AND NOT COALESCE(b."_DELETED", FALSE)
LEFT JOIN {{glaccount}} g
  ON g."ACCOUNTNO" = i."ACCOUNTNO" AND NOT COALESCE(g."_DELETED", FALSE)
LEFT JOIN {{department}} d
  ON d."DEPARTMENTID" = i."DEPARTMENTID" AND NOT COALESCE(d."_DELETED", FALSE)
WHERE NOT COALESCE(i."_DELETED", FALSE)
GROUP BY b."VENDORID", CAST(DATE_TRUNC('MONTH', b."WHENPOSTED") AS DATE), i."ACCOUNTNO", i."DEPARTMENTID";

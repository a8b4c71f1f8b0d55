-- AP_PAYMENT_RECONCILIATION: each bill's amount against what payments applied to it
-- (APPYMTDETAIL lines whose RECORDKEY is the bill, of payments not deleted), with the
-- difference BILL_AMOUNT - APPLIED_AMOUNT - APPLIED_DISCOUNT, and Intacct's own TOTALPAID and
-- TOTALDUE beside it for comparison. Deleted bills, payments and payment lines are excluded.
-- COPY GRANTS: replacing the view keeps the grants it had (an analyst role's SELECT);
-- without it Snowflake drops them with the old view.
-- Placeholders: {{view}}, {{apbill}}, {{appymt}}, {{appymtdetail}}.
CREATE OR REPLACE VIEW {{view}} COPY GRANTS AS
SELECT
  b."RECORDNO" AS BILL_RECORDNO,
  b."RECORDID" AS BILL_RECORDID,
  b."VENDORID" AS VENDORID,
  b."WHENPOSTED" AS WHENPOSTED,
  b."TOTALENTERED" AS BILL_AMOUNT,
  COALESCE(a.APPLIED_AMOUNT, 0) AS APPLIED_AMOUNT,
  COALESCE(a.APPLIED_DISCOUNT, 0) AS APPLIED_DISCOUNT,
  COALESCE(a.PAYMENT_LINES, 0) AS PAYMENT_LINES,
  b."TOTALENTERED" - COALESCE(a.APPLIED_AMOUNT, 0) - COALESCE(a.APPLIED_DISCOUNT, 0) AS DIFFERENCE,
  b."TOTALPAID" AS INTACCT_TOTALPAID,
  b."TOTALDUE" AS INTACCT_TOTALDUE
FROM {{apbill}} b
LEFT JOIN (
  SELECT
    l."RECORDKEY" AS RECORDKEY,
    SUM(l."PAYMENTAMOUNT") AS APPLIED_AMOUNT,
    SUM(COALESCE(l."DISCOUNTAMOUNT", 0)) AS APPLIED_DISCOUNT,
    COUNT(*) AS PAYMENT_LINES
  FROM {{appymtdetail}} l
  JOIN {{appymt}} p
    ON p."RECORDNO" = l."PAYMENTKEY" AND NOT COALESCE(p."_DELETED", FALSE)
  WHERE NOT COALESCE(l."_DELETED", FALSE)
  GROUP BY l."RECORDKEY"
) a ON a.RECORDKEY = b."RECORDNO"
WHERE NOT COALESCE(b."_DELETED", FALSE);

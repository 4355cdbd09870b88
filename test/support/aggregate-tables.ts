// Every PostgreSQL table that holds part of a customer aggregate, for "nothing changed" checks.
export const AGGREGATE_TABLES = [
  'customers',
  'business_customers',
  'customer_sources',
  'customer_metrics',
  'customer_demographics',
  'customer_engagement',
  'customer_risk_assessments',
  'customer_addresses',
  'customer_ip_addresses',
  'customer_activities',
] as const;

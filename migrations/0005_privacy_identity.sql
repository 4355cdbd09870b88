CREATE TABLE "bulk_operations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"business_id" uuid NOT NULL,
	"operation" varchar(30) NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"selection" jsonb NOT NULL,
	"requested_by" varchar(255) NOT NULL,
	"reason" text,
	"status" varchar(20) DEFAULT 'running' NOT NULL,
	"matched" integer DEFAULT 0 NOT NULL,
	"changed" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "bulk_operations_status_check" CHECK ("bulk_operations"."status" IN ('running', 'succeeded', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "customer_data_exports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"business_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"export_type" varchar(30) NOT NULL,
	"status" varchar(20) DEFAULT 'PENDING' NOT NULL,
	"requested_by" varchar(255) NOT NULL,
	"request_reason" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_expires_at" timestamp with time zone,
	"last_error" text,
	"storage_key" text,
	"size_bytes" bigint,
	"checksum" varchar(64),
	"expires_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_data_exports_type_check" CHECK ("customer_data_exports"."export_type" IN ('GDPR_FULL', 'GDPR_BASIC', 'BUSINESS_ANALYTICS')),
	CONSTRAINT "customer_data_exports_status_check" CHECK ("customer_data_exports"."status" IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'EXPIRED'))
);
--> statement-breakpoint
CREATE TABLE "customer_erasures" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"business_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"requested_by" varchar(255) NOT NULL,
	"reason" text NOT NULL,
	"status" varchar(20) DEFAULT 'PENDING' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_expires_at" timestamp with time zone,
	"last_error" text,
	"steps" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "customer_erasures_status_check" CHECK ("customer_erasures"."status" IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'))
);
--> statement-breakpoint
CREATE TABLE "customer_import_rejections" (
	"import_id" uuid NOT NULL,
	"row_number" integer NOT NULL,
	"errors" jsonb NOT NULL,
	CONSTRAINT "customer_import_rejections_import_id_row_number_pk" PRIMARY KEY("import_id","row_number")
);
--> statement-breakpoint
CREATE TABLE "customer_imports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"business_id" uuid NOT NULL,
	"requested_by" varchar(255) NOT NULL,
	"file_name" varchar(255),
	"format" varchar(10) NOT NULL,
	"storage_key" text,
	"size_bytes" bigint DEFAULT 0 NOT NULL,
	"status" varchar(20) DEFAULT 'PENDING' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_expires_at" timestamp with time zone,
	"last_error" text,
	"bytes_read" bigint DEFAULT 0 NOT NULL,
	"rows_processed" integer DEFAULT 0 NOT NULL,
	"created" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"rejected" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_imports_status_check" CHECK ("customer_imports"."status" IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
	CONSTRAINT "customer_imports_format_check" CHECK ("customer_imports"."format" IN ('csv', 'xlsx'))
);
--> statement-breakpoint
CREATE TABLE "customer_merges" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"business_id" uuid NOT NULL,
	"survivor_id" uuid NOT NULL,
	"merged_id" uuid NOT NULL,
	"merged_by" varchar(255) NOT NULL,
	"reason" text,
	"snapshot" jsonb NOT NULL,
	"decisions" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"undo_until" timestamp with time zone NOT NULL,
	"undone_at" timestamp with time zone,
	"undone_by" varchar(255)
);
--> statement-breakpoint
DROP INDEX "idx_customers_email_lowercase";--> statement-breakpoint
DROP INDEX "idx_customers_created_at";--> statement-breakpoint
DROP INDEX "idx_customers_updated_at";--> statement-breakpoint
DROP INDEX "idx_customers_last_active";--> statement-breakpoint
DROP INDEX "idx_customer_engagement_email_score";--> statement-breakpoint
DROP INDEX "idx_customer_metrics_total_spent";--> statement-breakpoint
DROP INDEX "idx_customer_metrics_lifetime_value";--> statement-breakpoint
DROP INDEX "idx_customer_metrics_last_order_date";--> statement-breakpoint
DROP INDEX "idx_customer_metrics_churn";--> statement-breakpoint
DROP INDEX "idx_customer_risk_score";--> statement-breakpoint
DROP INDEX "idx_customer_activities_customer";--> statement-breakpoint
DROP INDEX "idx_customer_activities_occurred_at";--> statement-breakpoint
DROP INDEX "idx_customer_ip_addresses_last_seen";--> statement-breakpoint
DROP INDEX "idx_sync_logs_status";--> statement-breakpoint
DROP INDEX "idx_sync_logs_created_at";--> statement-breakpoint
DROP INDEX "idx_reconcile_runs_started";--> statement-breakpoint
DROP INDEX "idx_customer_transactions_customer";--> statement-breakpoint
DROP INDEX "idx_ingest_quarantine_connection";--> statement-breakpoint
DROP INDEX "idx_ingest_runs_business_started";--> statement-breakpoint
DROP INDEX "idx_ingest_runs_connection_started";--> statement-breakpoint
DROP INDEX "idx_memory_interactions_customer";--> statement-breakpoint
DROP INDEX "idx_prediction_runs_business_started";--> statement-breakpoint
DROP INDEX "idx_customer_tier_history_customer";--> statement-breakpoint
DROP INDEX "idx_tier_config_audits_business";--> statement-breakpoint
DROP INDEX "idx_customer_segments_business";--> statement-breakpoint
DROP INDEX "idx_recalculation_runs_business";--> statement-breakpoint
ALTER TABLE "customer_segments" ALTER COLUMN "criteria" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "erased_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "merged_into_id" uuid;--> statement-breakpoint
ALTER TABLE "customer_segments" ADD COLUMN "kind" varchar(10) DEFAULT 'dynamic' NOT NULL;--> statement-breakpoint
ALTER TABLE "bulk_operations" ADD CONSTRAINT "bulk_operations_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_data_exports" ADD CONSTRAINT "customer_data_exports_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_data_exports" ADD CONSTRAINT "customer_data_exports_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_erasures" ADD CONSTRAINT "customer_erasures_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_import_rejections" ADD CONSTRAINT "customer_import_rejections_import_id_customer_imports_id_fk" FOREIGN KEY ("import_id") REFERENCES "public"."customer_imports"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_imports" ADD CONSTRAINT "customer_imports_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_merges" ADD CONSTRAINT "customer_merges_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_merges" ADD CONSTRAINT "customer_merges_survivor_id_customers_id_fk" FOREIGN KEY ("survivor_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_merges" ADD CONSTRAINT "customer_merges_merged_id_customers_id_fk" FOREIGN KEY ("merged_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_bulk_operations_business" ON "bulk_operations" USING btree ("business_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_data_exports_business_customer" ON "customer_data_exports" USING btree ("business_id","customer_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_data_exports_queue" ON "customer_data_exports" USING btree ("next_attempt_at") WHERE "customer_data_exports"."status" IN ('PENDING', 'PROCESSING');--> statement-breakpoint
CREATE INDEX "idx_data_exports_expires" ON "customer_data_exports" USING btree ("expires_at") WHERE "customer_data_exports"."status" = 'COMPLETED';--> statement-breakpoint
CREATE INDEX "idx_customer_erasures_business" ON "customer_erasures" USING btree ("business_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_erasures_customer" ON "customer_erasures" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "idx_customer_erasures_queue" ON "customer_erasures" USING btree ("next_attempt_at") WHERE "customer_erasures"."status" IN ('PENDING', 'PROCESSING');--> statement-breakpoint
CREATE INDEX "idx_customer_imports_business" ON "customer_imports" USING btree ("business_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_imports_queue" ON "customer_imports" USING btree ("next_attempt_at") WHERE "customer_imports"."status" IN ('PENDING', 'PROCESSING');--> statement-breakpoint
CREATE INDEX "idx_customer_merges_business" ON "customer_merges" USING btree ("business_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_merges_survivor" ON "customer_merges" USING btree ("survivor_id");--> statement-breakpoint
CREATE INDEX "idx_customer_merges_merged" ON "customer_merges" USING btree ("merged_id");--> statement-breakpoint
CREATE INDEX "idx_customer_merges_snapshot_held" ON "customer_merges" USING btree ("undo_until") WHERE "customer_merges"."snapshot" <> '{}'::jsonb;--> statement-breakpoint
CREATE INDEX "idx_customers_merged_into" ON "customers" USING btree ("merged_into_id") WHERE "customers"."merged_into_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "idx_customers_last_name_search" ON "customers" USING btree (lower("last_name"),"created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customers_first_name_search" ON "customers" USING btree (lower("first_name"),"created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customers_full_name_search" ON "customers" USING btree (lower("full_name"),"created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customers_phone_reversed" ON "customers" USING btree (reverse("phone_normalized") text_pattern_ops);--> statement-breakpoint
CREATE INDEX "idx_customers_email_match_key" ON "customers" USING btree ((CASE
  WHEN split_part(lower("email"), '@', 2) IN ('gmail.com', 'googlemail.com')
    THEN replace(regexp_replace(split_part(lower("email"), '@', 1), '^([^+]+)\+.*$', '\1'), '.', '') || '@gmail.com'
  ELSE regexp_replace(split_part(lower("email"), '@', 1), '^([^+]+)\+.*$', '\1') || '@' || split_part(lower("email"), '@', 2)
END));--> statement-breakpoint
CREATE INDEX "idx_ingest_quarantine_business" ON "ingest_quarantine" USING btree ("business_id");--> statement-breakpoint
CREATE INDEX "idx_customers_email_lowercase" ON "customers" USING btree ("email_lowercase" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "idx_customers_created_at" ON "customers" USING btree ("created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customers_updated_at" ON "customers" USING btree ("updated_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customers_last_active" ON "customers" USING btree ("last_active_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_engagement_email_score" ON "customer_engagement" USING btree ("email_engagement_score" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_metrics_total_spent" ON "customer_metrics" USING btree ("total_spent" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_metrics_lifetime_value" ON "customer_metrics" USING btree ("lifetime_value" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_metrics_last_order_date" ON "customer_metrics" USING btree ("last_order_date" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_metrics_churn" ON "customer_metrics" USING btree ("churn_probability" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_risk_score" ON "customer_risk_assessments" USING btree ("risk_score" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_activities_customer" ON "customer_activities" USING btree ("customer_id","occurred_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_activities_occurred_at" ON "customer_activities" USING btree ("occurred_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_ip_addresses_last_seen" ON "customer_ip_addresses" USING btree ("last_seen_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_sync_logs_status" ON "sync_logs" USING btree ("firestore_status","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_sync_logs_created_at" ON "sync_logs" USING btree ("created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_reconcile_runs_started" ON "reconcile_runs" USING btree ("started_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_transactions_customer" ON "customer_transactions" USING btree ("customer_id","occurred_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_ingest_quarantine_connection" ON "ingest_quarantine" USING btree ("connection_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_ingest_runs_business_started" ON "ingest_runs" USING btree ("business_id","started_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_ingest_runs_connection_started" ON "ingest_runs" USING btree ("connection_id","started_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_memory_interactions_customer" ON "memory_interactions" USING btree ("customer_id","occurred_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_prediction_runs_business_started" ON "prediction_runs" USING btree ("business_id","started_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_customer_tier_history_customer" ON "customer_tier_history" USING btree ("customer_id","changed_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_tier_config_audits_business" ON "tier_config_audits" USING btree ("business_id","changed_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "idx_customer_segments_business" ON "customer_segments" USING btree ("business_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_recalculation_runs_business" ON "recalculation_runs" USING btree ("business_id","started_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
ALTER TABLE "customer_segments" ADD CONSTRAINT "customer_segments_kind_check" CHECK ("customer_segments"."kind" IN ('dynamic', 'static'));--> statement-breakpoint
ALTER TABLE "customer_segments" ADD CONSTRAINT "customer_segments_criteria_check" CHECK (("customer_segments"."kind" = 'static') = ("customer_segments"."criteria" IS NULL));
-- Trigram search (typo-tolerant name, email and phone search); trusted, so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE TABLE "customer_tier_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"business_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"previous_tier" varchar(10) NOT NULL,
	"new_tier" varchar(10) NOT NULL,
	"reason" varchar(30) NOT NULL,
	"changed_by" varchar(255),
	"note" text,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_tier_history_reason_check" CHECK ("customer_tier_history"."reason" IN ('qualified', 'grace_period_expired', 'manual_override'))
);
--> statement-breakpoint
CREATE TABLE "tier_config_audits" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"business_id" uuid NOT NULL,
	"previous_thresholds" jsonb,
	"new_thresholds" jsonb NOT NULL,
	"previous_grace_days" integer,
	"new_grace_days" integer NOT NULL,
	"changed_by" varchar(255) NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reason" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tier_configurations" (
	"business_id" uuid PRIMARY KEY NOT NULL,
	"thresholds" jsonb NOT NULL,
	"downgrade_grace_days" integer DEFAULT 90 NOT NULL,
	"updated_by" varchar(255) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_segment_assignments" (
	"segment_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"business_id" uuid NOT NULL,
	"assigned_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_segment_assignments_segment_id_customer_id_pk" PRIMARY KEY("segment_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "customer_segments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"business_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"criteria" jsonb NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"time_relative" boolean DEFAULT false NOT NULL,
	"last_calculated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "customer_communication_preferences" (
	"customer_id" uuid NOT NULL,
	"business_id" uuid NOT NULL,
	"email_marketing" boolean DEFAULT true NOT NULL,
	"sms_marketing" boolean DEFAULT true NOT NULL,
	"push_notifications" boolean DEFAULT true NOT NULL,
	"loyalty_updates" boolean DEFAULT true NOT NULL,
	"transaction_receipts" boolean DEFAULT true NOT NULL,
	"promotional_offers" boolean DEFAULT true NOT NULL,
	"survey_invitations" boolean DEFAULT false NOT NULL,
	"newsletter_subscription" boolean DEFAULT false NOT NULL,
	"frequency" varchar(20) DEFAULT 'IMMEDIATE' NOT NULL,
	"preferred_channel" varchar(20) DEFAULT 'EMAIL' NOT NULL,
	"timezone" varchar(50) DEFAULT 'UTC' NOT NULL,
	"quiet_hours_start" varchar(5),
	"quiet_hours_end" varchar(5),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_communication_preferences_customer_id_business_id_pk" PRIMARY KEY("customer_id","business_id"),
	CONSTRAINT "customer_preferences_frequency_check" CHECK ("customer_communication_preferences"."frequency" IN ('IMMEDIATE', 'DAILY_DIGEST', 'WEEKLY_DIGEST')),
	CONSTRAINT "customer_preferences_channel_check" CHECK ("customer_communication_preferences"."preferred_channel" IN ('EMAIL', 'SMS', 'PUSH'))
);
--> statement-breakpoint
CREATE TABLE "domain_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"business_id" uuid NOT NULL,
	"event_type" varchar(80) NOT NULL,
	"customer_id" uuid,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"tx_id" "xid8" DEFAULT pg_current_xact_id() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "recalculation_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"business_id" uuid NOT NULL,
	"kind" varchar(10) NOT NULL,
	"segment_id" uuid,
	"trigger" varchar(20) NOT NULL,
	"status" varchar(10) DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"changed" integer DEFAULT 0 NOT NULL,
	"entered" integer DEFAULT 0 NOT NULL,
	"exited" integer DEFAULT 0 NOT NULL,
	"upgraded" integer DEFAULT 0 NOT NULL,
	"downgraded" integer DEFAULT 0 NOT NULL,
	"error" text,
	CONSTRAINT "recalculation_runs_kind_check" CHECK ("recalculation_runs"."kind" IN ('tiers', 'segment')),
	CONSTRAINT "recalculation_runs_status_check" CHECK ("recalculation_runs"."status" IN ('running', 'succeeded', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "sync_logs" ALTER COLUMN "content_hash" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "business_customers" ADD COLUMN "loyalty_tier" varchar(10) DEFAULT 'BRONZE' NOT NULL;--> statement-breakpoint
ALTER TABLE "business_customers" ADD COLUMN "tier_updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "business_customers" ADD COLUMN "tier_override" varchar(10);--> statement-breakpoint
ALTER TABLE "business_customers" ADD COLUMN "tier_override_reason" text;--> statement-breakpoint
ALTER TABLE "business_customers" ADD COLUMN "downgrade_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tier_config_audits" ADD CONSTRAINT "tier_config_audits_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tier_configurations" ADD CONSTRAINT "tier_configurations_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_segment_assignments" ADD CONSTRAINT "customer_segment_assignments_segment_id_customer_segments_id_fk" FOREIGN KEY ("segment_id") REFERENCES "public"."customer_segments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_segment_assignments" ADD CONSTRAINT "customer_segment_assignments_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_segments" ADD CONSTRAINT "customer_segments_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_communication_preferences" ADD CONSTRAINT "customer_communication_preferences_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_communication_preferences" ADD CONSTRAINT "customer_communication_preferences_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recalculation_runs" ADD CONSTRAINT "recalculation_runs_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_customer_tier_history_customer" ON "customer_tier_history" USING btree ("customer_id","changed_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customer_tier_history_business" ON "customer_tier_history" USING btree ("business_id","changed_at");--> statement-breakpoint
CREATE INDEX "idx_tier_config_audits_business" ON "tier_config_audits" USING btree ("business_id","changed_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE INDEX "idx_segment_assignments_customer" ON "customer_segment_assignments" USING btree ("customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_customer_segments_business_name" ON "customer_segments" USING btree ("business_id",lower("name")) WHERE "customer_segments"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "idx_customer_segments_business" ON "customer_segments" USING btree ("business_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_domain_events_feed" ON "domain_events" USING btree ("business_id","tx_id","id");--> statement-breakpoint
CREATE INDEX "idx_domain_events_customer" ON "domain_events" USING btree ("customer_id","id");--> statement-breakpoint
CREATE INDEX "idx_recalculation_runs_business" ON "recalculation_runs" USING btree ("business_id","started_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_business_customers_created" ON "business_customers" USING btree ("business_id","created_at");--> statement-breakpoint
CREATE INDEX "idx_customers_full_name_trgm" ON "customers" USING gin (lower("full_name") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "idx_customers_email_trgm" ON "customers" USING gin ("email_lowercase" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "idx_customers_phone_trgm" ON "customers" USING gin ("phone_normalized" gin_trgm_ops);--> statement-breakpoint
ALTER TABLE "business_customers" ADD CONSTRAINT "business_customers_tier_check" CHECK ("business_customers"."loyalty_tier" IN ('BRONZE', 'SILVER', 'GOLD', 'PLATINUM'));--> statement-breakpoint
ALTER TABLE "business_customers" ADD CONSTRAINT "business_customers_tier_override_check" CHECK ("business_customers"."tier_override" IN ('BRONZE', 'SILVER', 'GOLD', 'PLATINUM'));--> statement-breakpoint
-- Room on each page for HOT updates: set-based standing changes bump only the version of a customer
-- and change only unindexed columns of its business link (tier, its dates), so no index changes.
ALTER TABLE "customers" SET (fillfactor = 85);--> statement-breakpoint
ALTER TABLE "business_customers" SET (fillfactor = 85);

CREATE TABLE "business_customers" (
	"business_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"email_lowercase" varchar(255),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"notes" text,
	CONSTRAINT "business_customers_business_id_customer_id_pk" PRIMARY KEY("business_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "businesses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" varchar(255) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_sources" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"source" varchar(50) NOT NULL,
	"external_id" varchar(255) NOT NULL,
	"source_data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"first_synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sync_status" varchar(20) DEFAULT 'active' NOT NULL,
	"sync_errors" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" varchar(255),
	"email_lowercase" varchar(255) GENERATED ALWAYS AS (lower(email)) STORED,
	"phone" varchar(50),
	"phone_normalized" varchar(50),
	"first_name" varchar(100),
	"last_name" varchar(100),
	"full_name" varchar(201) GENERATED ALWAYS AS (nullif(btrim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), '')) STORED,
	"status" varchar(20) DEFAULT 'active' NOT NULL,
	"customer_type" varchar(20) DEFAULT 'registered' NOT NULL,
	"date_of_birth" date,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"last_active_at" timestamp with time zone,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"notes" text,
	"internal_notes" text,
	"custom_attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version" bigint DEFAULT 1 NOT NULL,
	CONSTRAINT "customers_status_check" CHECK ("customers"."status" IN ('active', 'inactive', 'vip', 'blocked', 'pending')),
	CONSTRAINT "customers_customer_type_check" CHECK ("customers"."customer_type" IN ('guest', 'registered', 'wholesale', 'affiliate')),
	CONSTRAINT "customers_version_positive" CHECK ("customers"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "customer_demographics" (
	"customer_id" uuid PRIMARY KEY NOT NULL,
	"gender" varchar(20),
	"age" integer,
	"age_range" varchar(20),
	"birth_date" date,
	"birth_year" integer,
	"income_range" varchar(50),
	"household_income_percentile" integer,
	"education_level" varchar(50),
	"occupation" varchar(100),
	"industry" varchar(100),
	"job_title" varchar(100),
	"company" varchar(255),
	"marital_status" varchar(30),
	"has_children" boolean,
	"number_of_children" integer,
	"home_ownership_status" varchar(30),
	"dwelling_type" varchar(30),
	"interests" text[] DEFAULT '{}'::text[] NOT NULL,
	"hobbies" text[] DEFAULT '{}'::text[] NOT NULL,
	"preferred_brands" text[] DEFAULT '{}'::text[] NOT NULL,
	"lifestyle_segment" varchar(100),
	"social_profiles" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"social_influence_score" integer,
	"demographic_sources" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"confidence_score" numeric(3, 2),
	"enriched_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_demographics_age_range" CHECK ("customer_demographics"."age" BETWEEN 0 AND 150),
	CONSTRAINT "customer_demographics_percentile" CHECK ("customer_demographics"."household_income_percentile" BETWEEN 0 AND 100),
	CONSTRAINT "customer_demographics_influence" CHECK ("customer_demographics"."social_influence_score" BETWEEN 0 AND 100),
	CONSTRAINT "customer_demographics_confidence" CHECK ("customer_demographics"."confidence_score" BETWEEN 0 AND 1)
);
--> statement-breakpoint
CREATE TABLE "customer_engagement" (
	"customer_id" uuid PRIMARY KEY NOT NULL,
	"email_consent" boolean DEFAULT false NOT NULL,
	"email_consent_date" timestamp with time zone,
	"email_unsubscribe_date" timestamp with time zone,
	"total_emails_sent" integer DEFAULT 0 NOT NULL,
	"total_emails_opened" integer DEFAULT 0 NOT NULL,
	"total_emails_clicked" integer DEFAULT 0 NOT NULL,
	"total_emails_bounced" integer DEFAULT 0 NOT NULL,
	"last_email_open_date" timestamp with time zone,
	"last_email_click_date" timestamp with time zone,
	"email_engagement_score" numeric(3, 2),
	"sms_consent" boolean DEFAULT false NOT NULL,
	"sms_consent_date" timestamp with time zone,
	"sms_unsubscribe_date" timestamp with time zone,
	"total_sms_sent" integer DEFAULT 0 NOT NULL,
	"total_sms_clicked" integer DEFAULT 0 NOT NULL,
	"last_sms_click_date" timestamp with time zone,
	"sms_engagement_score" numeric(3, 2),
	"push_consent" boolean DEFAULT false NOT NULL,
	"push_tokens" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"total_sessions" integer DEFAULT 0 NOT NULL,
	"total_page_views" integer DEFAULT 0 NOT NULL,
	"average_session_duration" integer,
	"bounce_rate" numeric(5, 2),
	"app_installed" boolean DEFAULT false NOT NULL,
	"app_version" varchar(20),
	"app_last_opened" timestamp with time zone,
	"loyalty_member" boolean DEFAULT false NOT NULL,
	"loyalty_tier" varchar(50),
	"loyalty_points" integer DEFAULT 0 NOT NULL,
	"loyalty_lifetime_points" integer DEFAULT 0 NOT NULL,
	"total_reviews" integer DEFAULT 0 NOT NULL,
	"average_review_rating" numeric(2, 1),
	"nps_score" integer,
	"calculated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_engagement_email_score" CHECK ("customer_engagement"."email_engagement_score" BETWEEN 0 AND 1),
	CONSTRAINT "customer_engagement_sms_score" CHECK ("customer_engagement"."sms_engagement_score" BETWEEN 0 AND 1),
	CONSTRAINT "customer_engagement_rating" CHECK ("customer_engagement"."average_review_rating" BETWEEN 0 AND 5),
	CONSTRAINT "customer_engagement_nps" CHECK ("customer_engagement"."nps_score" BETWEEN 0 AND 10)
);
--> statement-breakpoint
CREATE TABLE "customer_metrics" (
	"customer_id" uuid PRIMARY KEY NOT NULL,
	"total_orders" integer DEFAULT 0 NOT NULL,
	"completed_orders" integer DEFAULT 0 NOT NULL,
	"cancelled_orders" integer DEFAULT 0 NOT NULL,
	"returned_orders" integer DEFAULT 0 NOT NULL,
	"total_spent" numeric(12, 2) DEFAULT 0 NOT NULL,
	"total_refunded" numeric(12, 2) DEFAULT 0 NOT NULL,
	"net_revenue" numeric(12, 2) DEFAULT 0 NOT NULL,
	"average_order_value" numeric(10, 2) DEFAULT 0 NOT NULL,
	"lifetime_value" numeric(12, 2) DEFAULT 0 NOT NULL,
	"total_items_purchased" integer DEFAULT 0 NOT NULL,
	"favorite_category" varchar(100),
	"favorite_brand" varchar(100),
	"first_order_date" date,
	"last_order_date" date,
	"email_opens" integer DEFAULT 0 NOT NULL,
	"email_clicks" integer DEFAULT 0 NOT NULL,
	"email_open_rate" numeric(5, 2),
	"email_click_rate" numeric(5, 2),
	"churn_probability" numeric(3, 2),
	"predicted_next_order_date" date,
	"predicted_lifetime_value" numeric(12, 2),
	"propensity_score" numeric(3, 2),
	"calculated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_metrics_churn_range" CHECK ("customer_metrics"."churn_probability" BETWEEN 0 AND 1),
	CONSTRAINT "customer_metrics_propensity_range" CHECK ("customer_metrics"."propensity_score" BETWEEN 0 AND 1),
	CONSTRAINT "customer_metrics_counts_nonnegative" CHECK ("customer_metrics"."total_orders" >= 0 AND "customer_metrics"."total_items_purchased" >= 0)
);
--> statement-breakpoint
CREATE TABLE "customer_risk_assessments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"risk_score" integer DEFAULT 0 NOT NULL,
	"risk_level" varchar(20) DEFAULT 'low' NOT NULL,
	"email_risk_score" integer DEFAULT 0 NOT NULL,
	"ip_risk_score" integer DEFAULT 0 NOT NULL,
	"address_risk_score" integer DEFAULT 0 NOT NULL,
	"behavior_risk_score" integer DEFAULT 0 NOT NULL,
	"payment_risk_score" integer DEFAULT 0 NOT NULL,
	"is_disposable_email" boolean DEFAULT false NOT NULL,
	"is_free_email" boolean DEFAULT false NOT NULL,
	"email_domain_age_days" integer,
	"has_multiple_accounts" boolean DEFAULT false NOT NULL,
	"related_account_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"uses_vpn_frequently" boolean DEFAULT false NOT NULL,
	"multiple_ip_countries" boolean DEFAULT false NOT NULL,
	"ip_country_count" integer DEFAULT 1 NOT NULL,
	"billing_shipping_mismatch" boolean DEFAULT false NOT NULL,
	"high_risk_country" boolean DEFAULT false NOT NULL,
	"rapid_order_velocity" boolean DEFAULT false NOT NULL,
	"unusual_purchase_pattern" boolean DEFAULT false NOT NULL,
	"high_return_rate" boolean DEFAULT false NOT NULL,
	"payment_failures" integer DEFAULT 0 NOT NULL,
	"chargebacks" integer DEFAULT 0 NOT NULL,
	"different_payment_methods" integer DEFAULT 1 NOT NULL,
	"sift_score" integer,
	"riskified_score" integer,
	"maxmind_risk_score" integer,
	"is_blocked" boolean DEFAULT false NOT NULL,
	"blocked_reason" text,
	"blocked_at" timestamp with time zone,
	"blocked_by" varchar(255),
	"requires_review" boolean DEFAULT false NOT NULL,
	"review_notes" text,
	"reviewed_at" timestamp with time zone,
	"reviewed_by" varchar(255),
	"assessed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"next_assessment_at" timestamp with time zone,
	CONSTRAINT "customer_risk_score_range" CHECK ("customer_risk_assessments"."risk_score" >= 0 AND "customer_risk_assessments"."risk_score" <= 100),
	CONSTRAINT "customer_risk_level_check" CHECK ("customer_risk_assessments"."risk_level" IN ('low', 'medium', 'high', 'critical'))
);
--> statement-breakpoint
CREATE TABLE "customer_activities" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"activity_type" varchar(50) NOT NULL,
	"activity_category" varchar(50),
	"event_data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"ip_address" "inet",
	"session_id" varchar(255),
	"user_agent" text,
	"referrer" text,
	"utm_source" varchar(100),
	"utm_medium" varchar(100),
	"utm_campaign" varchar(100),
	"country_code" varchar(2),
	"region" varchar(100),
	"city" varchar(100),
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_addresses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"address_type" varchar(20) DEFAULT 'shipping' NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"label" varchar(50),
	"first_name" varchar(100),
	"last_name" varchar(100),
	"company" varchar(255),
	"address_line1" varchar(255) NOT NULL,
	"address_line2" varchar(255),
	"city" varchar(100) NOT NULL,
	"state_province" varchar(100),
	"state_province_code" varchar(10),
	"country" varchar(100) NOT NULL,
	"country_code" varchar(2) NOT NULL,
	"postal_code" varchar(20),
	"phone" varchar(50),
	"email" varchar(255),
	"latitude" numeric(10, 8),
	"longitude" numeric(11, 8),
	"timezone" varchar(50),
	"is_validated" boolean DEFAULT false NOT NULL,
	"validation_provider" varchar(50),
	"validation_result" jsonb,
	"validated_at" timestamp with time zone,
	"neighborhood_income_level" varchar(50),
	"neighborhood_median_income" numeric(10, 2),
	"property_type" varchar(50),
	"property_value_estimate" numeric(12, 2),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "customer_addresses_type_check" CHECK ("customer_addresses"."address_type" IN ('billing', 'shipping', 'both')),
	CONSTRAINT "customer_addresses_country_code" CHECK ("customer_addresses"."country_code" ~ '^[A-Z]{2}$')
);
--> statement-breakpoint
CREATE TABLE "customer_ip_addresses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"ip_address" "inet" NOT NULL,
	"ip_version" integer DEFAULT 4 NOT NULL,
	"country" varchar(100),
	"country_code" varchar(2),
	"region" varchar(100),
	"region_code" varchar(10),
	"city" varchar(100),
	"postal_code" varchar(20),
	"latitude" numeric(10, 8),
	"longitude" numeric(11, 8),
	"timezone" varchar(50),
	"isp" varchar(255),
	"organization" varchar(255),
	"asn" integer,
	"as_name" varchar(255),
	"connection_type" varchar(50),
	"is_vpn" boolean DEFAULT false NOT NULL,
	"is_proxy" boolean DEFAULT false NOT NULL,
	"is_tor" boolean DEFAULT false NOT NULL,
	"is_relay" boolean DEFAULT false NOT NULL,
	"is_hosting" boolean DEFAULT false NOT NULL,
	"is_mobile" boolean DEFAULT false NOT NULL,
	"user_agent" text,
	"browser" varchar(50),
	"browser_version" varchar(20),
	"operating_system" varchar(50),
	"os_version" varchar(20),
	"device_type" varchar(50),
	"device_brand" varchar(50),
	"device_model" varchar(50),
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"total_sessions" integer DEFAULT 1 NOT NULL,
	"total_page_views" integer DEFAULT 0 NOT NULL,
	"total_events" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_ip_addresses_version" CHECK ("customer_ip_addresses"."ip_version" IN (4, 6))
);
--> statement-breakpoint
CREATE TABLE "sync_logs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"entity_type" varchar(50) NOT NULL,
	"entity_id" uuid NOT NULL,
	"operation" varchar(20) NOT NULL,
	"entity_version" bigint NOT NULL,
	"postgres_status" varchar(20) DEFAULT 'completed' NOT NULL,
	"firestore_status" varchar(20) DEFAULT 'pending' NOT NULL,
	"content_hash" varchar(64) NOT NULL,
	"changed_fields" text[] DEFAULT '{}'::text[] NOT NULL,
	"error_message" text,
	"retry_count" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "sync_logs_operation_check" CHECK ("sync_logs"."operation" IN ('create', 'update', 'delete', 'purge')),
	CONSTRAINT "sync_logs_firestore_status_check" CHECK ("sync_logs"."firestore_status" IN ('pending', 'processing', 'completed', 'failed', 'dead', 'skipped'))
);
--> statement-breakpoint
ALTER TABLE "business_customers" ADD CONSTRAINT "business_customers_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "business_customers" ADD CONSTRAINT "business_customers_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_sources" ADD CONSTRAINT "customer_sources_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_demographics" ADD CONSTRAINT "customer_demographics_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_engagement" ADD CONSTRAINT "customer_engagement_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_metrics" ADD CONSTRAINT "customer_metrics_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_risk_assessments" ADD CONSTRAINT "customer_risk_assessments_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_activities" ADD CONSTRAINT "customer_activities_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_addresses" ADD CONSTRAINT "customer_addresses_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_ip_addresses" ADD CONSTRAINT "customer_ip_addresses_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_business_customers_customer" ON "business_customers" USING btree ("customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_business_customers_email" ON "business_customers" USING btree ("business_id","email_lowercase") WHERE "business_customers"."email_lowercase" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_customer_sources_source_external" ON "customer_sources" USING btree ("source","external_id");--> statement-breakpoint
CREATE INDEX "idx_customer_sources_customer" ON "customer_sources" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "idx_customers_email_lowercase" ON "customers" USING btree ("email_lowercase");--> statement-breakpoint
CREATE INDEX "idx_customers_phone_normalized" ON "customers" USING btree ("phone_normalized");--> statement-breakpoint
CREATE INDEX "idx_customers_status" ON "customers" USING btree ("status");--> statement-breakpoint
CREATE INDEX "idx_customers_created_at" ON "customers" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customers_updated_at" ON "customers" USING btree ("updated_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customers_last_active" ON "customers" USING btree ("last_active_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customers_deleted_at" ON "customers" USING btree ("deleted_at");--> statement-breakpoint
CREATE INDEX "idx_customers_tags" ON "customers" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "idx_customers_custom_attributes" ON "customers" USING gin ("custom_attributes");--> statement-breakpoint
CREATE INDEX "idx_customer_demographics_gender" ON "customer_demographics" USING btree ("gender");--> statement-breakpoint
CREATE INDEX "idx_customer_demographics_age_range" ON "customer_demographics" USING btree ("age_range");--> statement-breakpoint
CREATE INDEX "idx_customer_demographics_income_range" ON "customer_demographics" USING btree ("income_range");--> statement-breakpoint
CREATE INDEX "idx_customer_engagement_email_score" ON "customer_engagement" USING btree ("email_engagement_score" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customer_engagement_loyalty_member" ON "customer_engagement" USING btree ("loyalty_member");--> statement-breakpoint
CREATE INDEX "idx_customer_engagement_loyalty_tier" ON "customer_engagement" USING btree ("loyalty_tier");--> statement-breakpoint
CREATE INDEX "idx_customer_metrics_total_spent" ON "customer_metrics" USING btree ("total_spent" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customer_metrics_lifetime_value" ON "customer_metrics" USING btree ("lifetime_value" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customer_metrics_last_order_date" ON "customer_metrics" USING btree ("last_order_date" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customer_metrics_churn" ON "customer_metrics" USING btree ("churn_probability" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "uq_customer_risk_customer" ON "customer_risk_assessments" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "idx_customer_risk_score" ON "customer_risk_assessments" USING btree ("risk_score" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customer_risk_level" ON "customer_risk_assessments" USING btree ("risk_level");--> statement-breakpoint
CREATE INDEX "idx_customer_risk_blocked" ON "customer_risk_assessments" USING btree ("is_blocked");--> statement-breakpoint
CREATE INDEX "idx_customer_risk_requires_review" ON "customer_risk_assessments" USING btree ("requires_review");--> statement-breakpoint
CREATE INDEX "idx_customer_activities_customer" ON "customer_activities" USING btree ("customer_id","occurred_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customer_activities_type" ON "customer_activities" USING btree ("activity_type");--> statement-breakpoint
CREATE INDEX "idx_customer_activities_session" ON "customer_activities" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "idx_customer_activities_occurred_at" ON "customer_activities" USING btree ("occurred_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customer_addresses_customer" ON "customer_addresses" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "idx_customer_addresses_default" ON "customer_addresses" USING btree ("customer_id","is_default");--> statement-breakpoint
CREATE INDEX "idx_customer_addresses_country_code" ON "customer_addresses" USING btree ("country_code");--> statement-breakpoint
CREATE INDEX "idx_customer_addresses_postal_code" ON "customer_addresses" USING btree ("postal_code");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_customer_ip_addresses_customer_ip" ON "customer_ip_addresses" USING btree ("customer_id","ip_address");--> statement-breakpoint
CREATE INDEX "idx_customer_ip_addresses_ip" ON "customer_ip_addresses" USING btree ("ip_address");--> statement-breakpoint
CREATE INDEX "idx_customer_ip_addresses_last_seen" ON "customer_ip_addresses" USING btree ("last_seen_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_customer_ip_addresses_risk_flags" ON "customer_ip_addresses" USING btree ("is_vpn","is_proxy","is_tor");--> statement-breakpoint
CREATE INDEX "idx_sync_logs_entity" ON "sync_logs" USING btree ("entity_type","entity_id","entity_version");--> statement-breakpoint
CREATE INDEX "idx_sync_logs_due" ON "sync_logs" USING btree ("next_attempt_at","created_at") WHERE "sync_logs"."firestore_status" IN ('pending', 'failed');--> statement-breakpoint
CREATE INDEX "idx_sync_logs_status" ON "sync_logs" USING btree ("firestore_status","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_sync_logs_created_at" ON "sync_logs" USING btree ("created_at" DESC NULLS LAST);
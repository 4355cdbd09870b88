CREATE TABLE "customer_predictions" (
	"customer_id" uuid NOT NULL,
	"business_id" uuid NOT NULL,
	"model_version" varchar(100) NOT NULL,
	"computed_at" timestamp with time zone NOT NULL,
	"churn_risk" numeric(6, 5) NOT NULL,
	"expected_purchases_30d" numeric(12, 4) NOT NULL,
	"expected_purchases_90d" numeric(12, 4) NOT NULL,
	"next_purchase_date" date,
	"expected_spend" numeric(12, 2) NOT NULL,
	"predicted_clv_12m" numeric(14, 2) NOT NULL,
	"engagement_score" numeric(4, 3) NOT NULL,
	"confidence" numeric(4, 3) NOT NULL,
	"recommendations" jsonb DEFAULT '[]'::jsonb NOT NULL,
	CONSTRAINT "customer_predictions_customer_id_business_id_pk" PRIMARY KEY("customer_id","business_id")
);
--> statement-breakpoint
CREATE TABLE "memory_interactions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"business_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"session_id" varchar(255) NOT NULL,
	"message" text NOT NULL,
	"response" text,
	"intent" varchar(100),
	"sentiment" real,
	"entities" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"channel" varchar(10) NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"warehouse_loaded_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memory_interactions_sentiment_range" CHECK ("memory_interactions"."sentiment" BETWEEN -1 AND 1),
	CONSTRAINT "memory_interactions_channel_check" CHECK ("memory_interactions"."channel" IN ('email', 'voice', 'chat'))
);
--> statement-breakpoint
CREATE TABLE "memory_models" (
	"business_id" uuid PRIMARY KEY NOT NULL,
	"model_version" varchar(100) NOT NULL,
	"bgnbd" jsonb NOT NULL,
	"gamma_gamma" jsonb,
	"customers" integer NOT NULL,
	"repeat_buyers" integer NOT NULL,
	"fitted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "prediction_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"business_id" uuid,
	"trigger" varchar(20) NOT NULL,
	"status" varchar(20) DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"customers" integer DEFAULT 0 NOT NULL,
	"converged" boolean,
	"model_version" varchar(100),
	"note" text,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "customer_predictions" ADD CONSTRAINT "customer_predictions_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_predictions" ADD CONSTRAINT "customer_predictions_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memory_interactions" ADD CONSTRAINT "memory_interactions_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memory_interactions" ADD CONSTRAINT "memory_interactions_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memory_models" ADD CONSTRAINT "memory_models_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prediction_runs" ADD CONSTRAINT "prediction_runs_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_customer_predictions_business" ON "customer_predictions" USING btree ("business_id");--> statement-breakpoint
CREATE INDEX "idx_memory_interactions_customer" ON "memory_interactions" USING btree ("customer_id","occurred_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_memory_interactions_unloaded" ON "memory_interactions" USING btree ("created_at") WHERE "memory_interactions"."warehouse_loaded_at" IS NULL;--> statement-breakpoint
CREATE INDEX "idx_prediction_runs_business_started" ON "prediction_runs" USING btree ("business_id","started_at" DESC NULLS LAST);
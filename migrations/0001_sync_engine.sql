CREATE TABLE "reconcile_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"trigger" varchar(20) DEFAULT 'manual' NOT NULL,
	"fix" boolean DEFAULT false NOT NULL,
	"status" varchar(20) DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"customers_checked" integer DEFAULT 0 NOT NULL,
	"documents_checked" integer DEFAULT 0 NOT NULL,
	"drift_count" integer DEFAULT 0 NOT NULL,
	"report" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"fixed" integer DEFAULT 0 NOT NULL,
	"error" text,
	CONSTRAINT "reconcile_runs_status_check" CHECK ("reconcile_runs"."status" IN ('running', 'completed', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "sync_logs" DROP CONSTRAINT "sync_logs_operation_check";--> statement-breakpoint
CREATE INDEX "idx_reconcile_runs_started" ON "reconcile_runs" USING btree ("started_at" DESC NULLS LAST);--> statement-breakpoint
ALTER TABLE "sync_logs" ADD CONSTRAINT "sync_logs_operation_check" CHECK ("sync_logs"."operation" IN ('create', 'update', 'delete', 'purge', 'repair'));--> statement-breakpoint
-- Wakes projectors in other processes (npm run worker) when outbox rows are committed:
-- NOTIFY is delivered at commit, once per statement.
CREATE OR REPLACE FUNCTION notify_sync_logs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sync_logs', '');
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER sync_logs_notify AFTER INSERT ON "sync_logs" FOR EACH STATEMENT EXECUTE FUNCTION notify_sync_logs();

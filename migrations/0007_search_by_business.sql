-- A business's customers newest first through an index of its own (the list without text): the
-- link carries a copy of the customer's creation time. Walking the customers' global date index
-- instead, a small business beside a large one read the large one's customers to fill its page.
ALTER TABLE "business_customers" ADD COLUMN "customer_created_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
UPDATE business_customers bc SET customer_created_at = c.created_at FROM customers c WHERE c.id = bc.customer_id;--> statement-breakpoint
-- The copy is kept by triggers, so every way a link is made or moved (API, ingest, import, merge,
-- set-based SQL) and every change of a customer's creation time keeps it. A statement that inserts
-- the customer and its link together (a data-modifying WITH) cannot be seen by the trigger's look-up:
-- it must give customer_created_at itself.
CREATE FUNCTION business_customers_copy_created_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  created timestamptz;
BEGIN
  SELECT c.created_at INTO created FROM customers c WHERE c.id = NEW.customer_id;
  IF FOUND THEN
    NEW.customer_created_at := created;
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER business_customers_created_at BEFORE INSERT OR UPDATE OF customer_id ON business_customers
  FOR EACH ROW EXECUTE FUNCTION business_customers_copy_created_at();--> statement-breakpoint
CREATE FUNCTION customers_created_at_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE business_customers SET customer_created_at = NEW.created_at WHERE customer_id = NEW.id;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER customers_created_at_update AFTER UPDATE OF created_at ON customers
  FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)
  EXECUTE FUNCTION customers_created_at_updated();--> statement-breakpoint
CREATE INDEX "idx_business_customers_newest" ON "business_customers" USING btree ("business_id","customer_created_at" DESC NULLS FIRST,"customer_id" DESC NULLS FIRST);--> statement-breakpoint
-- The names starting with a word being typed ("smi": smith, smithers), for the search's prefix
-- group, whatever the database's collation.
CREATE INDEX "idx_customer_name_vocabulary_prefix" ON "customer_name_vocabulary" USING btree ("name" text_pattern_ops);--> statement-breakpoint
-- An email prefix's matches sorted by date from the index alone (the search reads only the page's
-- customers): the prefix index with the date and id after the email.
DROP INDEX "idx_customers_email_lowercase";--> statement-breakpoint
CREATE INDEX "idx_customers_email_prefix" ON "customers" USING btree ("email_lowercase" text_pattern_ops,"created_at","id");

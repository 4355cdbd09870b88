CREATE TABLE "customer_name_vocabulary" (
	"name" text PRIMARY KEY NOT NULL,
	"folded" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "idx_customer_name_vocabulary_folded" ON "customer_name_vocabulary" USING btree ("folded");
--> statement-breakpoint
-- The misspelt-name search's vocabulary (customer-search.repository.ts), kept by triggers so that
-- every way a customer is written (API, ingest, import, merge, erasure, set-based SQL) keeps it.
-- The accent fold lets "garcia" find García; letters without a one-letter fold (ß, æ) stay.
CREATE FUNCTION name_fold(name text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT translate(lower(name), 'àáâãäåāăąçćčďđèéêëēėęěìíîïīįıłñńňòóôõöøōőśšşùúûüūůűųýÿźżž', 'aaaaaaaaacccddeeeeeeeeiiiiiiilnnnoooooooosssuuuuuuuuyyzzz') $$;
--> statement-breakpoint
-- Removes the names no live customer has as first or last name any more.
CREATE FUNCTION customer_names_forget(names text[]) RETURNS void LANGUAGE sql VOLATILE AS $$
  DELETE FROM customer_name_vocabulary v
   WHERE v.name = ANY(names)
     AND NOT EXISTS (SELECT 1 FROM customers c WHERE lower(c.last_name) = v.name AND c.erased_at IS NULL)
     AND NOT EXISTS (SELECT 1 FROM customers c WHERE lower(c.first_name) = v.name AND c.erased_at IS NULL)
$$;
--> statement-breakpoint
CREATE FUNCTION customers_names_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO customer_name_vocabulary (name, folded)
  SELECT DISTINCT n.name, name_fold(n.name)
    FROM inserted c, LATERAL (VALUES (lower(c.first_name)), (lower(c.last_name))) AS n(name)
   WHERE c.erased_at IS NULL AND n.name <> ''
  ON CONFLICT (name) DO NOTHING;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER customers_names_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION customers_names_inserted();
--> statement-breakpoint
-- Row by row, and only for a row whose name or erasure changed (the WHEN clause): a set-based
-- change of tags or status pays nothing.
CREATE FUNCTION customers_names_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.erased_at IS NULL THEN
    INSERT INTO customer_name_vocabulary (name, folded)
    SELECT n.name, name_fold(n.name) FROM (VALUES (lower(NEW.first_name)), (lower(NEW.last_name))) AS n(name)
     WHERE n.name <> ''
    ON CONFLICT (name) DO NOTHING;
  END IF;
  PERFORM customer_names_forget(ARRAY[lower(OLD.first_name), lower(OLD.last_name)]);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER customers_names_update AFTER UPDATE OF first_name, last_name, erased_at ON customers
  FOR EACH ROW WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name
                     OR OLD.erased_at IS DISTINCT FROM NEW.erased_at)
  EXECUTE FUNCTION customers_names_updated();
--> statement-breakpoint
CREATE FUNCTION customers_names_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM customer_names_forget(ARRAY(SELECT lower(c.first_name) FROM deleted c UNION SELECT lower(c.last_name) FROM deleted c));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER customers_names_delete AFTER DELETE ON customers
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION customers_names_deleted();
--> statement-breakpoint
INSERT INTO customer_name_vocabulary (name, folded)
SELECT DISTINCT n.name, name_fold(n.name)
  FROM customers c, LATERAL (VALUES (lower(c.first_name)), (lower(c.last_name))) AS n(name)
 WHERE c.erased_at IS NULL AND n.name <> ''
ON CONFLICT (name) DO NOTHING;

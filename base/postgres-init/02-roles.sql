-- Read-only role for reporting and for the backup job.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'storefront_readonly') THEN
    CREATE ROLE storefront_readonly NOLOGIN;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA storefront TO storefront_readonly;
ALTER DEFAULT PRIVILEGES IN SCHEMA storefront GRANT SELECT ON TABLES TO storefront_readonly;

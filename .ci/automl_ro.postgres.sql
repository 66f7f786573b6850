-- A login that may only read the test database (tests connect as it). Idempotent.
DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'automl_ro') THEN CREATE ROLE automl_ro LOGIN; END IF; END$$;
ALTER ROLE automl_ro NOSUPERUSER NOCREATEDB NOCREATEROLE LOGIN;
GRANT CONNECT ON DATABASE test TO automl_ro;
GRANT USAGE ON SCHEMA public TO automl_ro;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO automl_ro;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO automl_ro;

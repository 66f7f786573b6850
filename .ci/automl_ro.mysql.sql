-- An account that may only read the test database (tests connect as it). Idempotent.
CREATE USER IF NOT EXISTS 'automl_ro'@'127.0.0.1';
CREATE USER IF NOT EXISTS 'automl_ro'@'localhost';
GRANT SELECT ON test.* TO 'automl_ro'@'127.0.0.1';
GRANT SELECT ON test.* TO 'automl_ro'@'localhost';

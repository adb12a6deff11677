-- Runs once when the Postgres volume is first created: a database and role for Longhaul's
-- system of record, next to the ones Temporal's schema job (deploy/temporal/setup.sh) creates for itself.
CREATE ROLE longhaul LOGIN PASSWORD 'longhaul';
CREATE DATABASE longhaul OWNER longhaul;

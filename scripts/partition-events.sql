-- Monthly partitions for kefu's append-only event tables, kept by pg_partman (issue 20;
-- docs/operator-guide.md §7a "Growing past one server").
--
-- Needs the pg_partman extension 4.x (Debian: apt-get install postgresql-15-partman) and its
-- background worker or a cron job calling `SELECT partman.run_maintenance();` (creates next
-- months' partitions ahead). Run once, in a maintenance window with web and worker stopped, as the
-- database owner with CREATE on the database:
--
--     psql -v ON_ERROR_STOP=1 -d kefu -f scripts/partition-events.sql
--
-- Each table is rebuilt as a table partitioned by month on its time column: the old table is
-- renamed, a partitioned copy with the same columns, defaults and checks is made, pg_partman
-- creates the monthly partitions from the oldest row's month to four months ahead, the rows are
-- copied, the identity sequence continues after the highest id, and the old table is dropped.
-- A partitioned table's primary key must contain the partition column: it becomes (id, at); ids
-- stay unique because they still come from one sequence. Django reads and writes these tables
-- as before (it never relies on the primary key being id alone for them: nothing points at them).
--
-- Not run on the development machine: pg_partman is not installed there
-- (kefu/core/tests/test_partitioning.py runs it wherever it is, and skips otherwise).

\set ON_ERROR_STOP on
CREATE SCHEMA IF NOT EXISTS partman;
CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;

CREATE OR REPLACE FUNCTION pg_temp.kefu_partition_monthly(tbl text, col text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    old text := tbl || '_unpartitioned';
    first_month text;
    top bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM partman.part_config WHERE parent_table = 'public.' || tbl) THEN
        RAISE NOTICE '% is already partitioned', tbl;
        RETURN;
    END IF;
    EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, old);
    EXECUTE format(
        'CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY) '
        'PARTITION BY RANGE (%I)', tbl, old, col);
    EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id, %I)', tbl, col);
    EXECUTE format('SELECT to_char(date_trunc(''month'', COALESCE(min(%I), now())), ''YYYY-MM-DD'') FROM %I',
                   col, old) INTO first_month;
    PERFORM partman.create_parent(
        p_parent_table := 'public.' || tbl, p_control := col, p_type := 'native',
        p_interval := 'monthly', p_premake := 4, p_start_partition := first_month);
    EXECUTE format('INSERT INTO %I OVERRIDING SYSTEM VALUE SELECT * FROM %I', tbl, old);
    EXECUTE format('SELECT COALESCE(max(id), 0) + 1 FROM %I', tbl) INTO top;
    EXECUTE format('ALTER TABLE %I ALTER COLUMN id RESTART WITH %s', tbl, top);
    -- The old table's secondary indexes and foreign keys, recreated on the partitioned table
    -- (indexes then exist on each partition; LIKE copies neither).
    EXECUTE COALESCE((
        SELECT string_agg(replace(replace(indexdef, ' ON public.' || old, ' ON public.' || tbl),
                                  'CREATE INDEX ' || indexname, 'CREATE INDEX ' || indexname || '_p'), '; ')
        FROM pg_indexes
        WHERE schemaname = 'public' AND tablename = old AND indexdef LIKE 'CREATE INDEX%'
    ), 'SELECT 1');
    EXECUTE COALESCE((
        SELECT string_agg(format('ALTER TABLE %I ADD CONSTRAINT %I %s', tbl, conname || '_p',
                                 pg_get_constraintdef(oid)), '; ')
        FROM pg_constraint WHERE conrelid = ('public.' || old)::regclass AND contype = 'f'
    ), 'SELECT 1');
    EXECUTE format('DROP TABLE %I', old);
END
$$;

BEGIN;
SELECT pg_temp.kefu_partition_monthly('accounts_auditevent', 'at');   -- audit log
SELECT pg_temp.kefu_partition_monthly('tickets_ticketevent', 'at');   -- work-order timeline
SELECT pg_temp.kefu_partition_monthly('telephony_callevent', 'at');   -- call events
SELECT pg_temp.kefu_partition_monthly('customers_customerstatuschange', 'recorded_at');  -- status history
COMMIT;

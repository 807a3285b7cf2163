"""Database triggers that make ledger entries append-only, below the ORM.

PostgreSQL rejects UPDATE and DELETE (TRUNCATE, which test flushes use, is not affected).
SQLite rejects UPDATE; DELETE stays guarded in Python only, because Django's test flush on
SQLite deletes rows and SQLite cannot tell it apart from any other delete.

SQLite drops a table's triggers when Django rebuilds the table (as it does for many field
changes), so every migration that alters loyalty_ledgerentry must end with ``ensure_append_only()``.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION loyalty_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'loyalty ledger entries are append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS loyalty_ledgerentry_append_only ON loyalty_ledgerentry;
CREATE TRIGGER loyalty_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON loyalty_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION loyalty_ledgerentry_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS loyalty_ledgerentry_append_only ON loyalty_ledgerentry;
DROP FUNCTION IF EXISTS loyalty_ledgerentry_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER IF NOT EXISTS loyalty_ledgerentry_append_only
BEFORE UPDATE ON loyalty_ledgerentry
BEGIN
    SELECT RAISE(ABORT, 'loyalty ledger entries are append-only (UPDATE refused)');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS loyalty_ledgerentry_append_only;"


def _run(statements: dict[str, str]):
    def run(apps, schema_editor):
        sql = statements.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql, params=None)

    return run


def ensure_append_only() -> migrations.RunPython:
    """(Re)create the triggers; reversing it removes them."""
    return migrations.RunPython(
        _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
        _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
    )


def keep_append_only() -> migrations.RunPython:
    """Re-create the triggers after a table rebuild; reversing it leaves them in place."""
    return migrations.RunPython(_run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}), _run({}))

"""The accounting of disclosures is append-only: on PostgreSQL a trigger
refuses UPDATE and DELETE of partners_disclosure (SQLite, the demo database,
relies on the application having no such path)."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION partners_disclosure_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the accounting of disclosures is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER disclosure_append_only
    BEFORE UPDATE OR DELETE ON partners_disclosure
    FOR EACH ROW EXECUTE FUNCTION partners_disclosure_append_only();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS disclosure_append_only ON partners_disclosure;
DROP FUNCTION IF EXISTS partners_disclosure_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]

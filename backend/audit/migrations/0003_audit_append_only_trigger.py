"""The audit trail is append-only. On PostgreSQL a row trigger refuses every
UPDATE and DELETE of audit_auditevent, whoever asks (the application has no
such path; this stops a shell, a script or a bug). SQLite, the demo database,
has no trigger and relies on the application alone."""

from django.db import migrations

CREATE = r"""
CREATE FUNCTION audit_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % of audit_auditevent refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_refuse_change();
"""

DROP = r"""
DROP TRIGGER IF EXISTS auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_refuse_change();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_handoff_audit_actions")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]

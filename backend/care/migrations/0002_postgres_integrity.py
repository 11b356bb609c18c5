"""Guarantees that only PostgreSQL can give, added on PostgreSQL only.

1. No two placements of one client overlap in time: an exclusion constraint
   over tstzrange(started_at, ended_at, '[)') (half-open, so a transfer's
   end and start at the same instant touch without overlapping).
2. An open episode has exactly one open placement, a discharged one none, and
   every placement lies within its episode and belongs to the episode's client
   (the denormalised Placement.client): a deferred constraint trigger,
   checked at commit, so a transfer may close one placement and open the next
   within one transaction.

SQLite (the single-writer demo database) relies on the services' checks.
"""

from django.db import migrations

FORWARD = r"""
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE care_placement ADD CONSTRAINT placement_no_overlap
    EXCLUDE USING gist (client_id WITH =, tstzrange(started_at, ended_at, '[)') WITH &&);

CREATE FUNCTION care_check_episode_placements() RETURNS trigger AS $$
DECLARE
    ep uuid;
BEGIN
    IF TG_TABLE_NAME = 'care_episode' THEN
        ep := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        ep := OLD.episode_id;
    ELSE
        ep := NEW.episode_id;
    END IF;
    IF EXISTS (
        SELECT 1 FROM care_episode e
        WHERE e.id = ep AND (
            (e.discharged_at IS NULL AND (
                SELECT count(*) FROM care_placement p
                WHERE p.episode_id = e.id AND p.ended_at IS NULL) <> 1)
            OR (e.discharged_at IS NOT NULL AND EXISTS (
                SELECT 1 FROM care_placement p
                WHERE p.episode_id = e.id AND p.ended_at IS NULL))
            OR EXISTS (
                SELECT 1 FROM care_placement p
                WHERE p.episode_id = e.id AND (
                    p.client_id <> e.client_id
                    OR p.started_at < e.admitted_at
                    OR (e.discharged_at IS NOT NULL AND p.ended_at > e.discharged_at)))
        )
    ) THEN
        RAISE EXCEPTION 'episode % breaks its placements invariant', ep
            USING ERRCODE = 'check_violation',
                  HINT = 'An open episode has exactly one open placement, a discharged one '
                         'none, and placements lie within their episode, of its client.';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER episode_placements_consistent
    AFTER INSERT OR UPDATE ON care_episode
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION care_check_episode_placements();

CREATE CONSTRAINT TRIGGER placement_episode_consistent
    AFTER INSERT OR UPDATE OR DELETE ON care_placement
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION care_check_episode_placements();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS placement_episode_consistent ON care_placement;
DROP TRIGGER IF EXISTS episode_placements_consistent ON care_episode;
DROP FUNCTION IF EXISTS care_check_episode_placements();
ALTER TABLE care_placement DROP CONSTRAINT IF EXISTS placement_no_overlap;
"""


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # A plain cursor: the SQL holds a literal % that must not be a placeholder.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]
    operations = [migrations.RunPython(_on_postgres(FORWARD), _on_postgres(BACKWARD))]

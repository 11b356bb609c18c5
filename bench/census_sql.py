"""The census questions as hand-written SQL, one query each, and the checks that
they give the same figures as the API (docs/census.md has the definitions).

These are what a developer fluent in PostgreSQL would write for the same answer;
they use the same facts as services/census.py and nothing the database does
not hold. Two facts are kept by the services rather than by a constraint, and
are re-checked on the bench data by bench/census_data.verify():
a transfer's `updated_at` is the instant of its last event (so an ended
transfer ended at its `updated_at`), and a completed transfer's new placement
starts at the instant its old one ends, in the programs the transfer names.
"""

from __future__ import annotations

import json

ENDED = "('completed', 'declined', 'cancelled')"

PROGRAMS = """
    SELECT p.id, p.name, p.site_id, s.name AS site_name, s.time_zone, p.level_id,
           l.capacity_unit, l.position, l.intensity, p.capacity
    FROM network_program p
    JOIN network_site s ON s.id = p.site_id
    JOIN network_levelofcare l ON l.code = p.level_id
    WHERE p.is_active
"""

FIGURES = """
    p.capacity, coalesce(o.n, 0) AS occupied, coalesce(r.n, 0) AS reserved,
    p.capacity - coalesce(o.n, 0) - coalesce(r.n, 0) AS available,
    CASE WHEN p.capacity > 0 THEN round(100.0 * coalesce(o.n, 0) / p.capacity, 1) END,
    coalesce(o.n, 0) + coalesce(r.n, 0) > p.capacity AS over_capacity
"""

# Now: the open placements and the approved transfers are the present.
CENSUS_NOW = f"""
WITH p AS ({PROGRAMS})
SELECT p.id, p.name, p.site_id, p.site_name, p.level_id, p.capacity_unit, {FIGURES}
FROM p
LEFT JOIN (
    SELECT program_id, count(*) AS n FROM care_placement
    WHERE ended_at IS NULL GROUP BY program_id
) o ON o.program_id = p.id
LEFT JOIN (
    SELECT to_program_id, count(*) AS n FROM care_transfer
    WHERE status = 'approved' GROUP BY to_program_id
) r ON r.to_program_id = p.id
ORDER BY p.site_name, p.position, p.name, p.id
"""

# At a past instant: from the placements' intervals and the transfers' events,
# program by program (each count reads one program's index entries; a single
# pass over all placements and events is slower at this size).
CENSUS_AT = f"""
WITH p AS ({PROGRAMS})
SELECT p.id, p.name, p.site_id, p.site_name, p.level_id, p.capacity_unit, {FIGURES}
FROM p
CROSS JOIN LATERAL (
    SELECT count(*) AS n FROM care_placement
    WHERE program_id = p.id AND started_at <= %(at)s
      AND (ended_at IS NULL OR ended_at > %(at)s)
) o
CROSS JOIN LATERAL (
    SELECT count(*) AS n
    FROM care_transfer t
    WHERE t.to_program_id = p.id AND t.requested_at <= %(at)s
      AND (t.status NOT IN {ENDED} OR t.updated_at > %(at)s)
      AND EXISTS (SELECT 1 FROM care_transferevent e WHERE e.transfer_id = t.id
                  AND e.to_status = 'approved' AND e.at <= %(at)s)
      AND NOT EXISTS (SELECT 1 FROM care_transferevent e WHERE e.transfer_id = t.id
                      AND e.to_status IN {ENDED} AND e.at <= %(at)s)
      -- an arrival entered late: from the arrival the bed is occupied, not held
      AND NOT EXISTS (SELECT 1 FROM care_placement a WHERE a.id = t.to_placement_id
                      AND a.started_at <= %(at)s)
) r
ORDER BY p.site_name, p.position, p.name, p.id
"""

# Midnight census of each site-local day D of [first, last] that has ended at
# the site: the census at the last instant of D. A placement is open then when
# it started on or before D and did not end before the midnight that ends D,
# in site-local dates: started_day <= D < ended_day. Counted with running sums
# of +1 (arrival day, or the first day) and -1 (the day after the last night).
# A hold (reserved) runs from the approval to the end of the transfer or, if
# earlier, the client's arrival (an arrival entered late).
CENSUS_DAILY = f"""
WITH p AS ({PROGRAMS}),
grid AS (
    SELECT p.id AS program_id, d::date AS day
    FROM p, generate_series(
        %(first)s::date,
        least(%(last)s::date, (now() AT TIME ZONE p.time_zone)::date - 1),
        interval '1 day') d
),
stays AS (
    SELECT pl.program_id,
           (pl.started_at AT TIME ZONE p.time_zone)::date AS first_day,
           (pl.ended_at AT TIME ZONE p.time_zone)::date AS end_day
    FROM p JOIN care_placement pl ON pl.program_id = p.id
    WHERE pl.started_at < (%(last)s::date + 2)::timestamptz
      AND (pl.ended_at IS NULL OR pl.ended_at >= (%(first)s::date - 1)::timestamptz)
),
holds AS (
    SELECT t.to_program_id AS program_id,
           (ev.approved_at AT TIME ZONE p.time_zone)::date AS first_day,
           (coalesce(a.started_at, ev.ended_at) AT TIME ZONE p.time_zone)::date AS end_day
    FROM p
    JOIN care_transfer t ON t.to_program_id = p.id
    LEFT JOIN care_placement a ON a.id = t.to_placement_id  -- the arrival ends the hold
    CROSS JOIN LATERAL (
        SELECT min(e.at) FILTER (WHERE e.to_status = 'approved') AS approved_at,
               min(e.at) FILTER (WHERE e.to_status IN {ENDED}) AS ended_at
        FROM care_transferevent e WHERE e.transfer_id = t.id
    ) ev
    WHERE t.requested_at < (%(last)s::date + 2)::timestamptz
      AND (t.status NOT IN {ENDED} OR t.updated_at >= (%(first)s::date - 1)::timestamptz)
      AND ev.approved_at IS NOT NULL
),
deltas AS (
    SELECT 'o' AS kind, program_id, greatest(first_day, %(first)s::date) AS day, 1 AS n
    FROM stays WHERE first_day <= %(last)s AND (end_day IS NULL OR end_day > %(first)s)
    UNION ALL
    SELECT 'o', program_id, end_day, -1
    FROM stays WHERE end_day > %(first)s AND end_day <= %(last)s
    UNION ALL
    SELECT 'r', program_id, greatest(first_day, %(first)s::date), 1
    FROM holds WHERE first_day <= %(last)s AND (end_day IS NULL OR end_day > %(first)s)
    UNION ALL
    SELECT 'r', program_id, end_day, -1
    FROM holds WHERE end_day > %(first)s AND end_day <= %(last)s
),
per_day AS (
    SELECT program_id, day,
           sum(n) FILTER (WHERE kind = 'o') AS o, sum(n) FILTER (WHERE kind = 'r') AS r
    FROM deltas GROUP BY program_id, day
),
running AS (
    SELECT grid.program_id, grid.day,
           sum(coalesce(per_day.o, 0)) OVER w AS n_o, sum(coalesce(per_day.r, 0)) OVER w AS n_r
    FROM grid LEFT JOIN per_day USING (program_id, day)
    WINDOW w AS (PARTITION BY grid.program_id ORDER BY grid.day)
)
SELECT running.day, p.id, p.name, p.site_id, p.site_name, p.level_id, p.capacity_unit,
       p.capacity, running.n_o::int AS occupied, running.n_r::int AS reserved,
       p.capacity - running.n_o - running.n_r AS available,
       CASE WHEN p.capacity > 0 THEN round(100.0 * running.n_o / p.capacity, 1) END,
       running.n_o + running.n_r > p.capacity AS over_capacity
FROM running JOIN p ON p.id = running.program_id
ORDER BY running.day, p.site_name, p.position, p.name, p.id
"""

# The same days read from the stored figures of the nightly task (each stored
# day's capacity is the one recorded with it).
CENSUS_DAILY_STORED = f"""
WITH p AS ({PROGRAMS})
SELECT c.day, p.id, p.name, p.site_id, p.site_name, p.level_id, p.capacity_unit,
       c.capacity, c.occupied, c.reserved, c.capacity - c.occupied - c.reserved AS available,
       CASE WHEN c.capacity > 0 THEN round(100.0 * c.occupied / c.capacity, 1) END,
       c.occupied + c.reserved > c.capacity AS over_capacity
FROM census_censussnapshot c JOIN p ON p.id = c.program_id
WHERE c.day BETWEEN %(first)s AND least(%(last)s, (now() AT TIME ZONE p.time_zone)::date - 1)
ORDER BY c.day, p.site_name, p.position, p.name, p.id
"""

DISCHARGE_TYPES = (
    "completed",
    "against_medical_advice",
    "administrative",
    "transferred_out_of_network",
    "deceased",
    "other",
)

# What moved during the site-local days [first, last], program by program. A
# completed transfer moves the client at the instant the old placement ends and
# the new one starts, so transfers in are found from the program's placements
# that started in the range, transfers out from those that ended in it.
MOVEMENT = f"""
WITH p AS (
    SELECT p.*, (%(first)s::date)::timestamp AT TIME ZONE p.time_zone AS range_start,
           (%(last)s::date + 1)::timestamp AT TIME ZONE p.time_zone AS range_end
    FROM ({PROGRAMS}) p
)
SELECT p.id, started.admissions, ended.discharges,
       {", ".join(f"ended.discharges_{t}" for t in DISCHARGE_TYPES)},
       started.transfers_in, ended.transfers_out, ended.step_downs, ended.step_ups,
       ended.lateral, ended.site_changes
FROM p
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE t.id IS NULL) AS admissions, count(t.id) AS transfers_in
    FROM care_placement pl
    LEFT JOIN care_transfer t ON t.to_placement_id = pl.id
    WHERE pl.program_id = p.id AND pl.started_at >= p.range_start AND pl.started_at < p.range_end
) started
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE e.discharged_at = pl.ended_at) AS discharges,
           {
    ", ".join(
        f"count(*) FILTER (WHERE e.discharged_at = pl.ended_at AND e.discharge_type = '{t}')"
        f" AS discharges_{t}"
        for t in DISCHARGE_TYPES
    )
},
           count(t.id) AS transfers_out,
           count(t.id) FILTER (WHERE tl.intensity < p.intensity) AS step_downs,
           count(t.id) FILTER (WHERE tl.intensity > p.intensity) AS step_ups,
           count(t.id) FILTER (WHERE tp.level_id = p.level_id AND tp.site_id = p.site_id)
               AS lateral,
           count(t.id) FILTER (WHERE tp.level_id = p.level_id AND tp.site_id <> p.site_id)
               AS site_changes
    FROM care_placement pl
    JOIN care_episode e ON e.id = pl.episode_id
    LEFT JOIN care_transfer t ON t.from_placement_id = pl.id AND t.status = 'completed'
    LEFT JOIN network_program tp ON tp.id = t.to_program_id
    LEFT JOIN network_levelofcare tl ON tl.code = tp.level_id
    WHERE pl.program_id = p.id AND pl.ended_at >= p.range_start AND pl.ended_at < p.range_end
) ended
ORDER BY p.site_name, p.position, p.name, p.id
"""
MOVEMENT_FIGURES = (
    "admissions",
    "discharges",
    *(f"discharges_{t}" for t in DISCHARGE_TYPES),
    "transfers_in",
    "transfers_out",
    "step_downs",
    "step_ups",
    "lateral",
    "site_changes",
)


def _mismatch(what: str, api: dict, sql: dict) -> AssertionError:
    keys = sorted(set(api) | set(sql), key=str)
    diff = [(k, api.get(k), sql.get(k)) for k in keys if api.get(k) != sql.get(k)]
    return AssertionError(
        f"{what}: the API and the SQL differ on {len(diff)} of {len(keys)} rows, e.g. "
        + "; ".join(f"{k}: API {a} SQL {s}" for k, a, s in diff[:5])
    )


def _census_figures(row: dict) -> tuple:
    return (
        row["capacity"],
        row["occupied"],
        row["reserved"],
        row["available"],
        row["over_capacity"],
    )


def same_census(api_body: bytes, sql_rows: list[tuple]) -> int:
    """The API's census rows and the SQL's give the same figures, program by program,
    in the same order."""
    api_rows = json.loads(api_body)
    api = {row["program"]: _census_figures(row) for row in api_rows}
    sql = {str(r[0]): (r[6], r[7], r[8], r[9], r[11]) for r in sql_rows}
    if api != sql:
        raise _mismatch("census", api, sql)
    if [row["program"] for row in api_rows] != [str(r[0]) for r in sql_rows]:
        raise AssertionError("census: the same rows in another order")
    return len(api)


def same_daily(api_body: bytes, sql_rows: list[tuple]) -> int:
    api_rows = json.loads(api_body)
    api = {(row["program"], row["day"]): _census_figures(row) for row in api_rows}
    sql = {(str(r[1]), r[0].isoformat()): (r[7], r[8], r[9], r[10], r[12]) for r in sql_rows}
    if api != sql:
        raise _mismatch("daily census", api, sql)
    return len(api)


def same_movement(api_body: bytes, sql_rows: list[tuple]) -> int:
    api_rows = json.loads(api_body)
    api = {row["program"]: tuple(row[k] for k in MOVEMENT_FIGURES) for row in api_rows}
    sql = {str(r[0]): tuple(r[1:]) for r in sql_rows}
    if api != sql:
        raise _mismatch("movement", api, sql)
    return len(api)

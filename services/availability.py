"""What partners may know of our capacity: de-identified, consent-free.

Per site and level of care: the capacity and what is free now (beds, slots or
caseload, as the level counts), computed by the census's own rule
(services.census.census_rows), so a partner sees what the dashboard shows.
Nothing about any client: counts of places only, never a count below the
program level that could single a person out (occupied is not given).
"""

from __future__ import annotations

from datetime import datetime

from backend.network.models import LevelCode, Program
from backend.partners.models import Partner
from services.census import census_rows, census_totals
from services.clock import resolve_now
from services.errors import InvalidInput

MSG_UNKNOWN_LEVEL = "Unknown level of care."
MSG_SITE_NOT_YOURS = "Not one of the sites this partner may refer to."


def availability(
    *, partner: Partner, level: str | None = None, site_id=None, now: datetime | None = None
) -> dict:
    now = resolve_now(now)
    if level and level not in LevelCode.values:
        raise InvalidInput(MSG_UNKNOWN_LEVEL, field="level")
    # Alumni programs take no referrals: aftercare follows a discharge.
    programs = Program.objects.filter(is_active=True, site__in=partner.sites.all()).exclude(
        level_id=LevelCode.ALUMNI
    )
    if site_id is not None:
        if not partner.sites.filter(pk=site_id).exists():
            raise InvalidInput(MSG_SITE_NOT_YOURS, field="site")
        programs = programs.filter(site_id=site_id)
    if level:
        programs = programs.filter(level_id=level)
    rows = census_rows(programs)
    results = []
    for site in census_totals(rows)["sites"]:
        site_rows = [r for r in rows if r["site"] == site["site"]]
        for level_total in census_totals(site_rows)["levels"]:
            results.append(
                {
                    "site": site["site"],
                    "site_name": site["site_name"],
                    "level": level_total["level"],
                    "capacity_unit": level_total["capacity_unit"],
                    "capacity": level_total["capacity"],
                    "available": max(level_total["available"], 0),
                    "accepting": level_total["available"] > 0,
                }
            )
    return {"as_of": now, "results": results}

"""The staff's pages, server-rendered, no JavaScript: the census dashboard
(/dashboard/census/) and the aftercare outcomes (/dashboard/aftercare/).

The census view reads the user's sites, picks one from `?site=` (a site that is not
theirs is a 404, as in the API), calls the census selectors of services/ and
hands their rows to panels.py to be added up per level or per site. The
client identifiers on the page (the MRNs of incoming transfers) are a read of
those clients' records: they are audited in one bulk insert, as an API list
page is.
"""

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from backend.audit.models import AuditAction
from backend.dashboard import aftercare_panels, panels
from services import access, aftercare_metrics, census, census_flow, clock
from services.audit import audit_reads

PERIODS = (("today", "Today"), ("7d", "Last 7 days"))


def _picked_site(sites, value: str | None):
    """The site of `?site=`, or None for all of them; 404 unless it is one of `sites`.

    Without `?site=`, a user with one site sees that site, and a user with
    several sees them side by side."""
    if not value:
        return sites[0] if len(sites) == 1 else None
    try:
        wanted = UUID(value)
    except ValueError:
        raise Http404("No such site.") from None
    for site in sites:
        if site.pk == wanted:
            return site
    raise Http404("No such site.")


def _csv_url(name: str, **params) -> str:
    """The API's CSV of a panel: the same figures, for a spreadsheet."""
    query = {key: value for key, value in params.items() if value is not None}
    return f"{reverse(name)}?{urlencode({**query, 'format': 'csv'})}"


@login_required
def census_dashboard(request):
    user = request.user
    sites = census.census_sites(user)
    if not sites:
        # Signed in but on no care team: there is nothing to show, and
        # nothing to hide behind a 404 either. A polite page, with the
        # status that says why.
        return render(request, "dashboard/no_sites.html", status=403)
    site = _picked_site(sites, request.GET.get("site"))
    period = request.GET.get("period")
    if period not in panels.PERIOD_DAYS:
        period = "today"

    now = timezone.now()
    zone_site = site or sites[0]
    levels = panels.levels_of_care()
    # The census now, exactly as GET /api/v1/census/ answers it (no `at`).
    rows = census.census_at(user=user, site_id=site.pk if site else None)
    context = {
        "sites": sites,
        "site": site,
        "period": period,
        "periods": PERIODS,
        "now": now,
        "zone_name": zone_site.time_zone,
        "warn_percent": panels.WARN_PERCENT,
        "trend_days": panels.TREND_DAYS,
        "stay_days": panels.STAY_DAYS,
        "movement_columns": panels.MOVEMENT_COLUMNS,
    }
    if site:
        context.update(_site_panels(user, site, rows, levels, now, period))
    else:
        context.update(_network_panels(user, sites, rows, levels, now, period))

    incoming = list(census.incoming_transfers(user, [site.pk] if site else [s.pk for s in sites]))
    audit_reads(
        actor=user,
        object_type="transfer",
        action=AuditAction.LIST,
        records=[(transfer.pk, transfer.client_id) for transfer in incoming],
        detail={"path": request.path},
    )
    context["incoming"] = incoming
    return render(request, "dashboard/census.html", context)


def _site_panels(user, site, rows, levels, now, period) -> dict:
    today = clock.site_today(site, now)
    trend_from, trend_to = panels.trend_range(today)
    stay_from, stay_to = clock.last_days(site.time_zone, panels.STAY_DAYS, now)
    daily = census.census_daily(
        user=user, date_from=trend_from, date_to=trend_to, site_id=site.pk, now=now
    )
    days = panels.PERIOD_DAYS[period]
    moves = census_flow.census_movement(user=user, days=days, now=now, site_id=site.pk)
    stays = census_flow.length_of_stay(
        user=user, date_from=stay_from, date_to=stay_to, site_id=site.pk, by="level", now=now
    )
    units = {row["level"]: row["capacity_unit"] for row in rows}
    return {
        "tiles": panels.level_tiles(rows, levels, census.census_totals(rows)["levels"]),
        "trend": panels.trend(daily, levels, units) if daily else None,
        "movement": panels.movement_table(
            moves, "level", {code: level.name for code, level in levels.items()}
        ),
        "movement_periods": panels.movement_periods(moves, [site]),
        "length_of_stay": panels.length_of_stay_rows(stays, levels),
        "csv": {
            "census": _csv_url("census", site=site.pk),
            "daily": _csv_url("census-daily", site=site.pk, **{"from": trend_from, "to": trend_to}),
            "movement": _csv_url("census-movement", site=site.pk, days=days),
            "length_of_stay": _csv_url(
                "census-length-of-stay",
                site=site.pk,
                by="level",
                **{"from": stay_from, "to": stay_to},
            ),
        },
    }


def _network_panels(user, sites, rows, levels, now, period) -> dict:
    # Each site counts its own calendar days ("today" at that site): one call
    # for all of them, whatever their time zones, as ?days= asks the API.
    days = panels.PERIOD_DAYS[period]
    moves = census_flow.census_movement(user=user, days=days, now=now)
    return {
        "network": panels.network_table(rows, sites, levels),
        "movement": panels.movement_table(moves, "site", {s.pk: s.name for s in sites}),
        "movement_periods": panels.movement_periods(moves, sites),
        "csv": {
            "census": _csv_url("census"),
            "movement": _csv_url("census-movement", days=days),
        },
    }


@login_required
def aftercare_dashboard(request):
    """The alumni lead's page: per site and level of the program left, the
    follow-up, reach, recovery and return-to-treatment figures of the courses
    that began in the last 90, 180 or 365 days, as GET /api/v1/aftercare/metrics/
    answers them. The figures are counts and shares: no client is named, so
    nothing here is a read of a record to audit."""
    user = request.user
    sites = list(access.aftercare_metrics_sites(user))
    if not sites:
        return render(request, "dashboard/aftercare_no_sites.html", status=403)
    site = _picked_site(sites, request.GET.get("site"))
    period = request.GET.get("period")
    if period not in aftercare_panels.PERIOD_DAYS:
        period = aftercare_panels.DEFAULT_PERIOD

    now = timezone.now()
    # "Today" as the API reckons it: at the site, or at the user's sites when
    # they keep one time zone, else in UTC.
    zone = census.reference_zone(s.time_zone for s in ([site] if site else sites))
    date_from, date_to = clock.last_days(zone, aftercare_panels.PERIOD_DAYS[period], now)
    site_id = site.pk if site else None
    rows = aftercare_metrics.aftercare_metrics(
        user=user, date_from=date_from, date_to=date_to, site_id=site_id, now=now
    )
    context = {
        "sites": sites,
        "site": site,
        "period": period,
        "periods": aftercare_panels.PERIODS,
        "now": now,
        "zone_name": zone,
        "date_from": date_from,
        "date_to": date_to,
        "courses": sum(row["courses"] for row in rows),
        "tables": aftercare_panels.tables(rows, panels.levels_of_care()),
        "csv": _csv_url("aftercare-metrics", site=site_id, **{"from": date_from, "to": date_to}),
    }
    return render(request, "dashboard/aftercare.html", context)

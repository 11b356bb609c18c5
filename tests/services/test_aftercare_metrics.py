"""Aftercare outcome metrics against a story computed by hand.

The alumni lead asks, on Friday 10 July 2026 at 11:00 in Austin (NOW), how
the clients who left treatment from 1 March to 10 July fared. Every course
below is built through the services (discharge, step-down, follow-up
outcomes, readmission, step-up); Austin and Houston keep Central time, which
is CDT (UTC-5) from 8 March. "Day n" is the n-th calendar day after the
anchor's day at the site. On 10 July a course's day 7 has ended when its
anchor day is 2 July or before, day 30 when 9 June or before, day 90 when
10 April or before.

Austin residential
  C1  discharged Mon 16 Mar 10:00. 48h reached (in recovery) day 2, 7d reached
      (in recovery) day 7, 30d reached (in recovery) day 30, 60d never done
      (its window closed 18 May), 90d reached (relapsed) 15 Jun.
  C2  discharged Wed 25 Mar 09:00. 7d done, not reached, day 7; 30d reached
      (using) on day 32, 26 Apr; readmitted on day 60, 24 May: the 48h
      follow-up, never done and its window long closed, is cancelled (it
      counts as missed), the 60d one (due that day) and later are cancelled
      in time (they do not count).
  C5  stepped down from residential to Austin alumni Fri 5 Jun 10:00; 48h done,
      not reached, 8 Jun; stepped up back to residential on day 7, 12 Jun: the
      7d follow-up, due that day, is cancelled in time.
  C7  discharged Sat 20 Jun 10:00; 48h never done; 7d reached (in recovery)
      on day 7 at 20:00, 7 days and 10 hours after the anchor: day 7 counts.
  C8  died: discharged deceased 10 Jun, no course at all.
  C0  discharged Sat 28 Feb 23:30 CST (1 Mar 05:30 UTC): its day is 28 Feb in
      Austin, before the range; 48h reached.
Austin detox
  C3  discharged Wed 1 Apr 22:00 (2 Apr 03:00 UTC); 48h reached (in recovery)
      on day 2 at 23:00; readmitted to detox on day 20, 21 Apr: the 7d
      follow-up (window closed 11 Apr) counts as missed, 30d and later are
      cancelled in time.
  C3b the same client, discharged against medical advice Fri 1 May 10:00:
      nothing done; 48h, 7d, 30d and 60d (window closed 3 Jul) missed.
  C6  discharged Sun 5 Jul 10:00; 48h reached (in recovery) 7 Jul.
Austin IOP
  C4  stepped down from IOP to Austin alumni Mon 1 Jun 10:00; 48h reached
      (in recovery) day 2, 7d reached (in recovery) day 8, 30d reached (in
      recovery) day 31.
Houston residential
  H1  discharged Wed 15 Apr 10:00; 48h reached (in recovery) day 2, 7d never
      done, 30d reached (relapsed) day 31, 60d done, not reached.

By hand, per site and level:

Austin residential: C1, C2, C5, C7 (C8 has no course, C0 is out of range).
  7 days: measured C1, C2, C7 (C5 was back in treatment on day 7); reached
    C1 (day 2), C7 (day 7): 2/3 = 66.7%.
  30 days: measured C1, C2 (C5 back in treatment, C7 too recent); reached C1:
    1/2 = 50.0% (C2 was reached on day 32).
  readmission 30: measured C1, C2, C5; readmitted C5 (day 7): 1/3 = 33.3%.
  readmission 90: measured C1, C2; readmitted C2 (day 60): 1/2 = 50.0%.
  reach 48h: C1 reached; C2 missed (cancelled after its window); C5 not
    reached; C7 missed: 1/4 = 25.0%. 7d: C1, C7 reached, C2 not (C5 cancelled
    in time): 2/3. 30d: C1, C2 reached (C7 not due): 2/2. 60d: C1 missed (C2
    cancelled in time): 0/1. 90d: C1 reached: 1/1. 180d, 365d: not yet.
  recovery 30d: C1 in recovery, C2 using: 1/2. 90d: C1 relapsed: 0/1.
Austin detox: C3, C3b, C6.
  7 days: measured C3, C3b (C6 too recent); reached C3: 1/2 = 50.0%.
  30 days: measured C3b only (C3 back in treatment on day 20): 0/1.
  readmission 30: measured C3, C3b; readmitted C3: 1/2. 90: measured C3: 1/1.
  reach 48h: C3, C6 reached, C3b missed: 2/3 = 66.7%. 7d: C3 (cancelled after
    its window) and C3b missed: 0/2. 30d: C3b missed: 0/1. 60d: C3b: 0/1.
Austin IOP: C4. 7 days 1/1, 30 days 1/1, readmission 30: 0/1, 90: none
  measured. Reach 48h, 7d, 30d: 1/1 each. Recovery 30d: 1/1.
Houston residential: H1. 7 days 1/1, 30 days 1/1, readmission 30: 0/1.
  Reach 48h 1/1, 7d 0/1, 30d 1/1, 60d 0/1. Recovery 30d: 0/1 (relapsed).
"""

import datetime as dt
import uuid
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.aftercare.models import FollowUp, FollowUpStatus
from backend.care.models import DischargeType, Episode
from backend.network.models import LevelOfCare, Program
from services import episodes, transfers
from services.access import access_scope
from services.aftercare import follow_ups
from services.aftercare_metrics import (
    METRICS_COLUMNS,
    aftercare_metrics,
    aftercare_metrics_zones,
)
from services.errors import NotFound
from tests.factories import ProgramFactory, SiteFactory, finish_checklist, placed_client

CENTRAL = ZoneInfo("America/Chicago")
NOW = dt.datetime(2026, 7, 10, 11, 0, tzinfo=CENTRAL)
FROM, TO = dt.date(2026, 3, 1), dt.date(2026, 7, 10)


def at(month: int, day: int, hour: int = 10, minute: int = 0, zone=CENTRAL) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=zone)


class Story:
    """Build courses through the services; `actor` (an organisation admin)
    admits, discharges and moves, `alumni` records the outcomes."""

    def __init__(self, network, users):
        self.network, self.actor, self.alumni = network, users.admin, users.alumni
        # Room for everyone: capacity is not what this story is about.
        Program.objects.filter(site__in=[network.austin, network.houston]).update(capacity=50)

    def discharge(self, program, when, discharge_type=DischargeType.COMPLETED, client=None):
        if client is None:
            client = placed_client(program, self.actor, started_at=when - dt.timedelta(days=12))
        episode = Episode.objects.get(client=client, discharged_at__isnull=True)
        return episodes.episode_discharge(
            actor=self.actor,
            episode=episode,
            discharge_type=discharge_type,
            discharged_at=when,
            now=when,
        )

    def complete(self, episode, milestone, when, status="", *, reached=True):
        follow_up = FollowUp.objects.get(episode=episode, milestone=milestone)
        follow_ups.follow_up_complete(
            actor=self.alumni,
            follow_up=follow_up,
            reached=reached,
            self_reported_status=status,
            now=when,
        )

    def admit(self, client, program, when):
        return episodes.episode_admit(
            actor=self.actor, client=client, program=program, admitted_at=when, now=when
        )

    def move(self, client, to_program, when):
        transfer = transfers.transfer_request(
            actor=self.actor, client=client, to_program=to_program, now=when
        )
        transfer = transfers.transfer_approve(actor=self.actor, transfer=transfer, now=when)
        finish_checklist(transfer, self.actor, now=when)
        transfers.transfer_complete(actor=self.actor, transfer=transfer, arrived_at=when, now=when)
        return Episode.objects.get(pk=transfer.episode_id)


def build_story(network, users) -> SimpleNamespace:
    """The courses of the module docstring; returns their episodes."""
    s = Story(network, users)
    residential, detox = network.austin_residential, network.austin_detox
    recovery = "in_recovery"

    c1 = s.discharge(residential, at(3, 16))
    s.complete(c1, "48h", at(3, 18, 14), recovery)
    s.complete(c1, "7d", at(3, 23, 14), recovery)
    s.complete(c1, "30d", at(4, 15, 14), recovery)
    s.complete(c1, "90d", at(6, 15, 14), "relapsed")

    c2 = s.discharge(residential, at(3, 25, 9))
    s.complete(c2, "7d", at(4, 1, 15), reached=False)
    s.complete(c2, "30d", at(4, 26, 11), "using")
    s.admit(c2.client, residential, at(5, 24))

    client5 = placed_client(residential, s.actor, started_at=at(5, 20))
    c5 = s.move(client5, network.austin_alumni, at(6, 5))
    s.complete(c5, "48h", at(6, 8, 12), reached=False)
    s.move(client5, residential, at(6, 12))

    c7 = s.discharge(residential, at(6, 20))
    s.complete(c7, "7d", at(6, 27, 20), recovery)

    c8 = s.discharge(residential, at(6, 10), DischargeType.DECEASED)

    c0 = s.discharge(residential, dt.datetime(2026, 2, 28, 23, 30, tzinfo=CENTRAL))
    s.complete(c0, "48h", dt.datetime(2026, 3, 2, 23, 45, tzinfo=CENTRAL), recovery)

    c3 = s.discharge(detox, at(4, 1, 22))
    s.complete(c3, "48h", at(4, 3, 23), recovery)
    s.admit(c3.client, detox, at(4, 21, 12))
    c3b = s.discharge(detox, at(5, 1), DischargeType.AGAINST_MEDICAL_ADVICE, client=c3.client)

    c6 = s.discharge(detox, at(7, 5))
    s.complete(c6, "48h", at(7, 7, 12), recovery)

    client4 = placed_client(network.austin_iop, s.actor, started_at=at(5, 1))
    c4 = s.move(client4, network.austin_alumni, at(6, 1))
    s.complete(c4, "48h", at(6, 3, 12), recovery)
    s.complete(c4, "7d", at(6, 9, 12), recovery)
    s.complete(c4, "30d", at(7, 2, 12), recovery)

    h1 = s.discharge(network.houston_residential, at(4, 15))
    s.complete(h1, "48h", at(4, 17, 12), recovery)
    s.complete(h1, "30d", at(5, 16, 12), "relapsed")
    s.complete(h1, "60d", at(6, 16, 12), reached=False)

    return SimpleNamespace(c0=c0, c1=c1, c2=c2, c3=c3, c3b=c3b, c4=c4, c5=c5, c6=c6, c7=c7, c8=c8)


@pytest.fixture
def story(network, users):
    return build_story(network, users)


# --- the expected figures, by hand --------------------------------------------------

NO_FIGURES = (0, 0, None)


def expected(
    courses: int,
    *,
    followup_7d,
    followup_30d,
    readmission_30d,
    readmission_90d=NO_FIGURES,
    reach: dict,
    recovery: dict,
) -> dict:
    """A row's figures: each (numerator, denominator, percent) written out by hand."""
    row = {"courses": courses}
    for name, figures in (("followup_7d", followup_7d), ("followup_30d", followup_30d)):
        row.update(
            dict(
                zip(
                    (f"{name}_reached", f"{name}_eligible", f"{name}_percent"), figures, strict=True
                )
            )
        )
    for name, figures in (
        ("readmission_30d", readmission_30d),
        ("readmission_90d", readmission_90d),
    ):
        parts = (f"{name}_readmitted", f"{name}_eligible", f"{name}_percent")
        row.update(dict(zip(parts, figures, strict=True)))
    for code in ("48h", "7d", "30d", "60d", "90d", "180d", "365d"):
        parts = (f"reach_{code}_reached", f"reach_{code}_eligible", f"reach_{code}_percent")
        row.update(dict(zip(parts, reach.get(code, NO_FIGURES), strict=True)))
    for code in ("30d", "90d", "180d", "365d"):
        parts = (
            f"recovery_{code}_in_recovery",
            f"recovery_{code}_reached",
            f"recovery_{code}_percent",
        )
        row.update(dict(zip(parts, recovery.get(code, NO_FIGURES), strict=True)))
    return row


AUSTIN_RESIDENTIAL = expected(
    4,
    followup_7d=(2, 3, 66.7),
    followup_30d=(1, 2, 50.0),
    readmission_30d=(1, 3, 33.3),
    readmission_90d=(1, 2, 50.0),
    reach={
        "48h": (1, 4, 25.0),
        "7d": (2, 3, 66.7),
        "30d": (2, 2, 100.0),
        "60d": (0, 1, 0.0),
        "90d": (1, 1, 100.0),
    },
    recovery={"30d": (1, 2, 50.0), "90d": (0, 1, 0.0)},
)
AUSTIN_DETOX = expected(
    3,
    followup_7d=(1, 2, 50.0),
    followup_30d=(0, 1, 0.0),
    readmission_30d=(1, 2, 50.0),
    readmission_90d=(1, 1, 100.0),
    reach={"48h": (2, 3, 66.7), "7d": (0, 2, 0.0), "30d": (0, 1, 0.0), "60d": (0, 1, 0.0)},
    recovery={"30d": NO_FIGURES},
)
AUSTIN_IOP = expected(
    1,
    followup_7d=(1, 1, 100.0),
    followup_30d=(1, 1, 100.0),
    readmission_30d=(0, 1, 0.0),
    reach={"48h": (1, 1, 100.0), "7d": (1, 1, 100.0), "30d": (1, 1, 100.0)},
    recovery={"30d": (1, 1, 100.0)},
)
HOUSTON_RESIDENTIAL = expected(
    1,
    followup_7d=(1, 1, 100.0),
    followup_30d=(1, 1, 100.0),
    readmission_30d=(0, 1, 0.0),
    reach={"48h": (1, 1, 100.0), "7d": (0, 1, 0.0), "30d": (1, 1, 100.0), "60d": (0, 1, 0.0)},
    recovery={"30d": (0, 1, 0.0)},
)


def figures_by_group(rows) -> dict[tuple[str, str], dict]:
    """(site name, level) -> the row without its labels."""
    labels = {"site", "site_name", "level", "from", "to"}
    return {
        (row["site_name"], row["level"]): {k: v for k, v in row.items() if k not in labels}
        for row in rows
    }


def metrics(user, **kwargs):
    kwargs.setdefault("date_from", FROM)
    kwargs.setdefault("date_to", TO)
    return aftercare_metrics(user=user, now=NOW, **kwargs)


# --- the story -----------------------------------------------------------------------


def test_the_alumni_lead_reads_every_figure_of_the_story(network, users, story):
    # when the alumni coordinator asks for March to July
    rows = metrics(users.alumni)

    # then a row per site and level of the program left, by site, then the continuum's order
    assert [(r["site_name"], r["level"]) for r in rows] == [
        ("Austin", "detox"),
        ("Austin", "residential"),
        ("Austin", "iop"),
        ("Houston", "residential"),
    ]
    # with every figure as computed by hand
    assert figures_by_group(rows) == {
        ("Austin", "detox"): AUSTIN_DETOX,
        ("Austin", "residential"): AUSTIN_RESIDENTIAL,
        ("Austin", "iop"): AUSTIN_IOP,
        ("Houston", "residential"): HOUSTON_RESIDENTIAL,
    }
    # and each row's columns are the CSV's, in order, with the range and the site
    assert all(list(row) == list(METRICS_COLUMNS) for row in rows)
    assert {(r["site"], r["from"], r["to"]) for r in rows} == {
        (network.austin.pk, FROM, TO),
        (network.houston.pk, FROM, TO),
    }


def test_a_death_at_discharge_opens_no_course_and_counts_nowhere(users, story):
    # given C8, discharged deceased: no follow-ups
    assert not FollowUp.objects.filter(episode=story.c8).exists()

    # then Austin residential counts four courses, not five
    assert figures_by_group(metrics(users.alumni))[("Austin", "residential")]["courses"] == 4


def test_the_range_is_of_days_at_the_responsible_site(users, story):
    # given C0, discharged at 23:30 on 28 February in Austin (1 March in UTC)
    # when the range starts on 28 February, it is counted; from 1 March it is not
    with_c0 = figures_by_group(metrics(users.alumni, date_from=dt.date(2026, 2, 28)))
    without = figures_by_group(metrics(users.alumni))

    assert with_c0[("Austin", "residential")]["courses"] == 5
    assert with_c0[("Austin", "residential")]["reach_48h_reached"] == 2
    assert without[("Austin", "residential")]["courses"] == 4
    # and one day's range holds that day's courses only (C3, late on 1 April)
    one_day = metrics(users.alumni, date_from=dt.date(2026, 4, 1), date_to=dt.date(2026, 4, 1))
    assert [(r["site_name"], r["level"], r["courses"]) for r in one_day] == [("Austin", "detox", 1)]


def test_each_user_reads_the_courses_of_the_sites_whose_follow_ups_they_see(network, users, story):
    everything = figures_by_group(metrics(users.alumni))

    # alumni coordinators and organisation admins: every site
    assert figures_by_group(metrics(users.admin)) == everything
    # Austin's staff: Austin's courses, including the step-downs to its alumni program
    assert figures_by_group(metrics(users.austin)) == {
        k: v for k, v in everything.items() if k[0] == "Austin"
    }
    assert figures_by_group(metrics(users.manager)) == {
        k: v for k, v in everything.items() if k[0] == "Austin"
    }
    # Houston's: Houston's
    assert figures_by_group(metrics(users.houston)) == {
        ("Houston", "residential"): HOUSTON_RESIDENTIAL
    }
    # a user with no role: nothing
    assert metrics(users.nobody) == []


def test_a_site_and_a_level_narrow_the_rows(network, users, story):
    houston = metrics(users.alumni, site_id=network.houston.pk)
    detox = metrics(users.alumni, level="detox")
    residential = metrics(users.alumni, level="residential", site_id=network.austin.pk)

    assert figures_by_group(houston) == {("Houston", "residential"): HOUSTON_RESIDENTIAL}
    assert figures_by_group(detox) == {("Austin", "detox"): AUSTIN_DETOX}
    assert figures_by_group(residential) == {("Austin", "residential"): AUSTIN_RESIDENTIAL}
    # a site the caller does not see answers nothing
    assert metrics(users.houston, site_id=network.austin.pk) == []


def test_an_empty_or_reversed_range_has_no_rows(users, story):
    assert metrics(users.alumni, date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31)) == []
    assert metrics(users.alumni, date_from=TO, date_to=FROM) == []


# --- the sites a question covers -------------------------------------------------------


def test_the_zones_are_those_of_the_sites_the_caller_reads(network, users, honolulu):
    # Austin and Houston keep Central time; Honolulu its own
    every = {"America/Chicago", "Pacific/Honolulu"}

    # alumni coordinators and organisation admins read every site: every zone
    assert aftercare_metrics_zones(users.alumni) == every
    assert aftercare_metrics_zones(users.admin) == every
    # site staff their own sites, a user with no role none
    assert aftercare_metrics_zones(users.houston) == {"America/Chicago"}
    assert aftercare_metrics_zones(users.nobody) == set()
    # and with a site of theirs, that site's zone alone
    assert aftercare_metrics_zones(users.alumni, site_id=honolulu.site_id) == {"Pacific/Honolulu"}
    assert aftercare_metrics_zones(users.austin, site_id=network.austin.pk) == {"America/Chicago"}


def test_a_site_that_is_not_the_callers_is_not_found(network, users, honolulu):
    # another site's, a site that does not exist, any site for a user with no role
    for user, site_id in [
        (users.houston, network.austin.pk),
        (users.austin, honolulu.site_id),
        (users.alumni, uuid.uuid4()),
        (users.nobody, network.houston.pk),
    ]:
        with pytest.raises(NotFound):
            aftercare_metrics_zones(user, site_id=site_id)


# --- the rules, one at a time --------------------------------------------------------


@pytest.fixture
def honolulu(network):
    site = SiteFactory(code="honolulu", name="Honolulu", time_zone="Pacific/Honolulu")
    return ProgramFactory(site=site, level=LevelOfCare.objects.get(code="residential"))


def test_a_window_is_measured_once_its_last_day_has_ended_at_the_site(network, users, honolulu):
    # given, on 10 July at 11:00 in Austin (06:00 in Honolulu), three discharges:
    s = Story(network, users)
    hawaii = ZoneInfo("Pacific/Honolulu")
    # 2 July 23:30 in Austin (3 July in UTC): day 7 was 9 July, over in Austin
    s.discharge(network.austin_residential, at(7, 2, 23, 30))
    # 3 July 00:30 in Austin: day 7 is today
    s.discharge(network.austin_residential, at(7, 3, 0, 30))
    # 2 July 20:00 in Honolulu (3 July 01:00 in Austin, 06:00 UTC): day 7 ended there
    s.discharge(honolulu, at(7, 2, 20, zone=hawaii))

    # when the 7-day figures are read
    rows = figures_by_group(metrics(users.alumni))

    # then only the courses whose 7th day is over at their own site are measured
    assert rows[("Austin", "residential")]["courses"] == 2
    assert rows[("Austin", "residential")]["followup_7d_eligible"] == 1
    assert rows[("Honolulu", "residential")]["followup_7d_eligible"] == 1
    assert rows[("Honolulu", "residential")]["followup_7d_percent"] == 0.0


def test_a_contact_on_day_7_counts_whatever_the_hour_and_one_on_day_8_does_not(network, users):
    # given two clients discharged on 1 June at 10:00, reached on day 7 at 23:00 and on day 8
    s = Story(network, users)
    early = s.discharge(network.austin_residential, at(6, 1))
    late = s.discharge(network.austin_residential, at(6, 1))
    s.complete(early, "7d", at(6, 8, 23), "in_recovery")
    s.complete(late, "7d", at(6, 9, 9), "in_recovery")

    row = figures_by_group(metrics(users.alumni))[("Austin", "residential")]

    assert (row["followup_7d_reached"], row["followup_7d_eligible"]) == (1, 2)
    assert (row["followup_30d_reached"], row["followup_30d_eligible"]) == (2, 2)


def test_a_completed_record_without_contact_is_no_follow_up(network, users):
    # given a 48-hour follow-up completed as "not reached", and nothing else
    s = Story(network, users)
    episode = s.discharge(network.austin_residential, at(6, 1))
    s.complete(episode, "48h", at(6, 3, 12), reached=False)

    row = figures_by_group(metrics(users.alumni))[("Austin", "residential")]

    # then the course was not followed up, and the 48h milestone was not reached
    assert (row["followup_7d_reached"], row["followup_7d_eligible"]) == (0, 1)
    assert (row["reach_48h_reached"], row["reach_48h_eligible"]) == (0, 1)


def test_the_figures_do_not_depend_on_when_the_scan_marked_follow_ups_missed(network, users):
    # given two clients discharged on 1 May, whose 48-hour windows closed unanswered
    s = Story(network, users)
    marked = s.discharge(network.austin_residential, at(5, 1))
    unmarked = s.discharge(network.austin_residential, at(5, 1))
    # the scan marked the first one's missed; it never ran for the second
    FollowUp.objects.filter(episode=marked, milestone="48h").update(status=FollowUpStatus.MISSED)
    # when both are readmitted on day 11, the day after their 7-day windows closed
    s.admit(marked.client, network.austin_residential, at(5, 12))
    s.admit(unmarked.client, network.austin_residential, at(5, 12))
    assert set(FollowUp.objects.filter(milestone="48h").values_list("status", flat=True)) == {
        FollowUpStatus.MISSED,
        FollowUpStatus.CANCELLED,
    }

    row = figures_by_group(metrics(users.alumni))[("Austin", "residential")]

    # then both 48-hour follow-ups were missed, and the later ones (cancelled in time) do not count
    assert (row["reach_48h_reached"], row["reach_48h_eligible"]) == (0, 2)
    assert (row["reach_7d_reached"], row["reach_7d_eligible"]) == (0, 2)
    assert row["reach_30d_eligible"] == 0
    # and both returned on day 11: out of the 30-day denominator, readmitted within 30 days
    assert (row["followup_7d_reached"], row["followup_7d_eligible"]) == (0, 2)
    assert row["followup_30d_eligible"] == 0
    assert (row["readmission_30d_readmitted"], row["readmission_30d_eligible"]) == (2, 2)


def test_a_follow_up_cancelled_on_the_last_day_of_its_window_does_not_count(network, users):
    # given two clients discharged on 1 May: 7-day follow-ups due 8 May, windows closing 11 May
    s = Story(network, users)
    in_time = s.discharge(network.austin_residential, at(5, 1))
    after = s.discharge(network.austin_residential, at(5, 1))
    # when one is readmitted on 11 May, the window's last day, and the other on 12 May
    s.admit(in_time.client, network.austin_residential, at(5, 11))
    s.admit(after.client, network.austin_residential, at(5, 12))

    row = figures_by_group(metrics(users.alumni))[("Austin", "residential")]

    # then only the second 7-day follow-up was missed; both 48-hour ones were
    assert (row["reach_7d_reached"], row["reach_7d_eligible"]) == (0, 1)
    assert (row["reach_48h_reached"], row["reach_48h_eligible"]) == (0, 2)


def test_a_return_on_day_30_is_within_30_days_and_one_on_day_31_is_not(network, users):
    # given two clients discharged on 1 April, readmitted on 1 May (day 30) and 2 May (day 31)
    s = Story(network, users)
    day_30 = s.discharge(network.austin_residential, at(4, 1))
    day_31 = s.discharge(network.austin_residential, at(4, 1))
    s.admit(day_30.client, network.austin_detox, at(5, 1, 23))
    s.admit(day_31.client, network.austin_detox, at(5, 2, 0, 30))

    row = figures_by_group(metrics(users.alumni))[("Austin", "residential")]

    assert (row["readmission_30d_readmitted"], row["readmission_30d_eligible"]) == (1, 2)
    assert (row["readmission_90d_readmitted"], row["readmission_90d_eligible"]) == (2, 2)
    # and the first is out of the 30-day follow-up's denominator, the second in it
    assert (row["followup_30d_reached"], row["followup_30d_eligible"]) == (0, 1)


def test_an_admission_straight_into_alumni_is_no_return_to_treatment(network, users):
    # given a client discharged on 1 May and admitted into Austin's alumni program on day 5
    s = Story(network, users)
    episode = s.discharge(network.austin_residential, at(5, 1))
    s.admit(episode.client, network.austin_alumni, at(5, 6))

    row = figures_by_group(metrics(users.alumni))[("Austin", "residential")]

    assert (row["readmission_30d_readmitted"], row["readmission_30d_eligible"]) == (0, 1)


def test_a_step_down_counts_at_the_alumni_programs_site_by_the_level_left(network, users):
    # given a Houston residential client who steps down to Austin's alumni program
    s = Story(network, users)
    client = placed_client(network.houston_residential, s.actor, started_at=at(4, 1))
    s.move(client, network.austin_alumni, at(5, 1))

    # then the course is Austin's (the site responsible), at the residential level
    assert [(r["site_name"], r["level"]) for r in metrics(users.alumni)] == [
        ("Austin", "residential")
    ]
    assert metrics(users.houston) == []
    assert [r["site_name"] for r in metrics(users.austin)] == ["Austin"]


# --- cost ------------------------------------------------------------------------------


def _grow(network, users) -> None:
    """Five more sites in three time zones, with programs and courses."""
    zones = ["America/New_York", "America/Los_Angeles", "America/Chicago"]
    s = Story(network, users)
    for n in range(5):
        site = SiteFactory(code=f"grown{n}", time_zone=zones[n % 3])
        for code in ("detox", "iop"):
            program = ProgramFactory(site=site, level=LevelOfCare.objects.get(code=code))
            episode = s.discharge(program, at(4, 10 + n))
            s.complete(episode, "48h", at(4, 12 + n, 12), "in_recovery")


def test_the_figures_cost_three_queries_whatever_the_network(network, users, story):
    def queries(user) -> tuple[int, int]:
        user = get_user_model().objects.get(pk=user.pk)  # a fresh user: roles read again
        with CaptureQueriesContext(connection) as ctx:
            rows = metrics(user)
        return len(ctx.captured_queries), len(rows)

    before = {name: queries(getattr(users, name)) for name in ("alumni", "austin", "admin")}
    _grow(network, users)
    after = {name: queries(getattr(users, name)) for name in ("alumni", "austin", "admin")}

    # the same number of queries with five more sites, ten more programs and courses
    assert {k: n for k, (n, _) in after.items()} == {k: n for k, (n, _) in before.items()}
    assert after["alumni"][1] == before["alumni"][1] + 10
    assert after["austin"][1] == before["austin"][1]
    # and the figures themselves take three: the zones, the courses, the milestones
    # (the rest reads the caller's roles, once per request)
    fresh = get_user_model().objects.get(pk=users.alumni.pk)
    access_scope(fresh)
    with CaptureQueriesContext(connection) as ctx:
        metrics(fresh)
    assert len(ctx.captured_queries) == 3

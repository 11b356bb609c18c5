"""Over HTTP, where the services read the clock themselves: the day a rule
means is the site's. time-machine moves the clock to an evening in Texas that
is already tomorrow in UTC (docs/architecture.md, "Time")."""

import datetime as dt

from services.errors import MSG_DOB_RANGE, MSG_PLANNED_IN_PAST
from tests.api.helpers import assert_problem, error_for
from tests.factories import placed_client

# 21:30 on 7 December in Austin; 03:30 on 8 December in UTC.
EVENING_IN_TEXAS = dt.datetime(2026, 12, 8, 3, 30, tzinfo=dt.UTC)


def test_a_transfer_planned_for_austins_today_is_accepted_after_utc_midnight(
    api, network, users, time_machine
):
    # given the evening of 7 December at Austin, a client in its IOP
    time_machine.move_to(EVENING_IN_TEXAS, tick=False)
    client = placed_client(
        network.austin_iop, users.austin, started_at=EVENING_IN_TEXAS - dt.timedelta(days=3)
    )
    coordinator = api.as_user(users.austin)

    # when the coordinator plans the move for Austin's yesterday, then for its today
    refused = coordinator.post(
        "/api/v1/transfers/",
        {
            "client": str(client.pk),
            "to_program": str(network.austin_residential.pk),
            "planned_for": "2026-12-06",
        },
    )
    accepted = coordinator.post(
        "/api/v1/transfers/",
        {
            "client": str(client.pk),
            "to_program": str(network.austin_residential.pk),
            "planned_for": "2026-12-07",
        },
    )

    # then yesterday is refused, naming planned_for, and today (UTC's yesterday) is accepted
    body = assert_problem(refused, 400, fields={"planned_for"})
    assert error_for(body, "planned_for")["message"] == MSG_PLANNED_IN_PAST
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["planned_for"] == "2026-12-07"


def test_a_birth_date_of_utcs_today_is_refused_while_it_is_still_yesterday_at_austin(
    api, network, users, time_machine
):
    # given the evening of 7 December at Austin
    time_machine.move_to(EVENING_IN_TEXAS, tick=False)

    # when a client born on 8 December (UTC's today) is registered there
    response = api.as_user(users.austin).post(
        "/api/v1/clients/",
        {
            "first_name": "Ada",
            "last_name": "Day",
            "date_of_birth": "2026-12-08",
            "registered_site": str(network.austin.pk),
        },
    )

    # then it is refused: 8 December has not come at Austin
    body = assert_problem(response, 400, fields={"date_of_birth"})
    assert error_for(body, "date_of_birth")["message"] == MSG_DOB_RANGE

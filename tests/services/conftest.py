"""Fixtures of the services suite, on top of tests/fixtures.py's `network` and `users`.

The clock is fixed: NOW is a Tuesday afternoon in November (Central time is
UTC-6), so reminders at 09:00 site time fall at 15:00 UTC.
"""

import datetime as dt

import pytest

from services import transfers
from tests.factories import placed_client

NOW = dt.datetime(2026, 11, 3, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def move(network, users):
    """Request, and by default approve, a move of a new client at NOW.

    `move("austin_detox", "houston_residential")` places a client in Austin
    detox four days before NOW; Austin's coordinator requests the transfer
    and the receiving program's coordinator approves it. Returns the transfer.
    """
    receivers = {"austin": users.austin, "houston": users.houston}

    def make(frm: str, to: str, *, approve: bool = True, **request_kwargs):
        from_program, to_program = getattr(network, frm), getattr(network, to)
        client = placed_client(from_program, users.austin, started_at=NOW - dt.timedelta(days=4))
        transfer = transfers.transfer_request(
            actor=users.austin, client=client, to_program=to_program, now=NOW, **request_kwargs
        )
        if approve:
            receiver = receivers[to_program.site.code]
            transfer = transfers.transfer_approve(actor=receiver, transfer=transfer, now=NOW)
        return transfer

    return make

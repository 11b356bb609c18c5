"""Idempotency keys for partner POSTs (docs/partners.md, "Idempotency").

A partner's system that lost the answer to a POST sends it again with the same
`Idempotency-Key` header. The first request with a key claims it and, in the
same transaction as the work it does, stores its answer; a retry with the same
key and the same request gets that stored answer back and acts no more; the same
key with another request is refused (422). Keys are kept per partner for
KEY_TTL; after that a key is free again.

Concurrent retries: the claim is an INSERT ... ON CONFLICT DO NOTHING of the
(partner, key) row, which on PostgreSQL waits for the first transaction that
inserted the same key to commit or roll back, then a row lock on it. So of two
requests racing with one key, one does the work and the other replays its
answer; if the first failed and rolled back, its claim went with it and the
second does the work itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from backend.partners.models import IdempotencyRecord, Partner
from services.errors import InvalidInput, Unprocessable

KEY_TTL = timedelta(hours=24)
KEY_MAX_LENGTH = IdempotencyRecord._meta.get_field("key").max_length

MSG_KEY_REUSED = (
    "This Idempotency-Key was used with a different request in the last 24 hours; "
    "use a new key for a new request."
)
MSG_KEY_BLANK = "An Idempotency-Key must not be blank."
MSG_KEY_LONG = f"An Idempotency-Key has at most {KEY_MAX_LENGTH} characters."


class KeyReused(Unprocessable):
    code = "idempotency_key_reused"


def request_fingerprint(method: str, path: str, body) -> str:
    """sha256 of the method, the path and the body as canonical JSON."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


@dataclass
class Claim:
    record: IdempotencyRecord

    @property
    def replay(self) -> bool:
        """An answer is stored: send it back and do nothing else."""
        return self.record.status_code is not None


def idempotency_claim(*, partner: Partner, key: str, fingerprint: str, now: datetime) -> Claim:
    """Claim `key` for this request, or find the answer stored under it.

    Call inside the transaction that does the work, then idempotency_store()
    the answer in it; a rollback frees the key.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("idempotency_claim runs inside the transaction of the work")
    key = key.strip()
    if not key:
        raise InvalidInput(MSG_KEY_BLANK, field="Idempotency-Key")
    if len(key) > KEY_MAX_LENGTH:
        raise InvalidInput(MSG_KEY_LONG, field="Idempotency-Key")
    # A key older than KEY_TTL is free again.
    IdempotencyRecord.objects.filter(
        partner=partner, key=key, created_at__lt=now - KEY_TTL
    ).delete()
    IdempotencyRecord.objects.bulk_create(
        [IdempotencyRecord(partner=partner, key=key, request_hash=fingerprint, created_at=now)],
        ignore_conflicts=True,
    )
    record = IdempotencyRecord.objects.select_for_update().get(partner=partner, key=key)
    if record.request_hash != fingerprint:
        raise KeyReused(MSG_KEY_REUSED, field="Idempotency-Key")
    return Claim(record)


def idempotency_store(claim: Claim, *, status_code: int, body) -> None:
    claim.record.status_code = status_code
    claim.record.response_body = body
    claim.record.save(update_fields=["status_code", "response_body"])


def idempotency_purge(*, now: datetime) -> int:
    """Forget keys older than KEY_TTL (the nightly sweep)."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - KEY_TTL).delete()
    return deleted

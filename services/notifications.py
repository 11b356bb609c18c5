"""Telling people: an in-app notification per recipient, plus pluggable channels.

`notify` writes the in-app rows (idempotent per recipient and key) and, for
each other channel in settings.NOTIFICATION_CHANNELS, schedules a delivery
as durable work. A channel is a class with a `name` and `deliver(notification)`;
email (through Django's email backend) is the one built in. SMS and others
plug in by adding a class path to the setting.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.utils.module_loading import import_string

from backend.notifications.models import Notification
from backend.work.models import WorkItem
from services.clock import resolve_now
from services.errors import NotFound
from services.work import work_handler, work_schedule

DELIVER_KIND = "notification.deliver"


EMAIL_SUBJECT = "[Continuum] You have a new notification"
EMAIL_BODY = (
    "There is a new notification for you in Continuum ({kind}).\n"
    "Sign in to read it: /api/v1/notifications/{id}/\n"
)


class EmailChannel:
    """Email says only that there is something to read: even an MRN and a
    program name (a detox program, say) would disclose substance-use
    treatment outside the system's access rules (42 CFR Part 2)."""

    name = "email"

    def deliver(self, notification: Notification) -> bool:
        address = notification.recipient.email
        if not address:
            return False  # nobody to write to: nothing to retry
        send_mail(
            subject=EMAIL_SUBJECT,
            message=EMAIL_BODY.format(kind=notification.kind, id=notification.pk),
            from_email=None,
            recipient_list=[address],
        )
        return True


def channels() -> dict[str, object]:
    loaded = (import_string(path)() for path in settings.NOTIFICATION_CHANNELS)
    return {channel.name: channel for channel in loaded}


def notify(
    *,
    recipients: Iterable[AbstractBaseUser],
    kind: str,
    title: str,
    body: str,
    key: str,
    subject_type: str = "",
    subject_id: UUID | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """One in-app notification per recipient and key (a repeat is a no-op),
    and a scheduled delivery on each other channel for each new one."""
    now = resolve_now(now)
    created = []
    for recipient in {user.pk: user for user in recipients}.values():
        notification, is_new = Notification.objects.get_or_create(
            recipient=recipient,
            key=key,
            defaults={
                "kind": kind,
                "title": title,
                "body": body,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "created_at": now,
            },
        )
        if not is_new:
            continue
        created.append(notification)
        for name in channels():
            work_schedule(
                kind=DELIVER_KIND,
                key=f"notification:{notification.pk}:{name}",
                due_at=now,
                payload={"notification": str(notification.pk), "channel": name},
                now=now,
            )
    return created


@work_handler(DELIVER_KIND)
def _deliver(item: WorkItem, now: datetime) -> None:
    notification = Notification.objects.select_related("recipient").get(
        pk=item.payload["notification"]
    )
    channels()[item.payload["channel"]].deliver(notification)


@transaction.atomic
def notification_mark_read(
    *, actor: AbstractBaseUser, notification_id: UUID, now: datetime | None = None
) -> Notification:
    """Mark one of the actor's own notifications read (idempotent)."""
    notification = (
        Notification.objects.select_for_update().filter(pk=notification_id, recipient=actor).first()
    )
    if notification is None:
        raise NotFound()
    if notification.read_at is None:
        notification.read_at = resolve_now(now)
        notification.save(update_fields=["read_at"])
    return notification

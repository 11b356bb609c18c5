"""Messages to clients: the channels that carry a follow-up's nudge.

A client channel sends one short text to one address and returns the
gateway's reference for the message. Which class serves which channel is
settings.CLIENT_CONTACT_CHANNELS, by dotted path:

    CLIENT_CONTACT_CHANNELS = {
        "email": "services.client_contact.EmailNudge",   # Django's email backend
        "sms": "services.client_contact.ConsoleSMS",     # logs; no gateway yet
    }

A real SMS gateway is a subclass of SMSBackend whose `send` calls the
provider's API; name it in CLIENT_SMS_BACKEND (docs/aftercare.md). Leaving a
channel out of the setting sends nothing on it, whatever the client consented to.

What is sent is decided in services/followup_work.py, never here: the text
must not reveal treatment (42 CFR Part 2), whoever reads the client's phone.
"""

from __future__ import annotations

import logging
import uuid
from abc import ABC, abstractmethod
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

EMAIL_SUBJECT = "Checking in"


class ClientChannel(ABC):
    """Sends one message to a client; `address_field` is the Client field
    holding the client's address on this channel."""

    address_field: str = ""

    @abstractmethod
    def send(self, to: str, body: str) -> str:
        """Send `body` to `to`; return the gateway's reference ("" if none).
        Raise when the message was not accepted: the work is retried."""


class SMSBackend(ClientChannel):
    """The interface an SMS gateway implements: `send(to, body)` with `to` a
    phone number as the client gave it."""

    address_field = "phone"


class ConsoleSMS(SMSBackend):
    """The default until a gateway is chosen: logs that a message went, sends nothing.

    The log never holds the number or the text (personal data, and the text may hint at
    treatment): the number's last two digits and the text's length only.
    """

    def send(self, to: str, body: str) -> str:
        reference = f"console-{uuid.uuid4()}"
        logger.info("SMS to %s (%s): %d characters", masked_phone(to), reference, len(body))
        return reference


def masked_phone(number: str) -> str:
    """A phone number as logs may show it: its last two digits, e.g. "…42"."""
    digits = [c for c in number if c.isdigit()]
    return "…" + "".join(digits[-2:])


class EmailNudge(ClientChannel):
    """Email through Django's email backend (EMAIL_URL), from DEFAULT_FROM_EMAIL."""

    address_field = "email"

    def send(self, to: str, body: str) -> str:
        message_id = make_msgid(domain="continuum.invalid")
        EmailMessage(
            subject=EMAIL_SUBJECT, body=body, to=[to], headers={"Message-ID": message_id}
        ).send()
        return message_id


def client_channels() -> dict[str, ClientChannel]:
    """The configured channels by name ("email", "sms")."""
    return {name: import_string(path)() for name, path in settings.CLIENT_CONTACT_CHANNELS.items()}

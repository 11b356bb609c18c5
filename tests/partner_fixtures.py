"""Fixtures for partner systems: a partner with real OAuth2 credentials, and an
API client that signs in as it through POST /oauth/token/ (client credentials)."""

import base64
import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.test import APIClient

from backend.partners.models import Consent, ConsentExpiry, InformationKind, PartnerKind, Scope
from backend.webhooks.models import WebhookDelivery, WebhookEvent
from services import webhooks
from services.clock import local_today
from services.consent import document_checksum
from services.partners import partner_create
from tests.factories import SiteFactory, placed_client

ALL_SCOPES = list(Scope.values)


def austin_today() -> dt.date:
    """Today at the Austin site (America/Chicago), where the services count days;
    UTC's date is a day ahead every evening."""
    return local_today(SiteFactory.time_zone, timezone.now())


@pytest.fixture
def client_in_care(network, users):
    """An Austin client in detox, placed by the Austin coordinator."""
    return placed_client(network.austin_detox, users.austin)


def oauth_token(client_id: str, client_secret: str, scope: str | None = None):
    """POST /oauth/token/ with HTTP Basic, as a partner's system does; the response."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return APIClient().post(
        "/oauth/token/", data, format="multipart", HTTP_AUTHORIZATION=f"Basic {basic}"
    )


def partner_client(credential, scope: str | None = None) -> APIClient:
    response = oauth_token(credential.client_id, credential.client_secret, scope)
    assert response.status_code == 200, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return client


@pytest.fixture
def make_partner(network):
    """make_partner(name, scopes=..., sites=[...], kind=...) -> namespace with
    .partner, .credential and .api (an APIClient holding a fresh access token)."""

    def make(name="St. Example Hospital", *, scopes=None, sites=None, kind=PartnerKind.OTHER):
        partner, credential = partner_create(
            name=name,
            kind=kind,
            scopes=ALL_SCOPES if scopes is None else scopes,
            sites=[network.austin] if sites is None else sites,
        )
        return SimpleNamespace(
            partner=partner, credential=credential, api=partner_client(credential)
        )

    return make


def webhook_with_delivery(partner, url: str, *, status: str = "delivered"):
    """A subscription of `partner` to availability changes, and one delivery of
    such an event to it: (subscription, delivery)."""
    subscription = webhooks.subscription_create(
        partner=partner, url=url, events=["availability.changed"]
    )
    event = WebhookEvent.objects.create(type="availability.changed", occurred_at=timezone.now())
    delivery = WebhookDelivery.objects.create(
        event=event,
        subscription=subscription,
        webhook_id=f"msg_{subscription.pk.hex[:8]}",
        status=status,
        delivered_at=timezone.now() if status == "delivered" else None,
        created_at=timezone.now(),
    )
    return subscription, delivery


def consent_make(
    client,
    *,
    recorded_by,
    partner=None,
    recipient_class="",
    purpose="payment",
    kinds=None,
    **fields,
):
    """A Consent of `client`, signed yesterday with a PDF on file (the fixture
    `make_consent`, for fixtures of a wider scope)."""
    content = fields.pop("document_content", b"%PDF-1.4 signed consent")
    values = {
        "client": client,
        "recipient_partner": partner,
        "recipient_class": recipient_class,
        "purpose": purpose,
        "information_kinds": kinds or [k.value for k in InformationKind],
        "information_description": "Dates of admission and discharge, levels of care.",
        "right_to_revoke_stated": True,
        "expiry": ConsentExpiry.DATE,
        "expires_on": austin_today() + dt.timedelta(days=365),
        "signed_on": austin_today() - dt.timedelta(days=1),
        "signed_by": f"{client.first_name} {client.last_name}",
        "recorded_by": recorded_by,
        "recorded_at": timezone.now(),
        "document_name": "consent.pdf",
        "document_sha256": document_checksum(content),
    }
    values.update(fields)
    consent = Consent(**values)
    consent.document.save("consent.pdf", ContentFile(content), save=False)
    consent.save()
    return consent


@pytest.fixture
def make_consent(users):
    """make_consent(client, partner=..., purpose=..., kinds=[...], **fields) -> Consent,
    signed yesterday with a PDF on file, recorded by the Austin coordinator."""

    def make(client, **fields):
        return consent_make(client, recorded_by=users.austin, **fields)

    return make

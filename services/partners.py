"""Partner organisations and their OAuth2 credentials.

A partner's credentials are django-oauth-toolkit Applications (confidential,
client-credentials grant) owned by the partner's service user. The secret is
known in plain text only at creation: the toolkit stores it hashed. Rotation
without downtime: `credential_add` issues a second credential while the first
still works; the partner switches, then `credential_revoke` ends the old one
and every token issued under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.text import slugify
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application

from backend.network.models import Site
from backend.partners.models import Partner, PartnerKind, Scope
from services.clock import resolve_now
from services.errors import InvalidInput, NotFound

MSG_UNKNOWN_SCOPE = "Unknown scope {scope}; the scopes are: {known}."
MSG_UNKNOWN_SITE = "Unknown site code {code}."
MSG_NAME_TAKEN = "A partner of this name exists."
MSG_LAST_CREDENTIAL = "Issue a new credential before revoking the partner's last one."


@dataclass(frozen=True)
class Credential:
    client_id: str
    client_secret: str


def scopes_parse(scopes: list[str]) -> list[str]:
    known = set(Scope.values)
    for scope in scopes:
        if scope not in known:
            raise InvalidInput(
                MSG_UNKNOWN_SCOPE.format(scope=scope, known=", ".join(Scope.values)),
                field="scopes",
            )
    return sorted(set(scopes), key=Scope.values.index)


def sites_by_code(codes: list[str]) -> list[Site]:
    sites = {s.code: s for s in Site.objects.filter(code__in=codes)}
    for code in codes:
        if code not in sites:
            raise InvalidInput(MSG_UNKNOWN_SITE.format(code=code), field="sites")
    return [sites[c] for c in codes]


def _service_username(name: str) -> str:
    base = f"partner.{slugify(name)[:100] or 'unnamed'}"
    User = get_user_model()
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}.{n}"
    return username


@transaction.atomic
def partner_create(
    *,
    name: str,
    kind: str = PartnerKind.OTHER,
    scopes: list[str],
    sites: list[Site],
    contact_email: str = "",
    rate_limit: str = "",
    now: datetime | None = None,
) -> tuple[Partner, Credential]:
    """A partner with its first credential; the secret is returned once."""
    now = resolve_now(now)
    name = name.strip()
    if not name:
        raise InvalidInput("A partner needs a name.", field="name")
    if Partner.objects.filter(name__iexact=name).exists():
        raise InvalidInput(MSG_NAME_TAKEN, field="name")
    if kind not in PartnerKind.values:
        raise InvalidInput(f"Unknown kind {kind}.", field="kind")
    user = get_user_model().objects.create_user(username=_service_username(name), password=None)
    partner = Partner.objects.create(
        name=name,
        kind=kind,
        user=user,
        scopes=scopes_parse(scopes),
        contact_email=contact_email,
        rate_limit=rate_limit,
        created_at=now,
    )
    partner.sites.set(sites)
    return partner, credential_add(partner=partner)


def credential_add(*, partner: Partner) -> Credential:
    """Another credential for the partner (the first, or the next in a rotation)."""
    secret = generate_client_secret()
    app = Application(
        name=f"{partner.name} credential",
        user=partner.user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
    )
    app.save()
    return Credential(client_id=app.client_id, client_secret=secret)


def credentials_of(partner: Partner):
    return Application.objects.filter(user=partner.user).order_by("created", "id")


@transaction.atomic
def credential_revoke(*, partner: Partner, client_id: str) -> None:
    """End a credential and every token issued under it, at once."""
    apps = list(credentials_of(partner).select_for_update())
    target = next((a for a in apps if a.client_id == client_id), None)
    if target is None:
        raise NotFound(field="client_id")
    if len(apps) == 1:
        raise InvalidInput(MSG_LAST_CREDENTIAL, field="client_id")
    AccessToken.objects.filter(application=target).delete()
    target.delete()


@transaction.atomic
def partner_suspend(*, partner: Partner, actor: AbstractBaseUser | None = None) -> None:
    """Stop a partner at once: its tokens end and no new one is issued."""
    Partner.objects.filter(pk=partner.pk).update(is_active=False)
    AccessToken.objects.filter(application__user=partner.user).delete()
    partner.is_active = False

"""Partner organisations and their OAuth2 credentials.

A partner's credentials are django-oauth-toolkit Applications (confidential,
client-credentials grant) owned by the partner's service user. The secret is
known in plain text only at creation: the toolkit stores it hashed. Rotation
without downtime: `credential_add` issues a second credential while the first
still works; the partner switches, then `credential_revoke` ends the old one
and every token issued under it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.text import slugify
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application

from backend.network.models import Site
from backend.partners.models import Partner, PartnerKind, Scope
from services.access import access_scope
from services.clock import resolve_now
from services.errors import InvalidInput, NotFound

MSG_UNKNOWN_SCOPE = "Unknown scope {scope}; the scopes are: {known}."
MSG_UNKNOWN_SITE = "Unknown site code {code}."
MSG_NAME_TAKEN = "A partner of this name exists."
MSG_LAST_CREDENTIAL = "Issue a new credential before revoking the partner's last one."
MSG_BAD_RATE = 'A rate is a number of requests per s, min, hour or day, such as "120/min".'
MSG_NOT_ORG_ADMIN = "Only organisation admins manage partners."
MSG_BAD_ORIGIN = (
    "{origin!r} is not an origin: give scheme://host[:port], https only "
    "(http only for http://localhost), with no path, query or wildcard."
)
MSG_TOO_MANY_ORIGINS = "A partner lists at most {limit} origins."
MAX_ORIGINS = 20
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_DEFAULT_PORTS = {"https": 443, "http": 80}


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


def origin_parse(origin: str) -> str:
    """One browser origin as the browser sends it in `Origin`: lower case, without the
    scheme's default port. https only, except http://localhost (a partner's developer)."""
    text = origin.strip() if isinstance(origin, str) else ""
    error = InvalidInput(MSG_BAD_ORIGIN.format(origin=origin), field="allowed_origins")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise error from exc
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if (
        parts.path
        or parts.query
        or parts.fragment
        or text.endswith(("?", "#"))
        or len(host) > 253
        or not _HOST.fullmatch(host)
        or parts.netloc.lower() not in (host, f"{host}:{port}")
    ):
        raise error
    if not (scheme == "https" or (scheme == "http" and host == "localhost")):
        raise error
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def origins_parse(origins: list[str]) -> list[str]:
    """A partner's list of origins, each checked and normalised, duplicates dropped."""
    parsed = list(dict.fromkeys(origin_parse(origin) for origin in origins))
    if len(parsed) > MAX_ORIGINS:
        raise InvalidInput(MSG_TOO_MANY_ORIGINS.format(limit=MAX_ORIGINS), field="allowed_origins")
    return parsed


def origin_allowed(origin: str) -> bool:
    """Whether an active partner lists `origin`. One query on the small partners table,
    on purpose uncached: a suspension or a removed origin counts from the next request."""
    listed = Partner.objects.filter(is_active=True).values_list("allowed_origins", flat=True)
    return any(origin in origins for origins in listed)


def sites_by_code(codes: list[str]) -> list[Site]:
    sites = {s.code: s for s in Site.objects.filter(code__in=codes)}
    for code in codes:
        if code not in sites:
            raise InvalidInput(MSG_UNKNOWN_SITE.format(code=code), field="sites")
    return [sites[c] for c in codes]


def rate_parse(rate: str) -> str:
    """A DRF throttle rate, "<n>/<s|sec|m|min|h|hour|d|day>", or "" for the default."""
    rate = (rate or "").strip()
    if not rate:
        return ""
    count, _, period = rate.partition("/")
    if not count.isdigit() or int(count) < 1 or period not in RATE_PERIODS:
        raise InvalidInput(MSG_BAD_RATE, field="rate_limit")
    return rate


# What DRF's SimpleRateThrottle.parse_rate reads by their first letter.
RATE_PERIODS = {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}


def may_manage_partners(user) -> bool:
    return access_scope(user).is_org_admin


def partners_visible_to(user):
    """Organisation admins manage every partner; anyone else sees none."""
    if access_scope(user).is_org_admin:
        return Partner.objects.all()
    return Partner.objects.none()


def _require_org_admin(actor) -> None:
    if actor is not None and not access_scope(actor).is_org_admin:
        raise NotFound()


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
    allowed_origins: list[str] = (),
    actor: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> tuple[Partner, Credential]:
    """A partner with its first credential; the secret is returned once.
    `actor` is the organisation admin (None: an operator's command)."""
    now = resolve_now(now)
    _require_org_admin(actor)
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
        rate_limit=rate_parse(rate_limit),
        allowed_origins=origins_parse(list(allowed_origins)),
        created_at=now,
    )
    partner.sites.set(sites)
    return partner, credential_add(partner=partner)


UPDATABLE = ("kind", "scopes", "sites", "contact_email", "rate_limit", "allowed_origins")


@transaction.atomic
def partner_update(
    *, actor: AbstractBaseUser, partner: Partner, changes: dict, now: datetime | None = None
) -> Partner:
    """Change what a partner may reach: its scopes and sites take effect on its
    next request (tokens are checked against the partner's scopes each time)."""
    now = resolve_now(now)
    _require_org_admin(actor)
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise InvalidInput("Not a field that can be changed.", field=sorted(unknown)[0])
    if "kind" in changes and changes["kind"] not in PartnerKind.values:
        raise InvalidInput(f"Unknown kind {changes['kind']}.", field="kind")
    for field in ("kind", "contact_email"):
        if field in changes:
            setattr(partner, field, changes[field])
    if "scopes" in changes:
        partner.scopes = scopes_parse(changes["scopes"])
    if "rate_limit" in changes:
        partner.rate_limit = rate_parse(changes["rate_limit"])
    if "allowed_origins" in changes:
        partner.allowed_origins = origins_parse(changes["allowed_origins"])
    partner.save()
    if "sites" in changes:
        partner.sites.set(changes["sites"])
    return partner


def credential_add(*, partner: Partner, actor: AbstractBaseUser | None = None) -> Credential:
    """Another credential for the partner (the first, or the next in a rotation)."""
    _require_org_admin(actor)
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
def credential_revoke(
    *,
    partner: Partner,
    client_id: str,
    actor: AbstractBaseUser | None = None,
) -> None:
    """End a credential and every token issued under it, at once."""
    _require_org_admin(actor)
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
    _require_org_admin(actor)
    Partner.objects.filter(pk=partner.pk).update(is_active=False)
    AccessToken.objects.filter(application__user=partner.user).delete()
    partner.is_active = False


@transaction.atomic
def partner_reactivate(*, partner: Partner, actor: AbstractBaseUser | None = None) -> None:
    """Let a suspended partner sign in again (with its existing credentials)."""
    _require_org_admin(actor)
    Partner.objects.filter(pk=partner.pk).update(is_active=True)
    partner.is_active = True

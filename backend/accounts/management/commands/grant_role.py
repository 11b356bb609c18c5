"""Grant a role to a user, or revoke it.

    python manage.py grant_role USERNAME ROLE [--site CODE] [--revoke]

ROLE is one of services.access.Role; care_coordinator and site_manager are
held at one site (--site), alumni_coordinator and organisation_admin across
the organisation. The change goes through services.access.role_grant/role_revoke.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from backend.network.models import Site
from services.access import SITE_ROLES, Role, role_grant, role_revoke, roles_of

MSG_UNKNOWN_ROLE = 'Unknown role "{role}": choose one of {choices}.'
MSG_UNKNOWN_USER = 'No user "{username}".'
MSG_UNKNOWN_SITE = 'No site with code "{code}"; sites: {choices}.'
MSG_SITE_REQUIRED = "{role} is held at one site: pass --site CODE."
MSG_SITE_NOT_ALLOWED = "{role} covers the whole organisation: do not pass --site."


class Command(BaseCommand):
    help = "Grant a role to a user, or revoke it with --revoke."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", help=f"One of: {', '.join(Role)}.")
        parser.add_argument(
            "--site", metavar="CODE", help="The site's code, for care_coordinator and site_manager."
        )
        parser.add_argument("--revoke", action="store_true", help="Revoke the role instead.")

    def handle(self, *args, username, role, site, revoke, **options):
        role = self._role(role)
        user = self._user(username)
        site = self._site(role, site)

        if revoke:
            role_revoke(user=user, role=role, site=site)
            did = f"Revoked {role}{self._at(site)} from {username}."
        else:
            role_grant(user=user, role=role, site=site)
            did = f"Granted {role}{self._at(site)} to {username}."
        self.stdout.write(self.style.SUCCESS(did))
        self.stdout.write(f"Roles of {username} now: {self._roles(user)}.")

    @staticmethod
    def _role(value: str) -> Role:
        try:
            return Role(value)
        except ValueError:
            raise CommandError(
                MSG_UNKNOWN_ROLE.format(role=value, choices=", ".join(Role))
            ) from None

    @staticmethod
    def _user(username: str):
        user_model = get_user_model()
        try:
            return user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(MSG_UNKNOWN_USER.format(username=username)) from None

    @staticmethod
    def _site(role: Role, code: str | None) -> Site | None:
        if role not in SITE_ROLES:
            if code is not None:
                raise CommandError(MSG_SITE_NOT_ALLOWED.format(role=role))
            return None
        if code is None:
            raise CommandError(MSG_SITE_REQUIRED.format(role=role))
        try:
            return Site.objects.get(code=code)
        except Site.DoesNotExist:
            codes = ", ".join(Site.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(
                MSG_UNKNOWN_SITE.format(code=code, choices=codes or "none yet")
            ) from None

    @staticmethod
    def _at(site: Site | None) -> str:
        return f" at {site.name} ({site.code})" if site else ""

    @staticmethod
    def _roles(user) -> str:
        roles = roles_of(user)
        codes = dict(
            Site.objects.filter(pk__in=[r["site"] for r in roles if r["site"]]).values_list(
                "pk", "code"
            )
        )
        described = [
            f"{r['role']} at {codes[r['site']]}" if r["site"] else str(r["role"]) for r in roles
        ]
        return ", ".join(described) or "none"

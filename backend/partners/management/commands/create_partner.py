"""python manage.py create_partner NAME --scopes a,b --sites CODE,CODE

Prints the new credential as two lines, client_id=... and client_secret=...;
the secret is stored hashed and is never shown again (docs/partners.md).
"""

from django.core.management.base import BaseCommand, CommandError

from backend.partners.models import PartnerKind, Scope
from services.errors import InvalidInput
from services.partners import partner_create, sites_by_code


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class Command(BaseCommand):
    help = "Register a partner system and print its OAuth2 client id and secret (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The partner organisation's name.")
        parser.add_argument(
            "--scopes",
            required=True,
            type=_csv,
            help="Comma-separated, of: " + ", ".join(Scope.values),
        )
        parser.add_argument(
            "--sites", default=[], type=_csv, help="Comma-separated site codes it may reach."
        )
        parser.add_argument(
            "--kind",
            default=PartnerKind.OTHER,
            choices=PartnerKind.values,
            help="The recipient class TPO consents may name it by (default: other).",
        )
        parser.add_argument("--contact-email", default="")
        parser.add_argument("--rate-limit", default="", help='A rate such as "120/min".')

    def handle(self, *args, **options):
        try:
            _, credential = partner_create(
                name=options["name"],
                kind=options["kind"],
                scopes=options["scopes"],
                sites=sites_by_code(options["sites"]),
                contact_email=options["contact_email"],
                rate_limit=options["rate_limit"],
            )
        except InvalidInput as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(f"client_id={credential.client_id}")
        self.stdout.write(f"client_secret={credential.client_secret}")

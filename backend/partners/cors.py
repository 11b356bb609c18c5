"""CORS for partners' browser applications, per partner origin (django-cors-headers).

Closed by default: settings list no origin. A cross-origin request is answered with
`Access-Control-Allow-Origin` only on the partner surfaces (PARTNER_SURFACES: the partner
API, the token endpoint, FHIR) and only for an origin that an active partner lists in
`Partner.allowed_origins`. The staff API and the pages never are: a staff session's
cookies must not be usable from another site's script, and no staff client runs there.
"""

import re

from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.dispatch import receiver

from services.partners import origin_allowed

# The paths django-cors-headers answers on at all (settings.CORS_URLS_REGEX).
PARTNER_SURFACES = re.compile(settings.CORS_URLS_REGEX)


@receiver(check_request_enabled, dispatch_uid="backend.partners.cors.partner_origins")
def partner_origin_listed(sender, request, **kwargs) -> bool:
    # django-cors-headers also asks this for paths outside CORS_URLS_REGEX (a True
    # there would open them), so the path is checked here too.
    origin = request.headers.get("origin")
    if not origin or not PARTNER_SURFACES.match(request.path_info):
        return False
    return origin_allowed(origin)

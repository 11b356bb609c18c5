"""`Authorization: Bearer <key>`: a staff API token or a partner's access token.

A client generated from the OpenAPI schema sends Bearer by default, so staff
tokens (rest_framework.authtoken) are accepted with either keyword. A Bearer
key that is no staff token is tried as a partner's OAuth2 access token
(django-oauth-toolkit); request.auth is then the AccessToken, and
backend.api.permissions tells the two apart.
"""

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token


class BearerAuthentication(OAuth2Authentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        try:
            key = parts[1].decode()
        except UnicodeError:
            return None
        token = Token.objects.select_related("user").filter(key=key).first()
        if token is not None:
            # The staff token's own checks (an inactive user is refused).
            return TokenAuthentication().authenticate_credentials(key)
        return super().authenticate(request)

"""`Authorization: Bearer <key>`: a staff API token or a partner's access token.

A client generated from the OpenAPI schema sends Bearer by default, so staff
tokens (rest_framework.authtoken) are accepted with either keyword. A Bearer
key that is no staff token is tried as a partner's OAuth2 access token
(django-oauth-toolkit); request.auth is then the AccessToken, and
backend.api.permissions tells the two apart.
"""

from django.conf import settings
from django.utils import timezone
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token

MSG_TOKEN_EXPIRED = "The token has expired: sign in again (POST /api/v1/auth/token/)."


def token_expired(token: Token, now=None) -> bool:
    """A staff token lasts settings.STAFF_TOKEN_TTL from when it was issued."""
    return (now or timezone.now()) >= token.created + settings.STAFF_TOKEN_TTL


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, refused once the token is older than
    STAFF_TOKEN_TTL (the key is deleted: a new sign-in issues a new one)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed(MSG_TOKEN_EXPIRED)
        return user, token


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
            return ExpiringTokenAuthentication().authenticate_credentials(key)
        return super().authenticate(request)

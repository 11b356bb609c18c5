"""Signing in for API clients, and who the caller is."""

from django.contrib.auth import authenticate
from django.db import transaction
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.authentication import (
    BearerAuthentication,
    ExpiringTokenAuthentication,
    token_expired,
)
from backend.api.schema import TokenRequest, TokenResponse, problem_responses
from services.access import Role, roles_of

MSG_BAD_CREDENTIALS = "Unable to sign in with these credentials."
RevokedResponse = inline_serializer("TokenRevoked", {"revoked": serializers.BooleanField()})


class InvalidCredentials(exceptions.APIException):
    """401 for a failed sign-in (not AuthenticationFailed, which DRF would turn
    into a 403 on a view that takes no credentials)."""

    status_code = 401
    default_detail = MSG_BAD_CREDENTIALS
    default_code = "invalid_credentials"
    auth_header = 'Token realm="api"'


class TokenCredentialsSerializer(serializers.Serializer):
    # A username has at most 150 characters (Django's): a longer one is a 400
    # before any sign-in is tried (and recorded by the lockout).
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )


def staff_token_for(user) -> Token:
    """The user's live token, or a new one when it has expired. Two sign-ins at
    once take turns on the token's row lock: the second finds the first's new
    token (get_or_create re-reads it after the unique user_id refuses a second),
    where replacing it unlocked would make two tokens for one user and a 500."""
    with transaction.atomic():
        token, created = Token.objects.select_for_update().get_or_create(user=user)
        if not created and token_expired(token):
            token.delete()
            token = Token.objects.create(user=user)
    return token


class ObtainTokenView(APIView):
    """POST username and password, get the key for `Authorization: Token <key>`."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Exchange a username and password for an API token",
        description=(
            "The token lasts STAFF_TOKEN_TTL (12 hours by default); `DELETE` revokes it. "
            "Wrong credentials are a 401 with one message whatever was wrong; the fifth "
            "failure in a row for a username from one address locks that pair out for 15 "
            "minutes (429 with Retry-After)."
        ),
        request=TokenRequest,
        responses={200: TokenResponse, **problem_responses(400, 429)},
        examples=[
            OpenApiExample(
                "Credentials",
                value={"username": "coordinator.austin", "password": "********"},
                request_only=True,
            ),
            OpenApiExample(
                "Token",
                value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"},
                response_only=True,
            ),
        ],
        auth=[],
    )
    def post(self, request):
        serializer = TokenCredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            # The HttpRequest: django-axes marks a locked-out request on it, and its
            # middleware then answers (backend/accounts/lockout.py).
            request=request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            # One message for a wrong name and a wrong password: no account probing.
            raise InvalidCredentials()
        return Response({"token": staff_token_for(user).key})

    @extend_schema(
        summary="Revoke the token this request is signed in with",
        request=None,
        responses={200: RevokedResponse, **problem_responses()},
        examples=[OpenApiExample("Revoked", value={"revoked": True}, response_only=True)],
    )
    def delete(self, request):
        if not isinstance(request.auth, Token):
            raise exceptions.NotAuthenticated()
        request.auth.delete()
        return Response({"revoked": True})

    def get_authenticators(self):
        # POST needs no credentials; DELETE revokes the token it is signed in with.
        if self.request is not None and self.request.method == "DELETE":
            return [ExpiringTokenAuthentication(), BearerAuthentication()]
        return []


MeSerializer = inline_serializer(
    "Me",
    {
        "id": serializers.IntegerField(),
        "username": serializers.CharField(),
        "full_name": serializers.CharField(),
        "roles": inline_serializer(
            "RoleAssignment",
            {
                "role": serializers.ChoiceField(choices=[r.value for r in Role]),
                "site": serializers.UUIDField(allow_null=True),
            },
            many=True,
        ),
    },
)


class MeView(APIView):
    @extend_schema(
        summary="Who am I, and which roles do I hold where",
        responses={200: MeSerializer, **problem_responses()},
        examples=[
            OpenApiExample(
                "A coordinator at Austin",
                value={
                    "id": 3,
                    "username": "coordinator.austin",
                    "full_name": "Avery Austin",
                    "roles": [
                        {"role": "care_coordinator", "site": "6f1c8a9e-2b7d-4c43-9a57-0e5a2f3d9b10"}
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request):
        user = request.user
        return Response(
            {
                "id": user.pk,
                "username": user.get_username(),
                "full_name": user.get_full_name(),
                "roles": roles_of(user),
            }
        )

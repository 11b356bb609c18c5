"""Signing in for API clients, and who the caller is."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import TokenRequest, TokenResponse, problem_responses
from services.access import Role, roles_of


class TokenCredentialsSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class ObtainTokenView(APIView):
    """POST username and password, get the key for `Authorization: Token <key>`."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        summary="Exchange a username and password for an API token",
        request=TokenRequest,
        responses={200: TokenResponse, **problem_responses(400)},
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
            request=request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            # One message for a wrong name and a wrong password: no account probing.
            raise serializers.ValidationError(
                {"password": ["Unable to sign in with these credentials."]},
                code="authorization",
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


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

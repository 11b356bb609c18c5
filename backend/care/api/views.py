"""Clients, episodes, placements and transfers over HTTP.

Each write: an input serializer validates, one service acts, an output
serializer renders. Each read is narrowed by services.access first.
"""

import django_filters
from django.db.models import Exists, OuterRef, Prefetch, Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from backend.api.filters import BooleanFilter
from backend.api.schema import problem_responses
from backend.api.viewsets import AuditedRetrieveMixin, VisibleModelViewSet, concrete_fields
from backend.care.api import examples
from backend.care.api.serializers import (
    AdmitSerializer,
    ClientCreateSerializer,
    ClientSerializer,
    ClientUpdateSerializer,
    DischargeSerializer,
    EpisodeSerializer,
    JourneySerializer,
    PlacementSerializer,
    TransferApproveSerializer,
    TransferCompleteSerializer,
    TransferReasonSerializer,
    TransferRequestSerializer,
    TransferSerializer,
)
from backend.care.models import Episode, Placement, Transfer, TransferEvent, TransferStatus
from backend.network.models import LevelCode
from services import access, clients, episodes, transfers
from services.audit import audit_reads

# --- clients -------------------------------------------------------------


class ClientFilter(django_filters.FilterSet):
    mrn = django_filters.CharFilter()
    name = django_filters.CharFilter(
        method="filter_name", help_text="Part of a first or last name."
    )
    in_care = BooleanFilter(
        method="filter_in_care", help_text="true: has an open episode; false: has none."
    )
    registered_site = django_filters.UUIDFilter(field_name="registered_site_id")

    def filter_name(self, queryset, name, value):
        return queryset.filter(Q(first_name__icontains=value) | Q(last_name__icontains=value))

    def filter_in_care(self, queryset, name, value):
        # Exists, not a join: `placements__ended_at__isnull=True` would also match
        # a client with no placement at all (the outer join's NULL).
        open_placement = Exists(
            Placement.objects.filter(client_id=OuterRef("pk"), ended_at__isnull=True)
        )
        return queryset.filter(open_placement if value else ~open_placement)


def open_placements_prefetch() -> Prefetch:
    return Prefetch(
        "placements",
        queryset=Placement.objects.filter(ended_at__isnull=True).select_related("program"),
        to_attr="open_placements",
    )


@extend_schema_view(
    list=extend_schema(
        summary="List the clients you may see",
        description="Clients registered at, placed at, or transferring from or to your sites.",
        responses={200: ClientSerializer(many=True), **problem_responses(400)},
        examples=[examples.CLIENT],
    ),
    retrieve=extend_schema(
        summary="One client",
        responses={200: ClientSerializer, **problem_responses(404)},
        examples=[examples.CLIENT],
    ),
    create=extend_schema(
        summary="Register a client",
        request=ClientCreateSerializer,
        responses={201: ClientSerializer, **problem_responses(400, 403)},
        examples=[examples.CLIENT_CREATE, examples.CLIENT],
    ),
    partial_update=extend_schema(
        summary="Change a client's identifiers or contact details",
        request=ClientUpdateSerializer,
        responses={200: ClientSerializer, **problem_responses(400, 403, 404)},
        examples=[examples.CLIENT_UPDATE, examples.CLIENT],
    ),
    journey=extend_schema(
        summary="The client's journey through the continuum",
        description="Episodes, placements in order, and the transfers between them.",
        responses={200: JourneySerializer, **problem_responses(404)},
        examples=[examples.JOURNEY],
    ),
)
class ClientViewSet(
    mixins.ListModelMixin,
    AuditedRetrieveMixin,
    VisibleModelViewSet,
):
    serializer_class = ClientSerializer
    filterset_class = ClientFilter
    audit_object_type = "client"
    http_method_names = ["get", "post", "patch", "head", "options"]

    @staticmethod
    def audit_client_id(obj):
        return obj.pk

    def visible_queryset(self, user):
        return access.clients_visible_to(user)

    def with_relations(self, queryset):
        return queryset.prefetch_related(open_placements_prefetch())

    def create(self, request):
        data = self._validated(ClientCreateSerializer, request.data)
        client = clients.client_create(actor=request.user, **data)
        client.open_placements = []
        return Response(ClientSerializer(client).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        client = self.get_object()
        changes = self._validated(ClientUpdateSerializer, request.data, partial=True)
        client = clients.client_update(actor=request.user, client=client, changes=changes)
        return Response(self.get_serializer(self.get_queryset().get(pk=client.pk)).data)

    @action(detail=True, methods=["get"])
    def journey(self, request, pk=None):
        client = self.get_object()
        data = {
            "id": client.pk,
            "client": client.pk,
            "episodes": client.episodes.select_related("admitted_by", "discharged_by").order_by(
                "admitted_at", "id"
            ),
            "placements": client.placements.select_related("program__site").order_by(
                "started_at", "id"
            ),
            "transfers": client.transfers.select_related(
                "from_program__level", "to_program__level"
            ).order_by("requested_at", "id"),
        }
        audit_reads(
            actor=request.user,
            object_type="journey",
            records=[(client.pk, client.pk)],
            detail={"path": request.path},
        )
        return Response(JourneySerializer(data).data)

    def _validated(self, serializer_class, data, **kwargs) -> dict:
        serializer = serializer_class(data=data, context={"request": self.request}, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# --- episodes --------------------------------------------------------------


class EpisodeFilter(django_filters.FilterSet):
    client = django_filters.UUIDFilter(field_name="client_id")
    is_open = BooleanFilter(field_name="discharged_at", lookup_expr="isnull")


@extend_schema_view(
    list=extend_schema(
        summary="List episodes of care",
        responses={200: EpisodeSerializer(many=True), **problem_responses(400)},
        examples=[examples.EPISODE],
    ),
    retrieve=extend_schema(
        summary="One episode of care",
        responses={200: EpisodeSerializer, **problem_responses(404)},
        examples=[examples.EPISODE],
    ),
    create=extend_schema(
        summary="Admit a client (open an episode and its first placement)",
        description=(
            "Refused with 409 when the client already has an open episode or the program is "
            "full (occupied + reserved = capacity); a site manager of the program's site may "
            "admit beyond capacity with `capacity_override_reason`."
        ),
        request=AdmitSerializer,
        responses={201: EpisodeSerializer, **problem_responses(400, 403, 409)},
        examples=[examples.ADMIT, examples.EPISODE],
    ),
    discharge=extend_schema(
        summary="Discharge: close the episode and its placement",
        description="Requested or approved transfers of the episode are cancelled.",
        request=DischargeSerializer,
        responses={200: EpisodeSerializer, **problem_responses(400, 403, 404, 409)},
        examples=[examples.DISCHARGE],
    ),
)
class EpisodeViewSet(
    mixins.ListModelMixin,
    AuditedRetrieveMixin,
    VisibleModelViewSet,
):
    serializer_class = EpisodeSerializer
    filterset_class = EpisodeFilter
    audit_object_type = "episode"

    def visible_queryset(self, user):
        return access.episodes_visible_to(user)

    def with_relations(self, queryset):
        return queryset.select_related("admitted_by", "discharged_by").only(
            *concrete_fields(Episode), "admitted_by__username", "discharged_by__username"
        )

    def create(self, request):
        serializer = AdmitSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        episode = episodes.episode_admit(actor=request.user, **serializer.validated_data)
        return Response(EpisodeSerializer(episode).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def discharge(self, request, pk=None):
        episode = self.get_object()
        serializer = DischargeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        episode = episodes.episode_discharge(
            actor=request.user, episode=episode, **serializer.validated_data
        )
        return Response(EpisodeSerializer(self.get_queryset().get(pk=episode.pk)).data)


# --- placements ------------------------------------------------------------


class PlacementFilter(django_filters.FilterSet):
    program = django_filters.UUIDFilter(field_name="program_id")
    site = django_filters.UUIDFilter(field_name="program__site_id")
    level = django_filters.ChoiceFilter(field_name="program__level_id", choices=LevelCode.choices)
    client = django_filters.UUIDFilter(field_name="client_id")
    episode = django_filters.UUIDFilter(field_name="episode_id")
    current = BooleanFilter(
        field_name="ended_at", lookup_expr="isnull", help_text="true: open placements only."
    )


@extend_schema_view(
    list=extend_schema(
        summary="List placements (stays in a program)",
        responses={200: PlacementSerializer(many=True), **problem_responses(400)},
        examples=[examples.PLACEMENT],
    ),
    retrieve=extend_schema(
        summary="One placement",
        responses={200: PlacementSerializer, **problem_responses(404)},
        examples=[examples.PLACEMENT],
    ),
)
class PlacementViewSet(mixins.ListModelMixin, AuditedRetrieveMixin, VisibleModelViewSet):
    serializer_class = PlacementSerializer
    filterset_class = PlacementFilter
    audit_object_type = "placement"

    def visible_queryset(self, user):
        return access.placements_visible_to(user)

    def with_relations(self, queryset):
        return queryset.select_related("program__site").only(
            *concrete_fields(Placement),
            "program__name",
            "program__site_id",
            "program__level_id",
            "program__site__name",
        )


# --- transfers -------------------------------------------------------------


class TransferFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TransferStatus.choices)
    client = django_filters.UUIDFilter(field_name="client_id")
    to_program = django_filters.UUIDFilter(field_name="to_program_id")
    from_site = django_filters.UUIDFilter(field_name="from_program__site_id")
    to_site = django_filters.UUIDFilter(field_name="to_program__site_id")
    site = django_filters.UUIDFilter(method="filter_site", help_text="Sending or receiving site.")

    def filter_site(self, queryset, name, value):
        return queryset.filter(Q(from_program__site_id=value) | Q(to_program__site_id=value))


TRANSITION_ERRORS = problem_responses(400, 403, 404, 409)


@extend_schema_view(
    list=extend_schema(
        summary="List transfers",
        responses={200: TransferSerializer(many=True), **problem_responses(400)},
        examples=[examples.TRANSFER],
    ),
    retrieve=extend_schema(
        summary="One transfer with its history",
        responses={200: TransferSerializer, **problem_responses(404)},
        examples=[examples.TRANSFER],
    ),
    create=extend_schema(
        summary="Request a transfer (the sending side)",
        description="Moves the client from their current placement to `to_program`.",
        request=TransferRequestSerializer,
        responses={201: TransferSerializer, **TRANSITION_ERRORS},
        examples=[examples.TRANSFER_REQUEST, examples.TRANSFER],
    ),
    approve=extend_schema(
        summary="Approve a requested transfer (the receiving side); reserves the place",
        request=TransferApproveSerializer,
        responses={200: TransferSerializer, **TRANSITION_ERRORS},
        examples=[examples.TRANSFER_APPROVE],
    ),
    decline=extend_schema(
        summary="Decline a requested or approved transfer (the receiving side)",
        request=TransferReasonSerializer,
        responses={200: TransferSerializer, **TRANSITION_ERRORS},
        examples=[examples.TRANSFER_REASON],
    ),
    cancel=extend_schema(
        summary="Cancel a requested or approved transfer (the sending side)",
        request=TransferReasonSerializer,
        responses={200: TransferSerializer, **TRANSITION_ERRORS},
        examples=[examples.TRANSFER_REASON],
    ),
    complete=extend_schema(
        summary="Complete an approved transfer on arrival (the receiving side)",
        description="Closes the old placement and opens the new one at `arrived_at`, atomically.",
        request=TransferCompleteSerializer,
        responses={200: TransferSerializer, **TRANSITION_ERRORS},
        examples=[examples.TRANSFER_COMPLETE],
    ),
)
class TransferViewSet(mixins.ListModelMixin, AuditedRetrieveMixin, VisibleModelViewSet):
    serializer_class = TransferSerializer
    filterset_class = TransferFilter
    audit_object_type = "transfer"

    def visible_queryset(self, user):
        return access.transfers_visible_to(user)

    def with_relations(self, queryset):
        # Each program's site and level (the level's intensity gives the direction),
        # the requester's username, the hand-off's id: those columns only.
        programs = [
            f"{side}_program__{column}"
            for side in ("from", "to")
            for column in ("site_id", "level_id", "level__intensity")
        ]
        return (
            queryset.select_related(
                "from_program__level", "to_program__level", "requested_by", "handoff"
            )
            .only(*concrete_fields(Transfer), *programs, "requested_by__username", "handoff__id")
            .prefetch_related(
                Prefetch(
                    "events",
                    queryset=TransferEvent.objects.select_related("actor").only(
                        *concrete_fields(TransferEvent), "actor__username"
                    ),
                )
            )
        )

    def create(self, request):
        serializer = TransferRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        transfer = transfers.transfer_request(actor=request.user, **serializer.validated_data)
        return Response(self._render(transfer), status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._transition(transfers.transfer_approve, TransferApproveSerializer)

    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._transition(transfers.transfer_decline, TransferReasonSerializer)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(transfers.transfer_cancel, TransferReasonSerializer)

    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._transition(transfers.transfer_complete, TransferCompleteSerializer)

    def _transition(self, service, input_serializer):
        transfer = self.get_object()  # 404 before anything when not visible
        serializer = input_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        transfer = service(actor=self.request.user, transfer=transfer, **serializer.validated_data)
        return Response(self._render(transfer))

    def _render(self, transfer: Transfer) -> dict:
        return TransferSerializer(self.get_queryset().get(pk=transfer.pk)).data

"""Aftercare over HTTP: the alumni team's queue of follow-ups, attempts and
outcomes, reassignment, referrals back into care, and the client's plan.

Each view narrows to what the caller may see first (services.access: an
invisible record is a 404), parses its input, calls one function of
services/aftercare.py, and renders. Reads of clients' records are audited: a
list page or a single follow-up or referral by the base viewset (one bulk
insert per response), the plan by aftercare_plan_get; writes by the services.
"""

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.aftercare.api import examples
from backend.aftercare.api.serializers import (
    AftercarePlanSerializer,
    AftercarePlanWriteSerializer,
    AttemptSerializer,
    BulkReassignSerializer,
    ClientSummarySerializer,
    ContactAttemptSerializer,
    FollowUpAssigneeQuerySerializer,
    FollowUpAssigneeSerializer,
    FollowUpCompleteSerializer,
    FollowUpQuerySerializer,
    FollowUpSerializer,
    ReassignSerializer,
    ReferralAdmitSerializer,
    ReferralCancelSerializer,
    ReferralMatchSerializer,
    ReferralRegisterSerializer,
    ReferralSerializer,
)
from backend.aftercare.models import AftercarePlan, ContactAttempt, ReferralOrigin, ReferralStatus
from backend.api.schema import problem_responses
from backend.api.viewsets import AuditedRetrieveMixin, VisibleModelViewSet
from backend.care.models import Client
from backend.network.models import Program, Site
from services import access
from services.aftercare import follow_ups, plans, protocol, queue
from services.errors import InvalidInput
from services.errors import NotFound as DomainNotFound
from services.referrals import actions as referral_actions
from services.referrals import partner as partner_referrals

ACTION_ERRORS = problem_responses(400, 403, 404, 409)
PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1},
        description="A page number within the paginated result set.",
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1},
        description="Rows per page, 50 by default; more than 200 gives 200.",
    ),
]


def _validated(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- follow-ups ----------------------------------------------------------------


def with_relations(follow_ups):
    """Everything FollowUpSerializer reads, in a constant number of queries."""
    return follow_ups.select_related(
        "client",
        "site",
        "assignee",
        "plan",
        "from_program",
        "completed_by",
        "referral__client",
        "referral__to_program",
        "referral__created_by",
        "referral__partner_details__partner",
    ).prefetch_related(
        Prefetch("attempts", queryset=ContactAttempt.objects.select_related("by").order_by("at"))
    )


@extend_schema_view(
    list=extend_schema(
        summary="The follow-up queue",
        description=(
            "The follow-ups you may see, in one bucket (`status`, `due` by default), counted "
            "in the calendar day at each follow-up's site. `due` is ordered by the closing "
            "window, `overdue` and `upcoming` by due day, `completed` newest first. The "
            "morning queue is `?assignee=me` (due), then `?assignee=me&status=overdue`."
        ),
        parameters=[FollowUpQuerySerializer],
        responses={200: FollowUpSerializer(many=True), **problem_responses(400)},
        examples=[examples.FOLLOW_UP],
    ),
    # A description of its own for each operation: the view's docstring would
    # otherwise be AuditedRetrieveMixin's, which is about the code.
    retrieve=extend_schema(
        summary="One follow-up, with its attempts, outcome and referral",
        description="A follow-up you may not see is a 404, as if it did not exist.",
        responses={200: FollowUpSerializer, **problem_responses(404)},
        examples=[examples.FOLLOW_UP, examples.FOLLOW_UP_COMPLETED],
    ),
    attempts=extend_schema(
        summary="Record one attempt to reach the client",
        description=(
            "From the follow-up's due day on (409 before it). Phone, SMS and email need the "
            "client's consent on that channel (400 on `channel`); in person does not."
        ),
        request=AttemptSerializer,
        responses={201: ContactAttemptSerializer, **ACTION_ERRORS},
        examples=[examples.ATTEMPT_REQUEST, examples.ATTEMPT],
    ),
    complete=extend_schema(
        summary="Record the outcome; optionally refer the client back into care",
        description=(
            "`needs_readmission` with `refer_to_program` opens a referral to that treatment "
            "program (or, for a client still in an alumni program, requests the step-up "
            "transfer). A missed follow-up may still be completed late."
        ),
        request=FollowUpCompleteSerializer,
        responses={200: FollowUpSerializer, **ACTION_ERRORS},
        examples=[
            examples.COMPLETE_REQUEST,
            examples.COMPLETE_AND_REFER_REQUEST,
            examples.FOLLOW_UP_COMPLETED,
        ],
    ),
    reassign=extend_schema(
        summary="Give a follow-up to another alumni coordinator (null: unassign)",
        description=(
            "For the alumni team, the site's managers and organisation admins (403 otherwise), "
            "to an active alumni coordinator (400 naming `assignee` otherwise), while the "
            "follow-up is still work (409 otherwise). To whoever has it already: nothing changes."
        ),
        request=ReassignSerializer,
        responses={200: FollowUpSerializer, **ACTION_ERRORS},
        examples=[examples.REASSIGN_REQUEST, examples.FOLLOW_UP],
    ),
    reassign_bulk=extend_schema(
        summary="Reassign several follow-ups at once: all or none",
        description=(
            "At most 500. An id you cannot see is a 404 naming `follow_ups`, and nothing "
            "moves. Answers every follow-up named (those already the assignee's too), by due day."
        ),
        operation_id="follow_ups_reassign_bulk",
        request=BulkReassignSerializer,
        responses={200: FollowUpSerializer(many=True), **ACTION_ERRORS},
        examples=[examples.BULK_REASSIGN_REQUEST, examples.FOLLOW_UPS_REASSIGNED],
    ),
    assignees=extend_schema(
        summary="Whom follow-ups may be given to: the alumni coordinators, with their load",
        description=(
            "Every active alumni coordinator (the only people a follow-up may be assigned "
            "to), by username, with the sites whose alumni team they are on (and whether they "
            "lead it) and their open (scheduled or due) follow-ups at every site. For whoever "
            "may reassign follow-ups: the alumni team, organisation admins and site managers; "
            "anyone else gets an empty list. `site`: only the members of that site's alumni "
            "team; a site whose follow-ups you may not reassign is a 404 naming `site`."
        ),
        # drf-spectacular takes a custom action for a retrieve: name it a list, with its pages.
        operation_id="follow_ups_assignees_list",
        parameters=[FollowUpAssigneeQuerySerializer, *PAGE_PARAMETERS],
        responses={200: FollowUpAssigneeSerializer(many=True), **problem_responses(400, 404)},
        examples=[examples.ASSIGNEE],
    ),
)
class FollowUpViewSet(AuditedRetrieveMixin, VisibleModelViewSet):
    serializer_class = FollowUpSerializer
    audit_object_type = "follow_up"
    filter_backends = []  # the queue takes its own parameters (FollowUpQuerySerializer)

    def visible_queryset(self, user):
        return access.follow_ups_visible_to(user)

    def with_relations(self, queryset):
        return with_relations(queryset)

    def get_serializer_context(self):
        # FollowUpSerializer tells a single follow-up's `site_today` from the clock.
        return {**super().get_serializer_context(), "now": timezone.now()}

    def list(self, request):
        now = timezone.now()
        query = FollowUpQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        rows = queue.follow_up_queue(
            request.user,
            bucket=query.validated_data["status"],
            assignee=query.validated_data.get("assignee"),
            site_id=query.validated_data.get("site"),
            now=now,
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self._render(page, many=True, now=now))

    @action(detail=True, methods=["post"])
    def attempts(self, request, pk=None):
        follow_up = self.get_object()  # 404 before anything when not visible
        data = _validated(AttemptSerializer, request)
        attempt = follow_ups.attempt_record(actor=request.user, follow_up=follow_up, **data)
        return Response(ContactAttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        follow_up = self.get_object()
        data = _validated(FollowUpCompleteSerializer, request)
        if data.get("refer_to_program") is None:
            data.pop("refer_to_program", None)
        follow_up = follow_ups.follow_up_complete(actor=request.user, follow_up=follow_up, **data)
        return Response(self._render(self.get_queryset().get(pk=follow_up.pk)))

    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        follow_up = self.get_object()
        data = _validated(ReassignSerializer, request)
        follow_up = follow_ups.follow_up_reassign(
            actor=request.user, follow_up=follow_up, assignee=data["assignee"]
        )
        return Response(self._render(self.get_queryset().get(pk=follow_up.pk)))

    # Its own URL name: the detail action above is already "follow-up-reassign".
    @action(
        detail=False,
        methods=["post"],
        url_path="reassign",
        url_name="reassign-bulk",
        pagination_class=None,  # answers every follow-up it moved
    )
    def reassign_bulk(self, request):
        data = _validated(BulkReassignSerializer, request)
        moved = follow_ups.follow_ups_reassign_bulk(
            actor=request.user, follow_up_ids=data["follow_ups"], assignee=data["assignee"]
        )
        rows = self.get_queryset().filter(pk__in=[f.pk for f in moved])
        return Response(self._render(rows.order_by("due_on", "id"), many=True))

    @action(detail=False, methods=["get"])
    def assignees(self, request):
        query = FollowUpAssigneeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        users = protocol.follow_up_assignees(request.user, site_id=query.validated_data.get("site"))
        # The paginator itself, not self.paginate_queryset, which audits the
        # page as follow-ups: these are staff, and no client's record is read.
        page = self.paginator.paginate_queryset(users, request, view=self)
        return self.paginator.get_paginated_response(
            FollowUpAssigneeSerializer(page, many=True).data
        )

    def _render(self, follow_ups, *, many=False, now=None):
        context = {"now": now or timezone.now()}
        return FollowUpSerializer(follow_ups, many=many, context=context).data


# --- referrals -----------------------------------------------------------------


class ReferralFilter(django_filters.FilterSet):
    # No join, so no DISTINCT (django-filter's default for multiple choices).
    status = django_filters.MultipleChoiceFilter(choices=ReferralStatus.choices, distinct=False)
    source = django_filters.MultipleChoiceFilter(
        choices=ReferralOrigin.choices,
        distinct=False,
        help_text="`partner`: referrals from partner systems; the others are back into care.",
    )
    client = django_filters.UUIDFilter(field_name="client_id")
    to_program = django_filters.UUIDFilter(field_name="to_program_id")
    to_site = django_filters.UUIDFilter(
        field_name="to_program__site_id", help_text="The receiving program's site."
    )
    site = django_filters.UUIDFilter(
        method="filter_site",
        help_text=(
            "Referrals that a site's teams work: to one of its programs, or a partner's "
            "referral to that site (or to any of the partner's sites, where none was asked)."
        ),
    )

    def filter_site(self, queryset, name, value):
        return queryset.filter(access.referrals_of_site_q(value))


class ReferralDuplicateSerializer(ClientSummarySerializer):
    class Meta(ClientSummarySerializer.Meta):
        fields = [*ClientSummarySerializer.Meta.fields, "date_of_birth", "registered_site"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="List referrals: back into care, and from partner systems",
        description=(
            "Referrals you may see, newest first. A receiving team's work is "
            "`?status=open&site=<its site>`; `?source=partner` is what partner systems sent."
        ),
        responses={200: ReferralSerializer(many=True), **problem_responses(400)},
        examples=[examples.REFERRAL, examples.PARTNER_REFERRAL],
    ),
    retrieve=extend_schema(
        summary="One referral",
        responses={200: ReferralSerializer, **problem_responses(404)},
        examples=[examples.REFERRAL, examples.REFERRAL_ADMITTED, examples.PARTNER_REFERRAL],
    ),
    admit=extend_schema(
        summary="Admit the referred client (the receiving team)",
        description=(
            "An admission with every rule of `POST /episodes/` (the program's care team, "
            "capacity); the new episode is linked to the referral. A referral back into care "
            "admits into its own program; a partner's referral, once matched to a client, "
            "into the `program` given (one of its sites'). A referral that moves by a step-up "
            "transfer is admitted by completing that transfer instead (409)."
        ),
        request=ReferralAdmitSerializer,
        responses={200: ReferralSerializer, **ACTION_ERRORS},
        examples=[
            examples.REFERRAL_ADMIT_REQUEST,
            examples.REFERRAL_ADMIT_PARTNER_REQUEST,
            examples.REFERRAL_ADMITTED,
        ],
    ),
    cancel=extend_schema(
        summary="Withdraw (alumni team) or decline (receiving team) a referral back into care",
        description="A partner's referral is declined with `decline/` instead (409 here).",
        request=ReferralCancelSerializer,
        responses={200: ReferralSerializer, **ACTION_ERRORS},
        examples=[examples.REFERRAL_CANCEL_REQUEST, examples.REFERRAL],
    ),
    duplicates=extend_schema(
        summary="Clients who may be the person a partner referred (same name and date of birth)",
        description=(
            "Shown before matching or registering, never merged on their own; only clients "
            "you may see."
        ),
        responses={200: ReferralDuplicateSerializer(many=True), **problem_responses(403, 404, 409)},
        examples=[examples.REFERRAL_DUPLICATE],
    ),
    match=extend_schema(
        summary="A partner's referral: the person is this client of ours",
        request=ReferralMatchSerializer,
        responses={200: ReferralSerializer, **ACTION_ERRORS},
        examples=[examples.REFERRAL_MATCH_REQUEST, examples.REFERRAL],
    ),
    register=extend_schema(
        summary="A partner's referral: register the person as a new client",
        description="Registers a client from what the partner sent, and matches the referral.",
        request=ReferralRegisterSerializer,
        responses={200: ReferralSerializer, **ACTION_ERRORS},
        examples=[examples.REFERRAL],
    ),
    decline=extend_schema(
        summary="A partner's referral: decline it, with the reason the partner reads",
        request=ReferralCancelSerializer,
        responses={200: ReferralSerializer, **ACTION_ERRORS},
        examples=[examples.REFERRAL_DECLINE_REQUEST, examples.PARTNER_REFERRAL],
    ),
)
class ReferralViewSet(mixins.ListModelMixin, AuditedRetrieveMixin, VisibleModelViewSet):
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter
    audit_object_type = "referral"

    @staticmethod
    def audit_client_id(referral):
        # A partner's referral has no client until matched: its audit rows are
        # keyed by the referral (as services/referrals/partner.py writes them).
        return referral.client_id or referral.pk

    def visible_queryset(self, user):
        return access.referrals_visible_to(user).order_by("-created_at", "id")

    def with_relations(self, queryset):
        return queryset.select_related(
            "client", "to_program", "created_by", "partner_details__partner"
        )

    def _answer(self, referral) -> Response:
        return Response(ReferralSerializer(self.get_queryset().get(pk=referral.pk)).data)

    @action(detail=True, methods=["post"])
    def admit(self, request, pk=None):
        referral = self.get_object()
        data = _validated(ReferralAdmitSerializer, request)
        program_id = data.pop("program", None)
        partner_referrals.referral_admit_into(
            actor=request.user,
            referral=referral,
            program=None if program_id is None else _program(program_id),
            **data,
        )
        return self._answer(referral)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        referral = self.get_object()
        data = _validated(ReferralCancelSerializer, request)
        referral = referral_actions.referral_cancel(actor=request.user, referral=referral, **data)
        return self._answer(referral)

    # At most five clients, as a plain list: no pages.
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def duplicates(self, request, pk=None):
        referral = self.get_object()
        found = partner_referrals.partner_referral_duplicates(actor=request.user, referral=referral)
        return Response(ReferralDuplicateSerializer(found, many=True).data)

    @action(detail=True, methods=["post"])
    def match(self, request, pk=None):
        referral = self.get_object()
        data = _validated(ReferralMatchSerializer, request)
        client = Client.objects.filter(pk=data["client"]).first()
        if client is None:
            # As for a client the caller may not see (the service's answer): a 404,
            # so that the two cannot be told apart.
            raise DomainNotFound(field="client")
        partner_referrals.partner_referral_match(
            actor=request.user, referral=referral, client=client
        )
        return self._answer(referral)

    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        referral = self.get_object()
        data = _validated(ReferralRegisterSerializer, request)
        site = None
        if "registered_site" in data:
            site = Site.objects.filter(pk=data["registered_site"]).first()
            if site is None:
                raise InvalidInput("Unknown site.", field="registered_site")
        partner_referrals.partner_referral_register(
            actor=request.user, referral=referral, registered_site=site
        )
        return self._answer(referral)

    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        referral = self.get_object()
        data = _validated(ReferralCancelSerializer, request)
        partner_referrals.partner_referral_decline(actor=request.user, referral=referral, **data)
        return self._answer(referral)


def _program(program_id) -> Program:
    program = Program.objects.filter(pk=program_id).first()
    if program is None:
        raise InvalidInput("No such program.", field="program")
    return program


# --- the plan ------------------------------------------------------------------


PLAN_WRITE_ERRORS = problem_responses(400, 403, 404, 409)


class AftercarePlanView(APIView):
    """`/clients/{id}/aftercare-plan/`: the plan of the client's current (else
    latest) episode. Before anyone wrote it, GET answers the empty plan (no
    supports, no consent), with `id` null: a plan not written yet is not
    something the caller may not see, and its emptiness has a meaning (consent
    unknown counts as no). PUT replaces the whole plan, PATCH changes the
    fields given; both write it, creating it if needed."""

    @extend_schema(
        tags=["aftercare"],
        summary="The client's aftercare plan",
        description=(
            "The plan of the client's open episode, else of their latest. Not written yet: "
            "the empty plan, with `id` null. A client whose aftercare you may not see: 404."
        ),
        responses={200: AftercarePlanSerializer, **problem_responses(404)},
        examples=[examples.PLAN, examples.PLAN_UNWRITTEN],
    )
    def get(self, request, pk):
        client = self._client(request, pk)
        plan = plans.aftercare_plan_get(actor=request.user, client=client)
        return Response(AftercarePlanSerializer(plan or AftercarePlan(client=client)).data)

    @extend_schema(
        tags=["aftercare"],
        summary="Write the whole plan",
        description=(
            "Replaces the plan: fields left out are reset to their empty value (no, blank, "
            "null, none). Before discharge the care team of the client's program writes it, "
            "after discharge also the alumni team (403 otherwise). A client never admitted "
            "has no plan to write (409 `client_not_in_care`)."
        ),
        request=AftercarePlanWriteSerializer,
        responses={200: AftercarePlanSerializer, **PLAN_WRITE_ERRORS},
        examples=[examples.PLAN_PUT_REQUEST, examples.PLAN],
    )
    def put(self, request, pk):
        return self._write(request, pk, replace=True)

    @extend_schema(
        tags=["aftercare"],
        summary="Change some fields of the plan",
        description="Only the fields given change; the rules are those of PUT.",
        request=AftercarePlanWriteSerializer,
        responses={200: AftercarePlanSerializer, **PLAN_WRITE_ERRORS},
        examples=[examples.PLAN_PATCH_REQUEST, examples.PLAN],
    )
    def patch(self, request, pk):
        return self._write(request, pk, replace=False)

    def _write(self, request, pk, *, replace: bool) -> Response:
        client = self._client(request, pk)
        changes = _validated(AftercarePlanWriteSerializer, request)
        plan = plans.aftercare_plan_upsert(
            actor=request.user, client=client, changes=changes, replace=replace
        )
        return Response(AftercarePlanSerializer(plan).data)

    @staticmethod
    def _client(request, pk):
        client = access.aftercare_clients_visible_to(request.user).filter(pk=pk).first()
        if client is None:
            raise NotFound()  # missing, or not visible: the same answer
        return client

"""Aftercare: the plan a client leaves treatment with, and a year of follow-ups.

When a client steps down to alumni or is discharged, services/aftercare.py
makes sure the episode has an AftercarePlan and schedules one FollowUp per
milestone of the FollowUpProtocol that fits the program the client left.
The alumni team records ContactAttempts and completes each follow-up with
its outcome; a client who needs to come back into care is given a Referral,
which links the new episode (or the step-up transfer) to the earlier one.

Protocols are data, edited in the admin like the hand-off checklists: editing
one changes the follow-ups scheduled afterwards, never those already scheduled
(a follow-up keeps its milestone's code and name).

Rules live in services/aftercare.py; the database keeps the invariants that
matter (see each Meta), docs/aftercare.md describes both.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from backend.care.models import Client, Episode, Transfer
from backend.network.models import LevelOfCare, Program, Site

# --- the plan -----------------------------------------------------------------


class AftercarePlan(models.Model):
    """What supports the client leaves with, and whether and how they may be contacted.

    One per episode. It may be written while the client is still in treatment
    (the care team prepares it before the step-down or discharge); the step-down
    or discharge creates an empty one when none was written. The contact
    window is in the time zone of the site responsible for the follow-ups.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="aftercare_plans")
    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="aftercare_plan")

    # Recovery supports: each a yes/no with who, where or what.
    outpatient_therapist = models.BooleanField(default=False)
    outpatient_therapist_details = models.TextField(blank=True)
    mutual_help_meetings = models.BooleanField(default=False)
    mutual_help_meetings_details = models.TextField(blank=True)
    medication_for_addiction_treatment = models.BooleanField(default=False)
    medication_for_addiction_treatment_details = models.TextField(blank=True)
    sober_living = models.BooleanField(default=False)
    sober_living_details = models.TextField(blank=True)
    other_supports = models.TextField(blank=True)
    relapse_prevention_notes = models.TextField(blank=True)

    emergency_contact_name = models.CharField(max_length=160, blank=True)
    emergency_contact_phone = models.CharField(max_length=40, blank=True)
    emergency_contact_relationship = models.CharField(max_length=80, blank=True)

    # Consent to be contacted after treatment: unknown counts as no.
    consent_to_contact = models.BooleanField(default=False)
    consent_phone = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    consent_email = models.BooleanField(default=False)
    # Preferred times, in the responsible site's time zone; both blank: any time.
    contact_hours_from = models.TimeField(null=True, blank=True)
    contact_hours_to = models.TimeField(null=True, blank=True)
    # ISO weekdays (1 Monday ... 7 Sunday); empty: any day.
    contact_days = models.JSONField(default=list, blank=True)

    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_to_contact=True)
                | Q(consent_phone=False, consent_sms=False, consent_email=False),
                name="aftercare_plan_channels_need_consent",
            ),
            models.CheckConstraint(
                condition=Q(contact_hours_from__isnull=True, contact_hours_to__isnull=True)
                | Q(
                    contact_hours_from__isnull=False,
                    contact_hours_to__isnull=False,
                    contact_hours_from__lt=F("contact_hours_to"),
                ),
                name="aftercare_plan_contact_hours_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Aftercare plan of {self.client}"

    @property
    def consented_channels(self) -> list[str]:
        """The channels the client agreed to be contacted on (none without consent)."""
        if not self.consent_to_contact:
            return []
        flags = (
            (ContactChannel.PHONE, self.consent_phone),
            (ContactChannel.SMS, self.consent_sms),
            (ContactChannel.EMAIL, self.consent_email),
        )
        return [channel for channel, given in flags if given]


# --- protocols: data, edited in the admin --------------------------------------


class FollowUpProtocol(models.Model):
    """The milestones of the follow-ups after leaving a program.

    Scoped to a program, a level, or neither (the default). The program the
    client leaves picks the protocol: its own beats its level's, which beats
    the default. At most one active protocol per scope.
    """

    name = models.CharField(max_length=120, unique=True)
    level = models.ForeignKey(
        LevelOfCare, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__isnull=True) | Q(program__isnull=True),
                name="followup_protocol_one_scope",
            ),
            models.UniqueConstraint(
                fields=["program"],
                condition=Q(is_active=True, program__isnull=False),
                name="followup_protocol_one_active_per_program",
            ),
            models.UniqueConstraint(
                fields=["level"],
                condition=Q(is_active=True, level__isnull=False),
                name="followup_protocol_one_active_per_level",
            ),
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True, level__isnull=True, program__isnull=True),
                name="followup_protocol_one_active_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OffsetUnit(models.TextChoices):
    # Hours are elapsed time from the anchor; days are calendar days at the site.
    HOURS = "hours", "Hours"
    DAYS = "days", "Days"


class FollowUpMilestone(models.Model):
    """One follow-up of a protocol: due `offset` hours or days after the anchor,
    with `window_days` more days to reach the client."""

    protocol = models.ForeignKey(
        FollowUpProtocol, on_delete=models.CASCADE, related_name="milestones"
    )
    position = models.PositiveSmallIntegerField(default=0)
    # Stable, short: metrics group by it ("48h", "7d", "30d"...).
    code = models.SlugField(max_length=20)
    name = models.CharField(max_length=80)
    offset = models.PositiveIntegerField()
    offset_unit = models.CharField(max_length=5, choices=OffsetUnit.choices)
    window_days = models.PositiveSmallIntegerField(default=3)

    class Meta:
        ordering = ["protocol", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "code"], name="followup_milestone_code"),
            models.CheckConstraint(condition=Q(offset__gte=1), name="followup_milestone_offset"),
            models.CheckConstraint(
                condition=Q(offset_unit__in=OffsetUnit.values),
                name="followup_milestone_offset_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


# --- follow-ups -----------------------------------------------------------------


class FollowUpStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    DUE = "due", "Due (its window is open)"
    COMPLETED = "completed", "Completed"
    MISSED = "missed", "Missed (its window closed)"
    CANCELLED = "cancelled", "Cancelled"


# Open: not yet done, and its window not yet closed (as far as the scan knows).
OPEN_FOLLOW_UP_STATUSES = (FollowUpStatus.SCHEDULED, FollowUpStatus.DUE)
# Still work for the alumni team: open, or missed but not ended. A missed
# follow-up may be completed late until its course ends (readmission, death).
ACTIONABLE = Q(status__in=OPEN_FOLLOW_UP_STATUSES) | Q(
    status=FollowUpStatus.MISSED, ended_at__isnull=True
)


class SelfReportedStatus(models.TextChoices):
    IN_RECOVERY = "in_recovery", "In recovery"
    USING = "using", "Using"
    RELAPSED = "relapsed", "Relapsed"
    IN_TREATMENT_ELSEWHERE = "in_treatment_elsewhere", "In treatment elsewhere"
    DECLINED_TO_SAY = "declined_to_say", "Declined to say"
    DECEASED = "deceased", "Deceased"


class FollowUp(models.Model):
    """One check-in with a client after treatment, due on a site-local day.

    `anchor_at` is the instant the client stepped down to alumni or was
    discharged; the follow-ups scheduled from one anchor are a course.
    `due_on` and `window_ends_on` are calendar days at `site`, the site
    responsible for the follow-up.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="follow_ups")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="follow_ups")
    plan = models.ForeignKey(AftercarePlan, on_delete=models.PROTECT, related_name="follow_ups")
    protocol = models.ForeignKey(FollowUpProtocol, on_delete=models.PROTECT, related_name="+")
    milestone = models.SlugField(max_length=20)
    milestone_name = models.CharField(max_length=80)
    # The program the client left (its protocol, its level for metrics) and the
    # site responsible (the alumni program's on a step-down, else the one left).
    from_program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="follow_ups")
    anchor_at = models.DateTimeField()
    due_on = models.DateField()
    window_ends_on = models.DateField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_follow_ups",
    )
    status = models.CharField(
        max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.SCHEDULED
    )

    # The outcome, set on completion.
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reached = models.BooleanField(null=True, blank=True)
    self_reported_status = models.CharField(
        max_length=30, choices=SelfReportedStatus.choices, blank=True
    )
    engaged_meetings = models.BooleanField(default=False)
    engaged_therapy = models.BooleanField(default=False)
    engaged_medication = models.BooleanField(default=False)
    needs_housing = models.BooleanField(default=False)
    needs_employment = models.BooleanField(default=False)
    needs_readmission = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    # The course ended before this follow-up was done (readmission, death):
    # a scheduled or due one is cancelled; a missed one stays missed (it was
    # missed) but leaves the queue.
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=200, blank=True)

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "anchor_at", "milestone"], name="followup_once_per_course"
            ),
            models.CheckConstraint(
                condition=Q(status__in=FollowUpStatus.values), name="followup_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(window_ends_on__gte=F("due_on")), name="followup_window_after_due"
            ),
            models.CheckConstraint(
                condition=Q(
                    status=FollowUpStatus.COMPLETED,
                    completed_at__isnull=False,
                    completed_by__isnull=False,
                    reached__isnull=False,
                )
                | (
                    ~Q(status=FollowUpStatus.COMPLETED)
                    & Q(completed_at__isnull=True, completed_by__isnull=True, reached__isnull=True)
                ),
                name="followup_completed_iff_outcome",
            ),
            models.CheckConstraint(
                condition=Q(status=FollowUpStatus.CANCELLED, ended_at__isnull=False)
                | Q(status=FollowUpStatus.MISSED)
                | Q(status__in=[*OPEN_FOLLOW_UP_STATUSES, FollowUpStatus.COMPLETED], ended_at=None),
                name="followup_ended_only_cancelled_or_missed",
            ),
        ]
        indexes = [
            # The scan and the queue read open follow-ups by date: partial, so
            # their cost does not grow with completed and cancelled history.
            models.Index(
                fields=["due_on"],
                condition=Q(status__in=OPEN_FOLLOW_UP_STATUSES),
                name="followup_open_due_on",
            ),
            models.Index(
                fields=["window_ends_on"],
                condition=Q(status__in=OPEN_FOLLOW_UP_STATUSES),
                name="followup_open_window_ends",
            ),
            # A coordinator's queue, and the load that balances assignment.
            models.Index(
                fields=["assignee", "due_on"],
                condition=ACTIONABLE,
                name="followup_actionable_assignee",
            ),
            models.Index(
                fields=["site", "due_on"], condition=ACTIONABLE, name="followup_actionable_site"
            ),
            models.Index(fields=["assignee", "completed_at"], name="followup_assignee_done"),
        ]

    def __str__(self) -> str:
        return f"{self.milestone_name} follow-up of {self.client} due {self.due_on}"


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"
    IN_PERSON = "in_person", "In person"


class AttemptResult(models.TextChoices):
    REACHED = "reached", "Reached"
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    WRONG_NUMBER = "wrong_number", "Wrong number or address"
    DECLINED = "declined", "Declined to talk"


class ContactAttempt(models.Model):
    """One try to reach the client for a follow-up: how, when, with what result."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="attempts")
    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    at = models.DateTimeField()
    result = models.CharField(max_length=15, choices=AttemptResult.choices)
    notes = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["follow_up", "at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=ContactChannel.values), name="contact_attempt_channel"
            ),
            models.CheckConstraint(
                condition=Q(result__in=AttemptResult.values), name="contact_attempt_result"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.at:%Y-%m-%d %H:%M}: {self.result}"


# Automated nudges go out on these channels only: a phone call is a person's job.
NUDGE_CHANNELS = (ContactChannel.SMS, ContactChannel.EMAIL)


class FollowUpNudge(models.Model):
    """A short check-in message sent to the client when a follow-up became due.

    Not a ContactAttempt: nobody tried to reach the client, and counting it
    would distort the escalation after failed attempts and the reach rate.
    One per follow-up and channel, whatever happens to the work that sends it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="nudges")
    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    sent_at = models.DateTimeField()
    # What the gateway called the message (an SMS provider's id), for tracing.
    reference = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["follow_up", "sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["follow_up", "channel"], name="followup_nudge_once_per_channel"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in NUDGE_CHANNELS]),
                name="followup_nudge_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} nudge {self.sent_at:%Y-%m-%d %H:%M}"


# --- the alumni team ----------------------------------------------------------------


class AlumniTeamMembership(models.Model):
    """An alumni coordinator who takes follow-ups of a site.

    The alumni coordinator role is organisation-wide (services/access.py); which
    sites' follow-ups a coordinator is given is this data, edited in the admin.
    Only members who hold the role are given follow-ups.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alumni_memberships"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="alumni_memberships")
    # The site's alumni lead: hears of the follow-ups that need more than the
    # assignee (3 failed attempts, a window closed). A site may have several,
    # or none (the organisation admins hear instead).
    is_lead = models.BooleanField(
        "alumni lead",
        default=False,
        help_text="Escalations of this site's follow-ups go to its leads.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="alumni_membership_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on the alumni team of {self.site}"


# --- referral back into care ---------------------------------------------------------


class ReferralStatus(models.TextChoices):
    OPEN = "open", "Open (waiting for the admission)"
    ADMITTED = "admitted", "Admitted"
    CANCELLED = "cancelled", "Cancelled"
    # A partner's referral the receiving team turned down, with a reason the partner reads.
    DECLINED = "declined", "Declined"


class ReferralOrigin(models.TextChoices):
    """Where a referral comes from. Each source opens the same Referral and it
    ends the same way (services/referrals/)."""

    AFTERCARE = "aftercare", "A follow-up of the alumni team (back into care)"
    # A partner system's referral of a person (backend.partners.PartnerReferral holds
    # who they are until a coordinator matches or registers the client).
    PARTNER = "partner", "A partner system (hospital, payer, another provider)"


class Referral(models.Model):
    """A client referred into care, to a chosen program: from a follow-up
    (`source` aftercare, a client back into care) or from a partner system
    (`source` partner: a person not yet matched to a client, a level of care
    and perhaps a site, until a coordinator matches the person and admits).

    A discharged client is readmitted by the receiving team's admission, which
    links the new episode here. A client still in the alumni program moves by a
    step-up transfer instead, requested with the referral; its completion admits.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Empty only for a partner referral not yet matched to a client.
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    from_episode = models.ForeignKey(
        Episode, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_out"
    )
    from_follow_up = models.OneToOneField(
        FollowUp, null=True, blank=True, on_delete=models.PROTECT, related_name="referral"
    )
    # Empty only for a partner referral: the program is chosen at admission.
    to_program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_in"
    )
    source = models.CharField(
        max_length=20, choices=ReferralOrigin.choices, default=ReferralOrigin.AFTERCARE
    )
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.OPEN
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField()
    # A partner's referral is created by the partner's service user.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The readmission: a new episode, or the step-up transfer within the episode.
    new_episode = models.OneToOneField(
        Episode, null=True, blank=True, on_delete=models.PROTECT, related_name="referral_in"
    )
    transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="referral"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReferralStatus.values), name="referral_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=ReferralOrigin.values), name="referral_source_valid"
            ),
            # A referral back into care names the follow-up that found the need.
            models.CheckConstraint(
                condition=~Q(source=ReferralOrigin.AFTERCARE) | Q(from_follow_up__isnull=False),
                name="referral_aftercare_has_follow_up",
            ),
            models.CheckConstraint(
                condition=~Q(source=ReferralOrigin.AFTERCARE)
                | Q(client__isnull=False, from_episode__isnull=False, to_program__isnull=False),
                name="referral_aftercare_complete",
            ),
            # Admitted means a client: a partner referral is matched before it admits.
            models.CheckConstraint(
                condition=~Q(status=ReferralStatus.ADMITTED) | Q(client__isnull=False),
                name="referral_admitted_has_client",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status=ReferralStatus.OPEN),
                name="referral_one_open_per_client",
            ),
            models.CheckConstraint(
                condition=~Q(new_episode=F("from_episode")), name="referral_new_episode_differs"
            ),
            models.CheckConstraint(
                condition=Q(new_episode__isnull=True) | Q(status=ReferralStatus.ADMITTED),
                name="referral_new_episode_means_admitted",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReferralStatus.ADMITTED)
                | Q(new_episode__isnull=False)
                | Q(transfer__isnull=False),
                name="referral_admitted_has_readmission",
            ),
            models.CheckConstraint(
                condition=Q(status=ReferralStatus.OPEN, closed_at__isnull=True)
                | (~Q(status=ReferralStatus.OPEN) & Q(closed_at__isnull=False)),
                name="referral_closed_iff_not_open",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral of {self.client} to {self.to_program} ({self.status})"

"""The workspaces' forms: the shape and types of what a user sends, nothing more.

Every rule (who may, capacity, dates, reasons, consent) belongs to the service
the view calls; its refusal comes back through actions.show_error, next to the
field it names. A field left optional here may still be required by the
service (a decline's reason): the message is then the service's own.
"""

from django import forms

from backend.aftercare.models import AttemptResult, ContactChannel, SelfReportedStatus
from backend.care.models import DischargeType, ReferralSource
from backend.workspaces.actions import OnceForm
from backend.workspaces.widgets import PythonRenderer


def _text(**kwargs):
    return forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), **kwargs)


def _date(**kwargs):
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **kwargs)


def program_label(program) -> str:
    """A program as a choice: where, and whether it has room now."""
    room = (
        f"{program.available} of {program.capacity} available"
        if program.available > 0
        else f"no room: {program.occupied} occupied, {program.reserved} reserved "
        f"of {program.capacity}"
    )
    return f"{program.site.name} · {program.name} ({room})"


class ObjectChoiceField(forms.ChoiceField):
    """A choice among objects read once per page (a ModelChoiceField would query
    again for every form that renders it: a page with a form per row would
    cost a query per row). Cleans to the object."""

    def __init__(self, *, label_of=str, empty_label=None, **kwargs):
        super().__init__(**kwargs)
        self.label_of = label_of
        self.empty_label = empty_label
        self.objects = {}

    def set_objects(self, objects) -> None:
        self.objects = {str(obj.pk): obj for obj in objects}
        choices = [(key, self.label_of(obj)) for key, obj in self.objects.items()]
        if self.empty_label is not None:
            choices.insert(0, ("", self.empty_label))
        self.choices = choices

    def clean(self, value):
        value = super().clean(value)
        return self.objects.get(value) if value else None


# One for every form (its template engine is built once): its widgets and labels
# are written in Python, not through a template each (widgets.py).
RENDERER = PythonRenderer()


class WorkspaceForm(OnceForm):
    """A form that knows where it posts, its button and its element id."""

    submit_label = "Save"
    default_renderer = RENDERER

    def __init__(self, *args, action: str, form_id: str, **kwargs):
        kwargs.setdefault("auto_id", f"{form_id}-%s")
        super().__init__(*args, **kwargs)
        self.action = action
        self.form_id = form_id


class RegisterForm(WorkspaceForm):
    submit_label = "Register"
    first_name = forms.CharField(max_length=80)
    last_name = forms.CharField(max_length=80)
    date_of_birth = _date()
    preferred_name = forms.CharField(max_length=80, required=False)
    phone = forms.CharField(max_length=40, required=False)
    email = forms.EmailField(max_length=254, required=False)
    registered_site = ObjectChoiceField(required=False, label="Site")
    # Set by the page that showed the likely duplicates: register anyway.
    not_a_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["registered_site"].set_objects(sites)


class AdmitForm(WorkspaceForm):
    submit_label = "Admit"
    program = ObjectChoiceField(label_of=program_label)
    referral_source = forms.ChoiceField(
        choices=[("", "—"), *ReferralSource.choices], required=False
    )
    capacity_override_reason = _text(
        label="Capacity override reason",
        help_text="Site managers only: admit beyond capacity, for this reason.",
    )

    def __init__(self, *args, programs, may_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].set_objects(programs)
        if not may_override:
            del self.fields["capacity_override_reason"]


class TransferRequestForm(WorkspaceForm):
    submit_label = "Request transfer"
    to_program = ObjectChoiceField(label_of=program_label, label="To program")
    planned_for = _date(required=False, label="Planned for")
    reason = _text()
    handoff_notes = _text(label="Hand-off notes", help_text="For the receiving team.")

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_program"].set_objects(programs)


class DischargeForm(WorkspaceForm):
    submit_label = "Discharge"
    discharge_type = forms.ChoiceField(choices=DischargeType.choices, label="Discharge type")
    notes = _text()


class ApproveForm(WorkspaceForm):
    submit_label = "Approve"
    reason = _text(label="Note")
    capacity_override_reason = _text(
        label="Capacity override reason",
        help_text="Site managers only: approve beyond capacity, for this reason.",
    )

    def __init__(self, *args, may_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_override:
            del self.fields["capacity_override_reason"]


class ReasonForm(WorkspaceForm):
    """Decline or cancel: the service requires the reason."""

    reason = _text(label="Reason")

    def __init__(self, *args, submit_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.submit_label = submit_label


class CompleteForm(WorkspaceForm):
    submit_label = "Client arrived: complete"
    handoff_override_reason = _text(
        label="Checklist override reason",
        help_text="Only when mandatory checklist items are still open.",
    )


class ConfirmForm(WorkspaceForm):
    """An action with nothing to fill in (acknowledge a hand-off)."""

    def __init__(self, *args, submit_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.submit_label = submit_label


class TickForm(WorkspaceForm):
    submit_label = "Tick"
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, item_label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].label = f"Note on “{item_label}”" if item_label else "Note"
        self.submit_label = f"Tick “{item_label}”" if item_label else "Tick"


class AttemptForm(WorkspaceForm):
    submit_label = "Record attempt"
    channel = forms.ChoiceField(choices=ContactChannel.choices)
    result = forms.ChoiceField(choices=AttemptResult.choices)
    notes = _text()


class OutcomeForm(WorkspaceForm):
    submit_label = "Record outcome"
    reached = forms.TypedChoiceField(
        choices=[("yes", "Yes, the client was reached"), ("no", "No")],
        coerce=lambda value: value == "yes",
        label="Reached?",
    )
    self_reported_status = forms.ChoiceField(
        choices=[("", "—"), *SelfReportedStatus.choices],
        required=False,
        label="Self-reported status",
    )
    engaged_meetings = forms.BooleanField(required=False, label="Goes to meetings")
    engaged_therapy = forms.BooleanField(required=False, label="In therapy")
    engaged_medication = forms.BooleanField(required=False, label="Takes medication for recovery")
    needs_housing = forms.BooleanField(required=False, label="Needs housing")
    needs_employment = forms.BooleanField(required=False, label="Needs employment")
    needs_readmission = forms.BooleanField(required=False, label="Needs readmission")
    refer_to_program = ObjectChoiceField(
        label_of=program_label, required=False, label="Refer to program", empty_label="—"
    )
    referral_notes = _text(label="Referral notes", help_text="For the receiving team.")
    notes = _text()

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["refer_to_program"].set_objects(programs)


class ReassignForm(WorkspaceForm):
    submit_label = "Reassign"
    assignee = ObjectChoiceField(
        required=False,
        empty_label="Nobody",
        label_of=lambda user: (
            f"{user.get_full_name() or user.username} ({user.open_follow_ups} open)"
        ),
    )

    def __init__(self, *args, assignees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].set_objects(assignees)


class MatchForm(WorkspaceForm):
    """A partner's referral: "this person is that client" (a likely duplicate)."""

    client = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, submit_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.submit_label = submit_label


class ReferralAdmitForm(AdmitForm):
    """A partner's referral, matched: admit into a program of its sites (the
    referral is the source of the admission)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["referral_source"]

"""The one family of domain errors. backend/api/errors.py maps them to HTTP.

Messages are constants so tests can import what they assert.
"""


class DomainError(Exception):
    """Base class: `code` is stable and machine-readable, `message` is for people."""

    code = "domain_error"
    default_message = "The request could not be carried out."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)


class NotFound(DomainError):
    """Missing, or not visible to the caller: the two are deliberately the same."""

    code = "not_found"
    default_message = "Not found."


class NotPermitted(DomainError):
    """The caller may see the object but may not take this action on it."""

    code = "not_permitted"
    default_message = "You may not do this."


class InvalidInput(DomainError):
    """A value breaks a domain rule; `field` names it."""

    code = "invalid"
    default_message = "Invalid value."


class Unprocessable(DomainError):
    """Well-formed, but not what this request may be (an idempotency key reused
    with another request); `field` names what is wrong."""

    code = "unprocessable"
    default_message = "The request cannot be processed."


class Conflict(DomainError):
    """The request is well-formed but the current state forbids it."""

    code = "conflict"
    default_message = "The current state does not allow this."


class CapacityExceeded(Conflict):
    code = "capacity_exceeded"
    default_message = "The program is full: occupied and reserved places reach its capacity."


class IllegalTransition(Conflict):
    code = "illegal_transition"


class ClientAlreadyInCare(Conflict):
    code = "client_in_care"
    default_message = "The client already has an open episode of care."


class ClientNotInCare(Conflict):
    code = "client_not_in_care"
    default_message = "The client has no open episode of care."


class TransferAlreadyActive(Conflict):
    code = "transfer_active"
    default_message = "The client already has a requested or approved transfer."


class EpisodeClosed(Conflict):
    code = "episode_closed"
    default_message = "The episode is already discharged."


# Messages the tests assert on.
MSG_NOT_YOUR_PROGRAM = "You are not on the care team of this program's site."
MSG_OVERRIDE_NOT_ALLOWED = "Only a site manager of the program's site may override its capacity."
MSG_TIME_IN_FUTURE = "Must not be in the future."
MSG_SAME_PROGRAM = "The client is already placed in this program."
MSG_PROGRAM_INACTIVE = "This program is not accepting clients."
MSG_REASON_REQUIRED = "A reason is required."
MSG_BEFORE_PLACEMENT = "Must be after the start of the client's current placement."
MSG_ARRIVAL_BEFORE_APPROVAL = "Must not be before the transfer was approved."
MSG_BEFORE_BIRTH = "Must not be before the client's date of birth."
MSG_BEFORE_LAST_DISCHARGE = "Must be after the client's previous discharge."
MSG_SITE_REQUIRED = "Required unless you work at exactly one site."
MSG_NOT_CLIENTS_TEAM = (
    "Only the registering site's team or the team of the client's current program "
    "may change this client."
)
MSG_MRN_ADMIN_ONLY = "Only organisation admins choose or change a medical record number."
MSG_MRN_TAKEN = "This medical record number is already in use."
MSG_BORN_AFTER_ADMISSION = "Must not be after the client's first admission."
MSG_DOB_RANGE = "Must be a date between 1900-01-01 and today."
MSG_PLANNED_IN_PAST = "Must not be before today."
# Working a follow-up, or withdrawing the referral it opened.
MSG_NOT_ALUMNI_TEAM = "Only the alumni team, the site's staff and organisation admins may do this."


def illegal_transition(current: str, action: str) -> IllegalTransition:
    return IllegalTransition(f"A {current} transfer cannot be {action}.")

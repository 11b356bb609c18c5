"""Request and response examples for the OpenAPI document (synthetic data)."""

from drf_spectacular.utils import OpenApiExample

from backend.care.api.examples import CLIENT_ID, DETOX_ID, EPISODE_ID, SITE_ID

FOLLOW_UP_ID = "4a6c8e0b-2d4f-4b6a-9c8e-0a2c4e6b8d11"
PLAN_ID = "6b8d0f2a-4c6e-4d8a-8b0c-2e4a6c8e0f22"
ATTEMPT_ID = "8c0e2a4b-6d8f-4f1a-9b3c-5d7e9f1a3b33"
REFERRAL_ID = "1e3a5c7b-9d1f-4a3c-8e5b-7d9f1b3d5e44"
IOP_ID = "3f5b7d9a-1c3e-4e5a-9b7d-1f3a5c7e9b55"
NEW_EPISODE_ID = "5a7c9e1b-3d5f-4a7c-8e9b-3a5c7e9b1d66"

CLIENT_SUMMARY = {
    "id": CLIENT_ID,
    "mrn": "CN04817263",
    "first_name": "Jordan",
    "last_name": "Rivera",
    "preferred_name": "",
}
REFERRAL_VALUE = {
    "id": REFERRAL_ID,
    "client": CLIENT_SUMMARY,
    "from_episode": EPISODE_ID,
    "from_follow_up": FOLLOW_UP_ID,
    "to_program": DETOX_ID,
    "to_program_name": "Austin Detox",
    "to_site": SITE_ID,
    "to_level": "detox",
    "source": "aftercare",
    "status": "open",
    "notes": "Using daily again; wants detox.",
    "created_at": "2026-11-10T15:20:00Z",
    "created_by": "alumni.coordinator",
    "new_episode": None,
    "transfer": None,
    "closed_at": None,
    "cancelled_reason": "",
    "partner": None,
}
PARTNER_REFERRAL_ID = "2d4f6a8c-0e2a-4c6e-8a0c-2e4a6c8e0a77"
PARTNER_ID = "9e1a3c5e-7a9c-4e1a-9c3e-5a7c9e1a3c88"
PARTNER_REFERRAL_VALUE = {
    **REFERRAL_VALUE,
    "id": PARTNER_REFERRAL_ID,
    "client": None,
    "from_episode": None,
    "from_follow_up": None,
    "to_program": None,
    "to_program_name": None,
    "to_site": None,
    "to_level": None,
    "source": "partner",
    "notes": "Alcohol withdrawal, CIWA 14; medically stable for transport.",
    "created_by": "partner-st-example-hospital",
    "partner": {
        "partner": PARTNER_ID,
        "partner_name": "St. Example Hospital",
        "first_name": "Jordan",
        "last_name": "Example",
        "date_of_birth": "1990-04-01",
        "phone": "+15125550100",
        "email": "",
        "requested_level": "detox",
        "requested_site": SITE_ID,
        "urgency": "urgent",
        "payer": "Example Health Plan",
        "clinical_summary": "Alcohol withdrawal, CIWA 14; medically stable for transport.",
        "referrer_name": "Dana Planner, RN",
        "referrer_phone": "+15125550199",
        "referrer_email": "",
        "consent_reference": "ST-EX-2026-0412",
    },
}
FOLLOW_UP_VALUE = {
    "id": FOLLOW_UP_ID,
    "client": {**CLIENT_SUMMARY, "phone": "512-555-0142", "email": ""},
    "episode": EPISODE_ID,
    "milestone": "7d",
    "milestone_name": "7 days",
    "status": "due",
    "anchor_at": "2026-11-03T16:00:00Z",
    "due_on": "2026-11-10",
    "window_ends_on": "2026-11-13",
    "site": SITE_ID,
    "site_name": "Austin",
    "site_today": "2026-11-10",
    "from_program": IOP_ID,
    "from_program_name": "Austin IOP",
    "from_level": "iop",
    "assignee": 7,
    "assignee_username": "alumni.coordinator",
    "plan": {
        "id": PLAN_ID,
        "consent_to_contact": True,
        "consented_channels": ["phone", "sms"],
        "contact_hours_from": "09:00:00",
        "contact_hours_to": "18:00:00",
        "contact_days": [1, 2, 3, 4, 5],
        "time_zone": "America/Chicago",
    },
    "attempts": [
        {
            "id": ATTEMPT_ID,
            "channel": "phone",
            "result": "no_answer",
            "at": "2026-11-10T15:05:00Z",
            "notes": "",
            "by": "alumni.coordinator",
            "recorded_at": "2026-11-10T15:06:00Z",
        }
    ],
    "completed_at": None,
    "completed_by": None,
    "reached": None,
    "self_reported_status": None,
    "engaged_meetings": False,
    "engaged_therapy": False,
    "engaged_medication": False,
    "needs_housing": False,
    "needs_employment": False,
    "needs_readmission": False,
    "notes": "",
    "referral": None,
    "ended_at": None,
    "ended_reason": "",
    "created_at": "2026-11-03T16:00:00Z",
    "updated_at": "2026-11-10T15:06:00Z",
}

FOLLOW_UP = OpenApiExample(
    "A 7-day follow-up, due today, one attempt so far",
    value=FOLLOW_UP_VALUE,
    response_only=True,
)
FOLLOW_UP_COMPLETED = OpenApiExample(
    "Completed: reached, relapsed, referred back to detox",
    value={
        **FOLLOW_UP_VALUE,
        "status": "completed",
        "completed_at": "2026-11-10T15:20:00Z",
        "completed_by": "alumni.coordinator",
        "reached": True,
        "self_reported_status": "relapsed",
        "needs_readmission": True,
        "notes": "Lost their job; drinking daily for a week.",
        "referral": REFERRAL_VALUE,
    },
    response_only=True,
)
# One follow-up of the list: drf-spectacular shows it inside the array the view answers.
FOLLOW_UPS_REASSIGNED = OpenApiExample(
    "Reassigned",
    value={**FOLLOW_UP_VALUE, "assignee": 9, "assignee_username": "alumni.lead"},
    response_only=True,
)
ATTEMPT_REQUEST = OpenApiExample(
    "A call, no answer",
    value={"channel": "phone", "result": "no_answer", "notes": "Voicemail full."},
    request_only=True,
)
ATTEMPT = OpenApiExample(
    "The attempt recorded",
    value={
        "id": ATTEMPT_ID,
        "channel": "phone",
        "result": "no_answer",
        "at": "2026-11-10T15:05:00Z",
        "notes": "Voicemail full.",
        "by": "alumni.coordinator",
        "recorded_at": "2026-11-10T15:05:00Z",
    },
    response_only=True,
)
COMPLETE_REQUEST = OpenApiExample(
    "Reached, in recovery",
    value={
        "reached": True,
        "self_reported_status": "in_recovery",
        "engaged_meetings": True,
        "notes": "Three meetings a week; sponsor found.",
    },
    request_only=True,
)
COMPLETE_AND_REFER_REQUEST = OpenApiExample(
    "Reached, relapsed: refer back to detox",
    value={
        "reached": True,
        "self_reported_status": "relapsed",
        "needs_readmission": True,
        "refer_to_program": DETOX_ID,
        "referral_notes": "Using daily again; wants detox.",
    },
    request_only=True,
)
REASSIGN_REQUEST = OpenApiExample(
    "To another coordinator", value={"assignee": 9}, request_only=True
)
BULK_REASSIGN_REQUEST = OpenApiExample(
    "Two follow-ups to another coordinator",
    value={"follow_ups": [FOLLOW_UP_ID, "9e1a3c5b-7d9f-4b1d-8a3c-5e7a9c1e3b77"], "assignee": 9},
    request_only=True,
)
ASSIGNEE = OpenApiExample(
    "An alumni coordinator on Austin's team, leading it",
    value={
        "id": 9,
        "username": "alumni.lead",
        "full_name": "Morgan Lee",
        "alumni_teams": [{"site": SITE_ID, "site_name": "Austin", "is_lead": True}],
        "open_follow_ups": 42,
    },
    response_only=True,
)

REFERRAL = OpenApiExample("An open referral to detox", value=REFERRAL_VALUE, response_only=True)
REFERRAL_ADMITTED = OpenApiExample(
    "Admitted: the new episode is linked",
    value={
        **REFERRAL_VALUE,
        "status": "admitted",
        "new_episode": NEW_EPISODE_ID,
        "closed_at": "2026-11-11T14:00:00Z",
    },
    response_only=True,
)
PARTNER_REFERRAL = OpenApiExample(
    "A partner's referral, not yet matched", value=PARTNER_REFERRAL_VALUE, response_only=True
)
REFERRAL_DUPLICATE = OpenApiExample(
    "A client with the same name and date of birth",
    # One item: drf-spectacular lists it.
    value={
        **CLIENT_SUMMARY,
        "first_name": "Jordan",
        "last_name": "Example",
        "date_of_birth": "1990-04-01",
        "registered_site": SITE_ID,
    },
    response_only=True,
)
REFERRAL_MATCH_REQUEST = OpenApiExample(
    "This person is our client", value={"client": CLIENT_ID}, request_only=True
)
REFERRAL_ADMIT_PARTNER_REQUEST = OpenApiExample(
    "A partner's referral, into Austin Detox",
    value={"program": DETOX_ID, "admitted_at": "2026-11-11T14:00:00Z"},
    request_only=True,
)
REFERRAL_DECLINE_REQUEST = OpenApiExample(
    "Declined",
    value={"reason": "Needs a medical unit first; called the referrer."},
    request_only=True,
)
REFERRAL_ADMIT_REQUEST = OpenApiExample(
    "On arrival", value={"admitted_at": "2026-11-11T14:00:00Z"}, request_only=True
)
REFERRAL_CANCEL_REQUEST = OpenApiExample(
    "Declined by the receiving team",
    value={"reason": "Needs medical detox; referred to the hospital."},
    request_only=True,
)

PLAN_VALUE = {
    "id": PLAN_ID,
    "client": CLIENT_ID,
    "episode": EPISODE_ID,
    "outpatient_therapist": True,
    "outpatient_therapist_details": "Dr. Ortiz, Thursdays.",
    "mutual_help_meetings": True,
    "mutual_help_meetings_details": "SMART Recovery, Tuesdays.",
    "medication_for_addiction_treatment": False,
    "medication_for_addiction_treatment_details": "",
    "sober_living": False,
    "sober_living_details": "",
    "other_supports": "",
    "relapse_prevention_notes": "Triggers: payday, old neighbourhood.",
    "emergency_contact_name": "Sam Rivera",
    "emergency_contact_phone": "512-555-0177",
    "emergency_contact_relationship": "sister",
    "consent_to_contact": True,
    "consent_phone": True,
    "consent_sms": True,
    "consent_email": False,
    "consented_channels": ["phone", "sms"],
    "contact_hours_from": "09:00:00",
    "contact_hours_to": "18:00:00",
    "contact_days": [1, 2, 3, 4, 5],
    "created_at": "2026-11-01T18:00:00Z",
    "created_by": "coordinator.austin",
    "updated_at": "2026-11-02T17:30:00Z",
    "updated_by": "coordinator.austin",
}
PLAN_READ_ONLY = {
    "id",
    "client",
    "episode",
    "consented_channels",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
}
PLAN = OpenApiExample(
    "A plan with consent to calls and texts", value=PLAN_VALUE, response_only=True
)
# What GET answers before anyone wrote the plan: every field empty, no consent.
PLAN_UNWRITTEN = OpenApiExample(
    "Not written yet: the empty plan",
    value={
        "id": None,
        "client": CLIENT_ID,
        "episode": None,
        **{
            name: False
            for name in (
                "outpatient_therapist",
                "mutual_help_meetings",
                "medication_for_addiction_treatment",
                "sober_living",
                "consent_to_contact",
                "consent_phone",
                "consent_sms",
                "consent_email",
            )
        },
        **{
            name: ""
            for name in (
                "outpatient_therapist_details",
                "mutual_help_meetings_details",
                "medication_for_addiction_treatment_details",
                "sober_living_details",
                "other_supports",
                "relapse_prevention_notes",
                "emergency_contact_name",
                "emergency_contact_phone",
                "emergency_contact_relationship",
            )
        },
        "consented_channels": [],
        "contact_hours_from": None,
        "contact_hours_to": None,
        "contact_days": [],
        "created_at": None,
        "created_by": None,
        "updated_at": None,
        "updated_by": None,
    },
    response_only=True,
)
PLAN_PUT_REQUEST = OpenApiExample(
    "The whole plan",
    value={key: value for key, value in PLAN_VALUE.items() if key not in PLAN_READ_ONLY},
    request_only=True,
)
PLAN_PATCH_REQUEST = OpenApiExample(
    "Withdraw consent to texts",
    value={"consent_sms": False},
    request_only=True,
)

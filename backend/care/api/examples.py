"""Request and response examples for the OpenAPI document (synthetic data)."""

from drf_spectacular.utils import OpenApiExample

CLIENT_ID = "3d2f6a0c-8e4b-4f1a-9c7d-5b6e2a1f0c99"
SITE_ID = "6f1c8a9e-2b7d-4c43-9a57-0e5a2f3d9b10"
DETOX_ID = "0b8d7c2e-5f3a-4e61-8d2b-3c9e7a1f4d55"
RESIDENTIAL_ID = "9a4e1b7c-2d3f-4a58-8e6b-7c0d1f2a3b44"
EPISODE_ID = "5c7a9e1b-3d2f-4b6a-8c0e-1f2a3b4c5d66"
PLACEMENT_ID = "7e9b1c3d-5f2a-4c6e-8a0b-2d3f4a5b6c77"
TRANSFER_ID = "2b4d6f8a-1c3e-4a5b-9d7f-3e5a7c9b1d88"

CLIENT_CREATE = OpenApiExample(
    "Register a client",
    value={"first_name": "Jordan", "last_name": "Rivera", "date_of_birth": "1990-04-12"},
    request_only=True,
)
CLIENT_UPDATE = OpenApiExample(
    "Change a phone number", value={"phone": "512-555-0199"}, request_only=True
)
CLIENT = OpenApiExample(
    "A client in detox",
    value={
        "id": CLIENT_ID,
        "mrn": "CN04817263",
        "first_name": "Jordan",
        "last_name": "Rivera",
        "preferred_name": "",
        "date_of_birth": "1990-04-12",
        "phone": "512-555-0142",
        "email": "",
        "address": "",
        "registered_site": SITE_ID,
        "current_placement": {
            "id": PLACEMENT_ID,
            "episode": EPISODE_ID,
            "program": DETOX_ID,
            "site": SITE_ID,
            "level": "detox",
            "started_at": "2026-11-20T15:30:00Z",
        },
        "created_at": "2026-11-20T15:12:00Z",
        "updated_at": "2026-11-20T15:12:00Z",
    },
    response_only=True,
)
ADMIT = OpenApiExample(
    "Admit to Austin detox",
    value={"client": CLIENT_ID, "program": DETOX_ID, "referral_source": "family"},
    request_only=True,
)
EPISODE = OpenApiExample(
    "An open episode",
    value={
        "id": EPISODE_ID,
        "client": CLIENT_ID,
        "is_open": True,
        "admitted_at": "2026-11-20T15:30:00Z",
        "admitted_by": "coordinator.austin",
        "referral_source": "family",
        "discharged_at": None,
        "discharged_by": None,
        "discharge_type": "",
        "discharge_notes": "",
    },
    response_only=True,
)
DISCHARGE = OpenApiExample(
    "Discharge on completion",
    value={"discharge_type": "completed", "notes": "Completed IOP; aftercare plan in place."},
    request_only=True,
)
PLACEMENT = OpenApiExample(
    "A stay in detox",
    value={
        "id": PLACEMENT_ID,
        "client": CLIENT_ID,
        "episode": EPISODE_ID,
        "program": DETOX_ID,
        "program_name": "Austin Detox",
        "site": SITE_ID,
        "site_name": "Austin",
        "level": "detox",
        "started_at": "2026-11-20T15:30:00Z",
        "ended_at": None,
    },
    response_only=True,
)
TRANSFER_REQUEST = OpenApiExample(
    "Step down to residential",
    value={
        "client": CLIENT_ID,
        "to_program": RESIDENTIAL_ID,
        "planned_for": "2026-11-26",
        "reason": "Withdrawal complete; medically cleared.",
        "handoff_notes": "On buprenorphine taper; see MAR.",
    },
    request_only=True,
)
TRANSFER = OpenApiExample(
    "A requested step-down",
    value={
        "id": TRANSFER_ID,
        "client": CLIENT_ID,
        "episode": EPISODE_ID,
        "status": "requested",
        "direction": "step_down",
        "from_placement": PLACEMENT_ID,
        "from_program": DETOX_ID,
        "from_site": SITE_ID,
        "from_level": "detox",
        "to_program": RESIDENTIAL_ID,
        "to_site": SITE_ID,
        "to_level": "residential",
        "to_placement": None,
        "planned_for": "2026-11-26",
        "reason": "Withdrawal complete; medically cleared.",
        "handoff_notes": "On buprenorphine taper; see MAR.",
        "requested_at": "2026-11-24T16:00:00Z",
        "requested_by": "coordinator.austin",
        "updated_at": "2026-11-24T16:00:00Z",
        "capacity_override_reason": "",
        "handoff": None,
        "events": [
            {
                "id": "4a6c8e0b-2d4f-4b6a-8c0e-5f7a9b1c3d99",
                "from_status": "",
                "to_status": "requested",
                "actor": "coordinator.austin",
                "at": "2026-11-24T16:00:00Z",
                "reason": "Withdrawal complete; medically cleared.",
            }
        ],
    },
    response_only=True,
)
TRANSFER_APPROVE = OpenApiExample("Approve", value={"reason": "Bed 4 held."}, request_only=True)
TRANSFER_REASON = OpenApiExample(
    "With a reason", value={"reason": "Client chose a program nearer home."}, request_only=True
)
TRANSFER_COMPLETE = OpenApiExample(
    "Arrived", value={"arrived_at": "2026-11-26T14:00:00Z"}, request_only=True
)
JOURNEY = OpenApiExample(
    "Detox, then residential",
    value={
        "id": CLIENT_ID,
        "client": CLIENT_ID,
        "episodes": [EPISODE.value],
        "placements": [
            {**PLACEMENT.value, "ended_at": "2026-11-26T14:00:00Z"},
            {
                **PLACEMENT.value,
                "id": "8f0a2b4c-6d8e-4f1a-9b3c-5d7e9f1a2b00",
                "program": RESIDENTIAL_ID,
                "program_name": "Austin Residential",
                "level": "residential",
                "started_at": "2026-11-26T14:00:00Z",
            },
        ],
        "transfers": [
            {
                "id": TRANSFER_ID,
                "status": "completed",
                "direction": "step_down",
                "from_placement": PLACEMENT_ID,
                "from_program": DETOX_ID,
                "to_program": RESIDENTIAL_ID,
                "to_placement": "8f0a2b4c-6d8e-4f1a-9b3c-5d7e9f1a2b00",
                "planned_for": "2026-11-26",
                "requested_at": "2026-11-24T16:00:00Z",
                "updated_at": "2026-11-26T14:00:00Z",
            }
        ],
    },
    response_only=True,
)

"""Examples for the schema, as the API sends them."""

from drf_spectacular.utils import OpenApiExample

from services.consent import PART2_NOTICE

CLIENT_ID = "3f6c2a9e-8d1b-4e7a-9c55-1b2d3e4f5a60"
CONSENT_ID = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
PARTNER_ID = "5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716"
EPISODE_ID = "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
PLACEMENT_ID = "1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
CONSENT_URL = f"https://continuum.example/api/v1/partner/consents/{CONSENT_ID}/"

DEMOGRAPHICS = {
    "id": CLIENT_ID,
    "mrn": "A00012345",
    "first_name": "Jordan",
    "last_name": "Rivera",
    "preferred_name": "",
    "date_of_birth": "1990-04-12",
}

PARTNER_CLIENTS = OpenApiExample(
    "A page of consented clients",
    response_only=True,
    value={**DEMOGRAPHICS, "consent": CONSENT_URL},
)

PARTNER_CLIENT = OpenApiExample(
    "A consented client",
    response_only=True,
    value={"notice": PART2_NOTICE, "consent": CONSENT_URL, "data": DEMOGRAPHICS},
)

PARTNER_EPISODES = OpenApiExample(
    "Detox, then residential",
    response_only=True,
    value={
        "notice": PART2_NOTICE,
        "consent": CONSENT_URL,
        "data": [
            {
                "id": EPISODE_ID,
                "admitted_at": "2026-10-01T14:00:00Z",
                "discharged_at": None,
                "discharge_type": None,
                "placements": [
                    {
                        "id": PLACEMENT_ID,
                        "level": "detox",
                        "program_name": "Austin Detox",
                        "site_name": "Austin",
                        "started_at": "2026-10-01T14:00:00Z",
                        "ended_at": None,
                    }
                ],
            }
        ],
    },
)

_ELEMENTS = {
    "information_kinds": ["demographics", "episodes"],
    "information_description": "My name, date of birth, and dates and levels of my care.",
    "purpose": "payment",
    "purpose_description": "",
    "right_to_revoke_stated": True,
    "expiry": "date",
    "expires_on": "2027-10-01",
    "signed_on": "2026-10-01",
    "signed_by": "Jordan Rivera",
}

PARTNER_CONSENT = OpenApiExample(
    "The copy of a consent to a payer",
    response_only=True,
    value={
        "id": CONSENT_ID,
        "client": CLIENT_ID,
        "disclosing_program_name": None,
        **_ELEMENTS,
        "recipient_partner_name": "Lone Star Health Plan",
        "recipient_class": None,
        "revoked_on": None,
        "document_name": "consent-rivera.pdf",
        "document_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "document": f"https://continuum.example/api/v1/partner/consents/{CONSENT_ID}/document/",
        "notice": PART2_NOTICE,
    },
)

CONSENT = OpenApiExample(
    "A consent to a payer",
    response_only=True,
    value={
        "id": CONSENT_ID,
        "client": CLIENT_ID,
        "disclosing_program": None,
        "disclosing_program_name": None,
        **_ELEMENTS,
        "recipient_partner": PARTNER_ID,
        "recipient_partner_name": "Lone Star Health Plan",
        "recipient_class": None,
        "recorded_by": "coordinator.austin",
        "recorded_at": "2026-10-01T15:30:00Z",
        "document_name": "consent-rivera.pdf",
        "document_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "document": f"https://continuum.example/api/v1/consents/{CONSENT_ID}/document/",
        "is_active": True,
        "revoked_on": None,
        "revoked_at": None,
        "revoked_by": None,
        "revocation_note": "",
    },
)

CONSENT_CREATE = OpenApiExample(
    "Record a consent to a payer",
    request_only=True,
    value={
        **_ELEMENTS,
        "disclosing_program": None,
        "recipient_partner": PARTNER_ID,
        "document": "JVBERi0xLjQgc2lnbmVkIGNvbnNlbnQ=",
        "document_name": "consent-rivera.pdf",
    },
)

CONSENT_REVOKE = OpenApiExample(
    "A letter received today",
    request_only=True,
    value={"received_on": "2026-12-07", "note": "Letter of 2026-12-05, scanned."},
)

DOCUMENT = OpenApiExample(
    "The signed file",
    response_only=True,
    value="%PDF-1.4 ...",
    media_type="application/octet-stream",
)

DISCLOSURE = {
    "id": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
    "disclosed_at": "2026-12-01T10:15:00Z",
    "recipient": "Lone Star Health Plan",
    "recipient_id": PARTNER_ID,
    "purpose": "payment",
    "purpose_name": "Payment",
    "information_kinds": ["episodes"],
    "description": f"Episodes and levels of care: episode {EPISODE_ID}, placement {PLACEMENT_ID}",
    "resources": [{"kind": "episode", "id": EPISODE_ID}, {"kind": "placement", "id": PLACEMENT_ID}],
    "consent": CONSENT_ID,
    "channel": "api",
}

DISCLOSURES = OpenApiExample(
    "A payer read the episodes",
    response_only=True,
    value=DISCLOSURE,
)

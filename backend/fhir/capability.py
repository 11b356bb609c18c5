"""GET /fhir/metadata: the CapabilityStatement, which says what this server does."""

from backend.fhir.resources import FHIR_JSON, FHIR_VERSION

# The day this statement last changed (CapabilityStatement.date).
CAPABILITY_DATE = "2026-12-07"
RESTFUL_SECURITY = "http://terminology.hl7.org/CodeSystem/restful-security-service"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

PURPOSE_PARAM = {
    "name": "_purpose",
    "type": "token",
    "documentation": (
        "Not a FHIR parameter: a partner's purpose for the read (treatment, payment, "
        "health_care_operations, other). Without it the read is made for the purpose of "
        "the consent that covers it. Ignored for staff."
    ),
}
PATIENT_PARAM = {
    "name": "patient",
    "type": "reference",
    "documentation": "Required: the patient's id, or Patient/{id}.",
}


def capability_statement(*, base_url: str, token_url: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "id": "continuum",
        "url": f"{base_url}/metadata",
        "name": "ContinuumFHIR",
        "title": "Continuum FHIR R4 read API",
        "status": "active",
        "date": CAPABILITY_DATE,
        "publisher": "Continuum",
        "description": (
            "Clients as Patient, episodes of care as EpisodeOfCare and stays in programs as "
            "Encounter, read-only, for staff and for partners holding fhir:read under a "
            "42 CFR Part 2 consent. See docs/fhir.md."
        ),
        "kind": "instance",
        "software": {"name": "Continuum"},
        "implementation": {"description": "Continuum", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {"system": RESTFUL_SECURITY, "code": "OAuth", "display": "OAuth"}
                            ]
                        }
                    ],
                    "description": (
                        "Partners: OAuth2 client credentials at the token URL, scope "
                        "fhir:read, then Authorization: Bearer <token>. Staff: their API "
                        "token as Bearer or Token."
                    ),
                    "extension": [
                        {"url": OAUTH_URIS, "extension": [{"url": "token", "valueUri": token_url}]}
                    ],
                },
                "resource": [
                    {
                        "type": "Patient",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {
                                "name": "_id",
                                "type": "token",
                                "documentation": "One id, or several separated by commas.",
                            },
                            PURPOSE_PARAM,
                        ],
                    },
                    {
                        "type": "EpisodeOfCare",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [PATIENT_PARAM, PURPOSE_PARAM],
                    },
                    {
                        "type": "Encounter",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [PATIENT_PARAM, PURPOSE_PARAM],
                    },
                ],
            }
        ],
    }

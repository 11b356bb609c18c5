"""Our rows as FHIR R4 (4.0.1) resources: plain functions from model instances to
dicts, nothing else. Which rows a caller may read, under which consent, is
decided before they get here (services/fhir.py); this module is representation
only, like a serializer, so it sits beside the views in the HTTP layer.

docs/fhir.md has the mapping as a table.
"""

from __future__ import annotations

from datetime import UTC, datetime

from backend.care.models import Client, Episode, Placement
from backend.network.models import LevelCode, LevelOfCare, Program, Site
from services.consent import PART2_NOTICE, PART2_SECURITY_LABEL

FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"

# Our identifier and code systems. They are names, not addresses: nothing is
# served at them.
MRN_SYSTEM = "urn:continuum:mrn"
SITE_SYSTEM = "urn:continuum:site"
PROGRAM_SYSTEM = "urn:continuum:program"
LEVEL_OF_CARE_SYSTEM = "urn:continuum:level-of-care"
# Extensions on a response's meta: the §2.32 notice and the copy of the consent.
PART2_NOTICE_EXTENSION = "urn:continuum:fhir:StructureDefinition:part2-notice"
CONSENT_EXTENSION = "urn:continuum:fhir:StructureDefinition:part2-consent"
# Where a partner reads the copy of the consent a disclosure was made under.

V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
LOCATION_PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"

# Encounter.class (v3 ActEncounterCode) by level of care: 24-hour care is an
# inpatient stay (acute for withdrawal management, non-acute for residential),
# day and outpatient programs are ambulatory, an intervention meets the person
# where they are (field), and sober living is care in the client's residence.
ENCOUNTER_CLASS = {
    LevelCode.INTERVENTION: ("FLD", "field"),
    LevelCode.DETOX: ("ACUTE", "inpatient acute"),
    LevelCode.RESIDENTIAL: ("NONAC", "inpatient non-acute"),
    LevelCode.PHP: ("AMB", "ambulatory"),
    LevelCode.IOP: ("AMB", "ambulatory"),
    LevelCode.SOBER_LIVING: ("HH", "home health"),
    LevelCode.ALUMNI: ("AMB", "ambulatory"),
}
# A level added later without a class of its own: by how it counts capacity.
ENCOUNTER_CLASS_BY_UNIT = {"beds": ("NONAC", "inpatient non-acute")}
AMBULATORY = ("AMB", "ambulatory")


def instant(value: datetime | None) -> str | None:
    """An instant in UTC, as FHIR writes it ("2026-12-07T15:04:05.123456Z")."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _meta(**extra) -> dict:
    return {"security": [dict(PART2_SECURITY_LABEL)], **extra}


def _period(start: datetime, end: datetime | None) -> dict:
    period = {"start": instant(start)}
    if end is not None:
        period["end"] = instant(end)
    return period


def site_reference(site: Site) -> dict:
    # A logical reference: we serve no Organization or Location resources.
    return {"identifier": {"system": SITE_SYSTEM, "value": site.code}, "display": site.name}


def program_reference(program: Program) -> dict:
    return {
        "identifier": {"system": PROGRAM_SYSTEM, "value": str(program.pk)},
        "display": f"{program.name} ({program.site.name})",
    }


def level_of_care(level: LevelOfCare) -> dict:
    return {
        "coding": [{"system": LEVEL_OF_CARE_SYSTEM, "code": level.code, "display": level.name}],
        "text": level.name,
    }


def patient(client: Client) -> dict:
    names = [{"use": "official", "family": client.last_name, "given": [client.first_name]}]
    if client.preferred_name:
        names.append({"use": "usual", "family": client.last_name, "given": [client.preferred_name]})
    resource = {
        "resourceType": "Patient",
        "id": str(client.pk),
        "meta": _meta(lastUpdated=instant(client.updated_at)),
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": V2_IDENTIFIER_TYPE,
                            "code": "MR",
                            "display": "Medical record number",
                        }
                    ]
                },
                "system": MRN_SYSTEM,
                "value": client.mrn,
            }
        ],
        "active": True,
        "name": names,
        "birthDate": client.date_of_birth.isoformat(),
        "managingOrganization": site_reference(client.registered_site),
    }
    telecom = []
    if client.phone:
        telecom.append({"system": "phone", "value": client.phone})
    if client.email:
        telecom.append({"system": "email", "value": client.email})
    if telecom:
        resource["telecom"] = telecom
    if client.address:
        resource["address"] = [{"text": client.address}]
    return resource


def episode_of_care(episode: Episode, stays: list[Placement]) -> dict:
    """An episode; `stays` are its placements the reader may see, in order. Its
    types are their levels of care, in the order first reached; the managing
    organisation is the site of the latest stay."""
    levels = {}
    for stay in stays:
        levels.setdefault(stay.program.level_id, stay.program.level)
    resource = {
        "resourceType": "EpisodeOfCare",
        "id": str(episode.pk),
        "meta": _meta(),
        "status": "active" if episode.discharged_at is None else "finished",
        "patient": {"reference": f"Patient/{episode.client_id}"},
        "period": _period(episode.admitted_at, episode.discharged_at),
    }
    if levels:
        resource["type"] = [level_of_care(level) for level in levels.values()]
    if stays:
        resource["managingOrganization"] = site_reference(stays[-1].program.site)
    return resource


def encounter_class(level: LevelOfCare) -> dict:
    code, display = ENCOUNTER_CLASS.get(
        level.code, ENCOUNTER_CLASS_BY_UNIT.get(level.capacity_unit, AMBULATORY)
    )
    return {"system": V3_ACT_CODE, "code": code, "display": display}


def encounter(stay: Placement) -> dict:
    """A placement: the stay in one program. Its location history is the
    program and the program's site, each for the stay's period."""
    program = stay.program
    ended = stay.ended_at is not None
    period = _period(stay.started_at, stay.ended_at)
    location_status = "completed" if ended else "active"
    return {
        "resourceType": "Encounter",
        "id": str(stay.pk),
        "meta": _meta(),
        "status": "finished" if ended else "in-progress",
        "class": encounter_class(program.level),
        "type": [level_of_care(program.level)],
        "subject": {"reference": f"Patient/{stay.client_id}"},
        "episodeOfCare": [{"reference": f"EpisodeOfCare/{stay.episode_id}"}],
        "period": period,
        "location": [
            {"location": program_reference(program), "status": location_status, "period": period},
            {
                "location": site_reference(program.site),
                "status": location_status,
                "physicalType": {
                    "coding": [{"system": LOCATION_PHYSICAL_TYPE, "code": "si", "display": "Site"}]
                },
                "period": period,
            },
        ],
        "serviceProvider": site_reference(program.site),
    }


def response_meta(consent_url: str | None) -> list[dict]:
    """The extensions on the meta of a response that carries Part 2 records:
    the §2.32 notice, and for a partner the copy of the consent."""
    extensions = [{"url": PART2_NOTICE_EXTENSION, "valueString": PART2_NOTICE}]
    if consent_url:
        extensions.append({"url": CONSENT_EXTENSION, "valueUrl": consent_url})
    return extensions


def with_notice(resource: dict, consent_url: str | None) -> dict:
    """A resource read on its own: the notice (and the consent) on its meta."""
    resource["meta"]["extension"] = response_meta(consent_url)
    return resource


def searchset(
    resources: list[dict],
    *,
    base_url: str,
    self_url: str,
    now: datetime,
    consent_urls: list[str] = (),
) -> dict:
    """A Bundle of type searchset: every resource matched, all on one page."""
    extensions = response_meta(None)
    extensions += [{"url": CONSENT_EXTENSION, "valueUrl": url} for url in consent_urls]
    return {
        "resourceType": "Bundle",
        "meta": _meta(lastUpdated=instant(now), extension=extensions),
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {
                "fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


# OperationOutcome.issue.code by HTTP status.
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    415: "not-supported",
    429: "throttled",
}


def operation_outcome(status: int, message: str, field: str | None = None) -> dict:
    issue = {
        "severity": "error",
        "code": ISSUE_CODES.get(status, "processing"),
        "details": {"text": message},
        "diagnostics": message,
    }
    if field:
        issue["expression"] = [field]
    return {"resourceType": "OperationOutcome", "issue": [issue]}

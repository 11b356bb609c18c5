"""The foundation's user story, end to end over HTTP."""

from backend.audit.models import AuditEvent


def test_austin_coordinator_admits_steps_down_and_houston_sees_nothing(api, network, users):
    # given a coordinator at Austin
    austin = api.as_user(users.austin)

    # when they register a client and admit them to Austin detox
    client = austin.post(
        "/api/v1/clients/",
        {"first_name": "Jordan", "last_name": "Rivera", "date_of_birth": "1990-04-12"},
    )
    assert client.status_code == 201, client.json()
    client_id = client.json()["id"]
    admit = austin.post(
        "/api/v1/episodes/", {"client": client_id, "program": str(network.austin_detox.pk)}
    )
    assert admit.status_code == 201, admit.json()

    # and request a step-down to Austin residential, approve it and complete it
    transfer = austin.post(
        "/api/v1/transfers/",
        {"client": client_id, "to_program": str(network.austin_residential.pk), "reason": "stable"},
    )
    assert transfer.status_code == 201, transfer.json()
    assert transfer.json()["direction"] == "step_down"
    transfer_id = transfer.json()["id"]
    approved = austin.post(f"/api/v1/transfers/{transfer_id}/approve/", {})
    assert approved.status_code == 200, approved.json()
    program = austin.get(f"/api/v1/programs/{network.austin_residential.pk}/").json()
    assert (program["occupied"], program["reserved"]) == (0, 1)

    # and the receiving team acknowledges the hand-off and works through its checklist
    handoff = approved.json()["handoff"]
    assert austin.post(f"/api/v1/handoffs/{handoff}/acknowledge/").status_code == 200
    items = austin.get(f"/api/v1/handoffs/{handoff}/").json()["items"]
    assert "Medical clearance" in [item["label"] for item in items]
    for item in items:
        ticked = austin.post(f"/api/v1/handoffs/{handoff}/items/{item['id']}/complete/", {})
        assert ticked.status_code == 200, ticked.json()
    completed = austin.post(f"/api/v1/transfers/{transfer_id}/complete/", {})
    assert completed.status_code == 200, completed.json()
    assert [e["to_status"] for e in completed.json()["events"]] == [
        "requested",
        "approved",
        "completed",
    ]

    # then the journey shows both stays, joined by the transfer
    journey = austin.get(f"/api/v1/clients/{client_id}/journey/").json()
    levels = [p["level"] for p in journey["placements"]]
    assert levels == ["detox", "residential"]
    assert journey["placements"][0]["ended_at"] == journey["placements"][1]["started_at"]
    assert journey["transfers"][0]["to_placement"] == journey["placements"][1]["id"]

    # and a Houston coordinator cannot see the client at all
    houston = api.as_user(users.houston)
    assert houston.get(f"/api/v1/clients/{client_id}/").status_code == 404
    assert houston.get(f"/api/v1/clients/{client_id}/journey/").status_code == 404
    assert houston.get("/api/v1/clients/").json()["count"] == 0
    assert houston.get(f"/api/v1/transfers/{transfer_id}/").status_code == 404

    # and every read and write of the record was audited
    actions = set(AuditEvent.objects.filter(client_id=client_id).values_list("action", flat=True))
    assert {
        "create",
        "admit",
        "transfer_request",
        "transfer_approve",
        "transfer_complete",
    } <= actions
    assert "view" in actions

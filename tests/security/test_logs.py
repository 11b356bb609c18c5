"""Logs hold no personal data, are JSON lines in production, and carry the request id."""

import io
import json
import logging
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from backend.logs import JsonFormatter, RequestIdFilter, current_request_id
from services.client_contact import ConsoleSMS
from workers.logs import request_ids_on_worker_lines


def test_the_console_sms_logs_neither_the_number_nor_the_text(caplog):
    # given a message to a client's phone
    caplog.set_level(logging.INFO, logger="services.client_contact")

    # when the console channel "sends" it
    ConsoleSMS().send("+1 512 555 0142", "Hi Rosalind, checking in.")

    # then the log shows the last two digits and the length only
    logged = caplog.text
    assert "555" not in logged and "0142" not in logged
    assert "Rosalind" not in logged and "checking in" not in logged
    assert "…42" in logged
    assert "25 characters" in logged


def test_gunicorns_access_log_never_records_query_strings():
    compose = (Path(settings.BASE_DIR) / "docker-compose.yml").read_text()
    [log_format] = re.findall(r"--access-logformat '([^']*)'", compose)

    assert "%(U)s" in log_format
    assert "%(q)s" not in log_format and "%(r)s" not in log_format


@pytest.mark.django_db
def test_a_request_gets_an_id_in_its_response_and_in_its_log_lines(caplog):
    # given a log line written while a request is served
    caplog.set_level(logging.WARNING, logger="django.request")
    caplog.handler.addFilter(RequestIdFilter())

    # when a request without an id of its own fails (a 404 logs a warning)
    response = Client().get("/api/v1/nowhere/")

    # then the response names a fresh uuid, and the log line carries the same id
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f-]{36}", request_id)
    assert response.status_code == 404
    assert [r.request_id for r in caplog.records] == [request_id] * len(caplog.records)


@pytest.mark.django_db
def test_the_callers_request_id_is_kept_when_it_is_a_plain_token():
    response = Client().get("/health/", HTTP_X_REQUEST_ID="proxy-7f3a-0001")

    assert response["X-Request-ID"] == "proxy-7f3a-0001"


@pytest.mark.django_db
@pytest.mark.parametrize("sent", ["a" * 65, "bad id", "x\r\nSet-Cookie: a=b", "ü", ""])
def test_a_request_id_that_is_not_a_plain_token_is_replaced(sent):
    response = Client().get("/health/", HTTP_X_REQUEST_ID=sent)

    assert response["X-Request-ID"] != sent
    assert re.fullmatch(r"[0-9a-f-]{36}", response["X-Request-ID"])


def test_production_log_lines_are_json_with_the_request_id():
    # given a record made while request "req-1" is served
    token = current_request_id.set("req-1")
    try:
        record = logging.LogRecord("continuum", logging.INFO, __file__, 1, "hello %s", ("x",), None)
        RequestIdFilter().filter(record)
    finally:
        current_request_id.reset(token)

    # when the production formatter writes it
    line = JsonFormatter().format(record)

    # then it is one JSON object with the id
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "hello x"
    assert entry["request_id"] == "req-1"
    assert entry["level"] == "INFO"


def test_outside_a_request_the_id_is_a_dash():
    record = logging.LogRecord("continuum", logging.INFO, __file__, 1, "tick", (), None)
    RequestIdFilter().filter(record)

    assert record.request_id == "-"


@pytest.mark.django_db
def test_the_id_is_forgotten_once_the_response_is_done():
    Client().get("/health/")

    assert current_request_id.get() == "-"


def test_a_workers_lines_are_json_in_production_and_each_carries_the_id(settings):
    # given Celery has just set up a worker's handler, with production's log format
    settings.LOG_FORMAT = "json"
    stream = io.StringIO()
    logger = logging.getLogger("continuum.test.worker")
    logger.handlers[:] = [logging.StreamHandler(stream)]
    logger.propagate = False
    factory = logging.getLogRecordFactory()
    try:
        request_ids_on_worker_lines(logger=logger)

        # when a task running for request "req-json-1" logs
        token = current_request_id.set("req-json-1")
        try:
            logger.warning("work item %s failed", "x")
        finally:
            current_request_id.reset(token)
    finally:
        logging.setLogRecordFactory(factory)
        logger.handlers[:] = []

    # then the line is one JSON object carrying the id
    entry = json.loads(stream.getvalue())
    assert (entry["message"], entry["request_id"]) == ("work item x failed", "req-json-1")

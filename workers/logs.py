"""Request ids in background work (docs/security.md, "Logs").

A task enqueued while a request is served carries that request's id in its message
headers (`request_id`, set at before_task_publish); while the task runs, the id is the
current one (task_prerun), so its log lines and the tasks it enqueues carry it too. A
task that arrives without one (the beat's sweep, a command's) gets an id of its own,
which the tasks it wakes then carry. In-process (eager) tasks are never published: they
keep the id of the request or task that runs them.

In a worker every log record gets the current id as `request_id` (a record factory, so
that no handler Celery sets up can miss it: its formats print it), and the worker's
handlers get the JSON formatter when settings.LOG_FORMAT is "json" (production), so a
worker writes lines as the web does.
"""

from __future__ import annotations

import logging

from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    before_task_publish,
    task_postrun,
    task_prerun,
)
from django.conf import settings

from backend.logs import NO_REQUEST, JsonFormatter, current_request_id, request_id_from

HEADER = "request_id"

# The token of each running task's id, to put back the id it replaced when it ends
# (an eager task runs inside its caller's request or task).
_tokens: dict[str, object] = {}


@before_task_publish.connect(dispatch_uid="workers.logs.carry_request_id")
def _carry_request_id(headers=None, **kwargs) -> None:
    request_id = current_request_id.get()
    if headers is not None and request_id != NO_REQUEST:
        headers.setdefault(HEADER, request_id)


@task_prerun.connect(dispatch_uid="workers.logs.take_request_id")
def _take_request_id(task_id=None, task=None, **kwargs) -> None:
    # The message's headers are the task's request context (Celery's Context attributes).
    sent = getattr(task.request, HEADER, None)
    if sent is None:
        # In-process: the caller's id; a worker's task sent from no request: a new one.
        sent = current_request_id.get()
    # Checked as a caller's X-Request-ID is, since it is written into every line.
    request_id = request_id_from(sent if isinstance(sent, str) and sent != NO_REQUEST else None)
    _tokens[task_id] = current_request_id.set(request_id)


@task_postrun.connect(dispatch_uid="workers.logs.drop_request_id")
def _drop_request_id(task_id=None, **kwargs) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        current_request_id.reset(token)


def _with_request_id(make_record):
    def make(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.request_id = current_request_id.get()
        return record

    make.adds_request_id = True
    return make


@after_setup_logger.connect(dispatch_uid="workers.logs.root_handlers")
@after_setup_task_logger.connect(dispatch_uid="workers.logs.task_handlers")
def request_ids_on_worker_lines(logger=None, **kwargs) -> None:
    """Celery has set up the worker's logging (it sends this for the root logger, then for
    the task logger)."""
    if not getattr(logging.getLogRecordFactory(), "adds_request_id", False):
        logging.setLogRecordFactory(_with_request_id(logging.getLogRecordFactory()))
    if getattr(settings, "LOG_FORMAT", "plain") == "json":
        for handler in logger.handlers:
            handler.setFormatter(JsonFormatter())

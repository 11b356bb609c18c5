"""Real Celery workers for tests/workers: subprocesses on the test database.

A worker is `celery -A workers worker` started with the test database's
DATABASE_URL, so it sees what a transactional test commits. The workers and
this process share a broker: REDIS_URL's server with a Redis database of the
run's own, chosen from the test database's name (runs with different
DATABASE_URLs do not take each other's messages), flushed before each test.
"""

import contextlib
import ctypes
import os
import re
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.db import connection

from services.work import TEST_DELAY_ENV
from workers import app

REPO_ROOT = Path(__file__).resolve().parents[2]
QUEUES = "default,handoffs,notifications,followups"
READY_TIMEOUT = 20  # seconds for a worker to connect and start consuming
POLL = 0.05
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def wait_until(predicate, *, timeout: float, what: str, details=lambda: ""):
    """Poll `predicate` until it returns something truthy, and return that;
    fail after `timeout` seconds saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout}s waiting for {what}.\n{details()}")
        time.sleep(POLL)


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _broker_url() -> str:
    # 1 to 15, never 0: the development default, where a running worker of
    # another database would take these tests' messages.
    number = zlib.crc32(connection.settings_dict["NAME"].encode()) % 15 + 1
    return urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{number}", query=""))


def point_app_at(url: str) -> None:
    """Send this process's tasks to `url` from now on. The app keeps its
    broker pools once made; forgetting them (as Celery does after a fork)
    makes it take the pools of the new URL. kombu keeps every pool by URL,
    open, so pointing back finds the old ones again."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


class Broker:
    def __init__(self, url: str):
        self.url = url
        self.redis = redis.Redis.from_url(url)

    def flush(self) -> None:
        self.redis.flushdb()


@pytest.fixture
def broker():
    """The run's Redis database, empty, and this process sending to it."""
    broker = Broker(_broker_url())
    broker.flush()
    original = app.conf.broker_url
    point_app_at(broker.url)
    yield broker
    point_app_at(original)
    broker.redis.close()


_SUCCEEDED = re.compile(
    r"Task [\w.]+\[(?P<id>[\w-]+)\] succeeded in [\d.e-]+s: '?(?P<result>\w+)'?"
)


def _die_with_parent() -> None:
    """In the worker, before exec: on Linux, be killed when pytest dies, even
    by SIGKILL, so that no orphan keeps consuming or holding the test database."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Worker:
    """One `celery worker` process (solo pool) in its own process group."""

    def __init__(self, name: str, log_path: Path, env: dict):
        self.name = name
        self.log_path = log_path
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers",
            "worker",
            "--pool=solo",
            "-Q",
            QUEUES,
            "-n",
            f"{name}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ]
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def describe(self) -> str:
        return f"--- worker {self.name} (exit {self.process.poll()}) ---\n{self.log()[-6000:]}"

    def wait_ready(self) -> None:
        def ready():
            if self.process.poll() is not None:
                pytest.fail(f"Worker {self.name} exited while starting.\n{self.describe()}")
            return " ready." in self.log()

        wait_until(ready, timeout=READY_TIMEOUT, what=f"worker {self.name}", details=self.describe)

    def outcomes(self) -> dict[str, str]:
        """What each task this worker finished returned, by task id."""
        return {m["id"]: m["result"] for m in _SUCCEEDED.finditer(self.log())}

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 10) -> None:
        """Signal the whole process group and wait for the worker to exit."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it has just exited
                os.killpg(self.process.pid, sig)
        self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """Warm shutdown, or SIGKILL when that takes too long."""
        try:
            self.kill(signal.SIGTERM, timeout=10)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)


@pytest.fixture
def start_workers(broker, tmp_path):
    """`start_workers("w1", "w2", delay=None)`: start workers together and
    return them once all are consuming. `delay` (seconds) holds every run
    open before its commit (services.work.TEST_DELAY_ENV). All are stopped
    at the end of the test, before its database is flushed."""
    started: list[Worker] = []

    def start(*names: str, delay: float | None = None) -> list[Worker]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backend.settings.test",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": broker.url,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop(TEST_DELAY_ENV, None)
        if delay is not None:
            env[TEST_DELAY_ENV] = str(delay)
        workers = [Worker(name, tmp_path / f"{name}.log", env) for name in names]
        started.extend(workers)
        for worker in workers:
            worker.wait_ready()
        return workers

    yield start
    for worker in started:
        worker.stop()

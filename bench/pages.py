"""What the page benches (board.py, follow_ups.py) share: a Django set up on the
bench database for pages, and the timing of one page through Django's test client."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

from bench.census import database_recreate, django_setup


def pages_setup(database_url: str, *, reuse: bool) -> None:
    """Django on the bench database (dropped and recreated unless `reuse`), with
    static files served by name: a bench collects none, so there is no manifest."""
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not reuse:
        database_recreate(database_url)
    django_setup(database_url)
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass
class PageTimes:
    queries: int
    median_ms: float
    p95_ms: float
    cpu_median_ms: float


def page_time(browser, url: str, repeat: int) -> PageTimes:
    """The SQL queries of one GET of `url`, then `repeat` timed GETs: wall time, and
    the CPU time of this process alone (not PostgreSQL's), which a busy machine
    stretches far less than the wall time."""
    from django.db import connection

    queries = []
    with connection.execute_wrapper(lambda run, sql, *rest: queries.append(sql) or run(sql, *rest)):
        browser.get(url)
    timings, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = browser.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, response.status_code
    timings.sort()
    return PageTimes(
        queries=len(queries),
        median_ms=statistics.median(timings),
        p95_ms=timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))],
        cpu_median_ms=statistics.median(cpu),
    )


def load_average() -> str:
    return f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores"

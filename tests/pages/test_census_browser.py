"""The census dashboard in a real headless Chromium (Debian's, driven by Playwright).

The Austin site manager, who also coordinates Houston, signs in through the
form, sees their sites side by side, picks Austin, then Houston, and reads
each tile: every number on the page is the API's. JavaScript is off in the
browser, so the page is read as the server drew it; every request stays on
the test server (no CDN). A screenshot of Austin's page is saved to
test-artifacts/census-dashboard.png. Then the alumni coordinator follows the
Aftercare link and reads the API's percentages on /dashboard/aftercare/
(screenshot: test-artifacts/aftercare-dashboard.png).

Playwright's sync API runs an event loop in this thread, where Django's ORM
refuses to run: the rows are made before the browser starts, and the API is
read through the browser's own session.
"""

import tempfile
from collections import defaultdict
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from services.access import Role, role_grant
from tests.api.helpers import transfer_to
from tests.factories import placed_client
from tests.pages.conftest import CHROMIUM
from tests.services.test_aftercare_metrics import NOW, build_story

pytestmark = [
    pytest.mark.chromium,
    # The live server reads committed rows; serialized_rollback: the flush
    # after the test would drop the levels seeded by migration.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "pw-for-tests-only"  # tests/factories.py UserFactory
SCREENSHOT = Path(settings.BASE_DIR) / "test-artifacts" / "census-dashboard.png"
AFTERCARE_SCREENSHOT = Path(settings.BASE_DIR) / "test-artifacts" / "aftercare-dashboard.png"
FIGURES = ("occupied", "capacity", "reserved", "available")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright, profile: str):
    """Debian's Chromium, headless, on a fresh profile, with JavaScript off."""
    return playwright.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        java_script_enabled=False,
        viewport={"width": 1280, "height": 900},
    )


def by_level(rows: list[dict]) -> dict[str, dict[str, str]]:
    """API rows added up per level, as the tiles show them."""
    totals = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for row in rows:
        for figure in FIGURES:
            totals[row["level"]][figure] += row[figure]
    return {code: {k: str(v) for k, v in figures.items()} for code, figures in totals.items()}


def tiles_on(page) -> dict[str, dict[str, str]]:
    """The tiles as the browser shows them: each level's visible figures."""
    shown = {}
    for tile in page.locator("article.tile").all():
        figures = {
            figure: tile.locator(f"[data-figure={figure}]").inner_text().strip()
            for figure in FIGURES
        }
        shown[tile.get_attribute("data-level")] = figures
    return shown


def test_austin_manager_reads_the_apis_numbers_on_the_dashboard(live_server, network, users):
    # given clients at Austin and Houston, and an approved transfer into Austin residential
    manager = users.manager
    role_grant(user=manager, role=Role.CARE_COORDINATOR, site=network.houston)
    moving = placed_client(network.austin_detox, manager)
    placed_client(network.austin_detox, manager)
    placed_client(network.austin_residential, manager)
    for _ in range(14):
        placed_client(network.austin_iop, manager)
    placed_client(network.houston_residential, users.houston)
    transfer_to(
        network.austin_residential,
        client=moving,
        sender=manager,
        receiver=manager,
        status="approved",
    )
    sites = {"Austin": str(network.austin.pk), "Houston": str(network.houston.pk)}
    SCREENSHOT.parent.mkdir(exist_ok=True)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = launch(playwright, profile)
        try:
            page = browser.new_page()
            requested = []
            page.on("request", lambda request: requested.append(request.url))
            failed = []
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)

            # when the manager opens the dashboard, they are asked to sign in
            page.goto(f"{live_server.url}/dashboard/census/")
            assert page.url.startswith(f"{live_server.url}/accounts/login/")
            page.fill("#id_username", manager.username)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")

            # then they land on their sites side by side, with the API's numbers in each cell
            assert page.url == f"{live_server.url}/dashboard/census/"
            everything = page.request.get(f"{live_server.url}/api/v1/census/").json()
            for row in everything:
                cell = page.locator(f"td[data-site='{row['site']}'][data-level='{row['level']}']")
                assert cell.locator("[data-figure=occupied]").inner_text() == str(row["occupied"])
                assert cell.locator("[data-figure=capacity]").inner_text() == str(row["capacity"])

            # when they pick each of their sites, each tile says what the API says
            for name, site_id in sites.items():
                page.select_option("#site-picker", label=name)
                page.click(".picker button[type=submit]")
                assert page.locator("h1 .sub").inner_text() == name
                api = page.request.get(f"{live_server.url}/api/v1/census/?site={site_id}")
                assert api.ok
                assert tiles_on(page) == by_level(api.json())
                if name == "Austin":
                    austin = tiles_on(page)
                    page.screenshot(path=str(SCREENSHOT), full_page=True)

            # and the Austin figures are the story's: a bed reserved, IOP amber at 14 of 15
            assert austin["residential"]["reserved"] == "1"
            assert austin["detox"] == {
                "occupied": "2",
                "capacity": "2",
                "reserved": "0",
                "available": "0",
            }
            page.goto(f"{live_server.url}/dashboard/census/?site={sites['Austin']}")
            assert "warn" in (page.locator("article[data-level=iop]").get_attribute("class") or "")

            # and the CSV link downloads the same rows, over the same session
            href = page.locator("a.csv").first.get_attribute("href")
            csv = page.request.get(f"{live_server.url}{href}")
            assert csv.ok
            assert csv.headers["content-type"].startswith("text/csv")
        finally:
            browser.close()

    assert SCREENSHOT.stat().st_size > 10_000
    assert failed == []
    assert all(url.startswith(live_server.url) for url in requested), "a request left the server"


def test_alumni_lead_reads_the_aftercare_outcomes(live_server, network, users, monkeypatch):
    # given the hand-computed story of tests/services/test_aftercare_metrics.py, on its day
    build_story(network, users)
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    AFTERCARE_SCREENSHOT.parent.mkdir(exist_ok=True)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = launch(playwright, profile)
        try:
            page = browser.new_page()
            failed = []
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)

            # when the alumni coordinator signs in and follows the Aftercare link
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("#id_username", users.alumni.username)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.click("nav.topnav >> text=Aftercare")
            assert page.url == f"{live_server.url}/dashboard/aftercare/"

            # then every line shows the API's figures for the page's range
            href = page.locator("a.csv").get_attribute("href")
            rows = page.request.get(f"{live_server.url}{href.replace('format=csv', 'format=json')}")
            assert rows.ok
            for row in rows.json():
                group = f"table.outcomes tbody[data-site='{row['site']}']"
                line = page.locator(f"{group} tr[data-level='{row['level']}']").first
                assert line.locator("[data-figure=courses]").inner_text() == str(row["courses"])
                for figure in ("followup_7d", "followup_30d", "readmission_30d"):
                    percent = row[f"{figure}_percent"]
                    expected = "—" if percent is None else f"{percent:.1f}%"
                    shown = line.locator(f"[data-figure={figure}_percent]").inner_text().strip()
                    assert shown == expected
            page.screenshot(path=str(AFTERCARE_SCREENSHOT), full_page=True)
        finally:
            browser.close()

    assert AFTERCARE_SCREENSHOT.stat().st_size > 10_000
    assert failed == []

"""What the workspace stories in Chromium share: Debian's Chromium through
Playwright (JavaScript on: htmx is served from our static files), signing in
through the form, an axe-core check (no serious or critical violation), and
screenshots at 1440x900 and at phone width in test-artifacts/workspaces/.

axe-core is vendored in tests/pages/vendor/axe.min.js (npm axe-core 4.14.1,
MPL-2.0, header kept): it is test tooling, injected into the page under test,
never served by the application.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from tests.pages.conftest import CHROMIUM

PASSWORD = "pw-for-tests-only"  # tests/factories.py UserFactory
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "workspaces"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

CSP_VIOLATION_ECHO = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`securitypolicyviolation: ${e.violatedDirective} ${e.blockedURI}`);
});
"""


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


class Session:
    """One user's browser context, watching every request it makes."""

    def __init__(self, browser, live_server_url: str):
        self.base = live_server_url
        self.context = browser.new_context(viewport=DESKTOP)
        self.page = self.context.new_page()
        self.requested: list[str] = []
        self.errors: list[tuple[int, str]] = []
        self.page.on("request", lambda r: self.requested.append(r.url))
        self.page.on(
            "response", lambda r: r.status >= 500 and self.errors.append((r.status, r.url))
        )
        self.page.on("pageerror", lambda e: self.errors.append((0, str(e))))
        # A Content-Security-Policy violation is an error too: Chromium reports each one on
        # the console, and the page's securitypolicyviolation event is echoed there as well.
        self.context.add_init_script(CSP_VIOLATION_ECHO)
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "securitypolicyviolation" in text:
            self.errors.append((0, text))

    def sign_in(self, username: str) -> None:
        page = self.page
        page.goto(f"{self.base}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

    def goto(self, path: str):
        return self.page.goto(f"{self.base}{path}")

    def wait_for_message(self, text: str) -> None:
        self.page.wait_for_selector(f".messages .message:has-text('{text}')")

    def check(self, name: str) -> None:
        """axe-core finds no serious or critical violation; screenshots at both widths."""
        page = self.page
        # Evaluated through the DevTools protocol, not added as an inline <script>: the page's
        # Content-Security-Policy rightly refuses inline scripts.
        page.evaluate(AXE.read_text())
        result = page.evaluate(
            """async () => await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
            })"""
        )
        bad = [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == [], f"{name}: {json.dumps(bad, indent=1)}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-1440.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

    def close(self) -> None:
        self.context.close()

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert all(url.startswith(self.base) for url in self.requested), "a request left the server"

"""The GraphiQL explorer in a real headless Chromium (Debian's package), with no network.

The browser reaches the gateway and nothing else: every other request is aborted (and
recorded), and its host resolver knows no name. The test loads the page, checks the
example tabs and the header editor's default, puts a key in the header editor, runs the
first example and reads the answer in the result pane; no request may have left for
another origin and the page's Content-Security-Policy may not have refused anything.

Chromium comes from Debian (``make browser-deps``, which ``make test`` runs); Playwright
drives it through ``executable_path`` and never downloads a browser. Without either the
test is skipped, or fails under ``CI``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fixtures.gateway import Gateway

try:
    from playwright.sync_api import (
        Browser,
        ConsoleMessage,
        Page,
        Request,
        Route,
        expect,
        sync_playwright,
    )
except ModuleNotFoundError:  # pragma: no cover - the dev lock carries it
    sync_playwright = None  # type: ignore[assignment]

CHROMIUM = Path(os.environ.get("GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium"))
TIMEOUT_MS = 30_000  # a first load compiles Monaco on a 2-core machine: seconds, not 30
EXAMPLE_TABS = [
    "Viewer",
    "Usage",
    "ListBadges",
    "Badge",
    "ListCredentials",
    "IssueCredential",
    "RevokeCredential",
    "VerifyCredential",
]
# Chromium's own words for a refusal by the page's policy, in the console.
CSP_WORDS = re.compile(r"Content[ -]Security[ -]Policy", re.IGNORECASE)
# Every refusal the page sees, as the DOM reports it; installed before the page's scripts.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || 'inline'}: ${event.sample}`
  );
});
"""


def _require(available: bool, message: str) -> None:
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Watch:
    """What the page did that it should not have."""

    origin: str
    outside: list[str] = field(default_factory=list)  # requests to any other origin
    failed: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)  # errors and CSP reports
    page_errors: list[str] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)  # operations sent to the gateway
    workers: list[str] = field(default_factory=list)  # Monaco's, from the gateway's files

    def request(self, request: Request) -> None:
        if request.method == "POST":
            self.posts.append(request.url)

    def route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or _origin(url) == self.origin:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort("blockedbyclient")

    def request_failed(self, request: Request) -> None:
        self.failed.append(f"{request.method} {request.url}: {request.failure}")

    def console_message(self, message: ConsoleMessage) -> None:
        if message.type == "error" or CSP_WORDS.search(message.text):
            self.console.append(f"{message.type}: {message.text}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _require(
        sync_playwright is not None,
        "Playwright for Python is not installed: it is in the dev lock (make install)",
    )
    _require(
        CHROMIUM.exists(),
        f"no Chromium at {CHROMIUM}: `make browser-deps` installs Debian's chromium",
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # No name resolves but the loopback address: nothing leaves the machine, even
            # from Chromium itself (updates, safe browsing and the like are off as well).
            args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def explorer_page(browser: Browser, gateway: Gateway) -> Iterator[tuple[Page, Watch]]:
    context = browser.new_context(service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    watch = Watch(origin=gateway.url)
    context.route("**/*", watch.route)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    page.on("request", watch.request)
    page.on("requestfailed", watch.request_failed)
    page.on("worker", lambda worker: watch.workers.append(worker.url))
    page.on("console", watch.console_message)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    try:
        yield page, watch
    finally:
        context.close()


def _editor_text(page: Page, selector: str) -> str:
    """The text Monaco shows in one editor (its rendered lines; spaces are no-break)."""
    return page.locator(f"{selector} .view-lines").inner_text().replace("\u00a0", " ")


def test_the_explorer_runs_a_query_with_a_key_offline_under_its_csp(
    explorer_page: tuple[Page, Watch], gateway: Gateway
) -> None:
    page, watch = explorer_page
    response = page.goto(f"{gateway.url}/graphql")
    assert response is not None and response.status == 200
    gateway.responses.append(response.text())  # scanned for internal data at the end
    assert "script-src 'self'" in response.headers["content-security-policy"]

    # The example operations, one tab each, the first one open.
    tabs = page.locator(".graphiql-tab")
    expect(tabs).to_have_count(len(EXAMPLE_TABS))
    assert [t.strip() for t in tabs.all_inner_texts()] == EXAMPLE_TABS
    query_editor = ".graphiql-query-editor"
    expect(page.locator(f"{query_editor} .view-lines")).to_contain_text("query Viewer")

    # The header editor is open and suggests the header a partner needs.
    headers_editor = ".graphiql-editor-tool .graphiql-editor:visible"
    expect(page.locator(f"{headers_editor} .view-lines")).to_contain_text("Bearer <your key>")
    assert '"Authorization": "Bearer <your key>"' in _editor_text(page, headers_editor)

    # Run with the placeholder: the page says where the key goes and sends nothing.
    page.locator(".graphiql-execute-button").click()
    expect(page.locator(".graphiql-response .view-lines")).to_contain_text("Replace <your key>")
    assert watch.posts == []

    # A key pasted into the header editor, then run. Inserted as one piece of text, as a
    # paste is (typed key by key, Monaco's closing of quotes and braces depended on
    # timing); what Monaco still closes after the cursor goes.
    key = gateway.keys["org1"]
    page.locator(f"{headers_editor} .monaco-editor").click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.insert_text(f'{{"Authorization": "Bearer {key}"}}')
    page.keyboard.press("Shift+End")
    page.keyboard.press("Delete")
    expect(page.locator(f"{headers_editor} .view-lines")).to_contain_text(key)
    assert _editor_text(page, headers_editor) == f'{{"Authorization": "Bearer {key}"}}'
    with page.expect_response(
        lambda r: r.url == f"{gateway.url}/graphql" and r.request.method == "POST"
    ) as answer:
        page.locator(".graphiql-execute-button").click()
    assert answer.value.status == 200
    gateway.responses.append(answer.value.text())
    assert answer.value.json()["data"]["viewer"]["company"]["name"] == "Acme Learning"

    # The result pane shows the answer.
    result = page.locator(".graphiql-response .view-lines")
    expect(result).to_contain_text("Acme Learning")
    text = _editor_text(page, ".graphiql-response")
    assert '"name": "Acme Learning"' in text and '"plan": "enterprise"' in text

    assert watch.posts == [f"{gateway.url}/graphql"]
    # Monaco's workers (the GraphQL language service among them) run from the gateway. The
    # GraphQL one starts when the editor first needs it: wait for it, for 10 s at most.
    for _ in range(100):
        if any("/graphql/explorer/assets/graphql.worker-" in url for url in watch.workers):
            break
        page.wait_for_timeout(100)  # lets Playwright deliver the page's events meanwhile
    assert any("/graphql/explorer/assets/graphql.worker-" in url for url in watch.workers)
    assert all(url.startswith(f"{gateway.url}/graphql/explorer/assets/") for url in watch.workers)
    assert watch.outside == [], "the page asked for something outside the gateway"
    assert watch.failed == [], "a request failed"
    assert watch.page_errors == [], "the page threw"
    assert page.evaluate("window.__cspViolations") == [], "the CSP refused something"
    assert watch.console == [], "errors or CSP reports in the console"

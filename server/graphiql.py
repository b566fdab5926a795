"""The GraphiQL explorer: its page at ``GET /graphql`` (browsers, no key) and its assets.

The explorer is a front-end of its own in ``explorer/`` (GraphiQL from npm, built by Vite:
``make explorer``, or the Dockerfile's node stage) that writes ``explorer/dist/``: an
``index.html`` and content-hashed files in ``assets/``. Nothing comes from a CDN: the
gateway serves the page itself, under a strict Content-Security-Policy with a fresh nonce
per response (Monaco, GraphiQL's editor, adds ``<style>`` elements that carry it), and the
assets under ``/graphql/explorer/assets/``, cached for a year::

    explorer = Explorer.load(settings.explorer_dir)
    reply = explorer.page()  # the HTML, with its CSP and security headers
    Mount(ASSETS_PATH, explorer.assets)  # None when the explorer was not built

When ``index.html`` is missing the gateway still starts, and the page (503) says how to
build the explorer.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from server.responses import Reply

__all__ = ["ASSETS_PATH", "DEFAULT_DIST", "Explorer", "content_security_policy"]

# explorer/dist in a checkout (editable install); the image sets GATEWAY_EXPLORER_DIR.
DEFAULT_DIST = Path(__file__).resolve().parents[1] / "explorer" / "dist"
ASSETS_PATH = "/graphql/explorer/assets"  # Vite's base (explorer/vite.config.js) + assets/
NONCE_PLACEHOLDER = b"__CSP_NONCE__"  # in explorer/index.html's <meta name="csp-nonce">

_HTML = b"text/html; charset=utf-8"
_IMMUTABLE = "public, max-age=31536000, immutable"
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)

NOT_BUILT_PAGE = b"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Partner API explorer: not built</title></head>
<body>
<h1>The explorer is not built</h1>
<p>This gateway serves the GraphiQL explorer from its build, <code>explorer/dist/</code>,
which it did not find. Build it with <code>make explorer</code> (or
<code>npm ci &amp;&amp; npm run build</code> in <code>explorer/</code>, with Node.js 20.19 or
later), then restart the gateway; <code>GATEWAY_EXPLORER_DIR</code> names another build
directory. The Docker image is built with it.</p>
<p>The API itself works: send <code>POST /graphql</code> with
<code>Authorization: Bearer &lt;your key&gt;</code>.</p>
</body>
</html>
"""


def content_security_policy(nonce: str) -> str:
    """The page's policy: its own scripts, styles, fonts, workers and API, nothing else.

    ``style-src-attr 'unsafe-inline'``: Monaco renders each editor line as HTML with a
    ``style="top:..."`` attribute, which no nonce can cover; style attributes load nothing
    (images and fonts stay ``'self'``) and run nothing. ``<style>`` elements need the nonce.
    """
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{nonce}'",
            "style-src-attr 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


class ImmutableAssets(StaticFiles):
    """Content-hashed build files: cached for a year, never sniffed."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["cache-control"] = _IMMUTABLE
        response.headers["x-content-type-options"] = "nosniff"
        return response


class Explorer:
    """The built explorer (or the lack of it), read once at start-up."""

    def __init__(self, directory: Path, html: bytes | None) -> None:
        self.directory = directory
        self._html = html
        self.assets = ImmutableAssets(directory=directory / "assets") if html is not None else None

    @classmethod
    def load(cls, directory: Path | None = None) -> Explorer:
        directory = directory or DEFAULT_DIST
        try:
            html = (directory / "index.html").read_bytes()
        except OSError:
            return cls(directory, None)
        if NONCE_PLACEHOLDER not in html or not (directory / "assets").is_dir():
            return cls(directory, None)
        return cls(directory, html)

    @property
    def built(self) -> bool:
        return self._html is not None

    def page(self) -> Reply:
        nonce = secrets.token_urlsafe(18)  # 144 bits, fresh for every response
        if self._html is None:
            csp = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            return Reply(503, NOT_BUILT_PAGE, _headers(csp), content_type=_HTML)
        body = self._html.replace(NONCE_PLACEHOLDER, nonce.encode())
        return Reply(200, body, _headers(content_security_policy(nonce)), content_type=_HTML)


def _headers(csp: str) -> tuple[tuple[bytes, bytes], ...]:
    return ((b"content-security-policy", csp.encode()), *_SECURITY_HEADERS)

"""Headless Chromium for the workbench's browser tests: Debian's ``chromium`` driven through
``chromedriver`` by Selenium, the service served by uvicorn in a thread, axe-core (npm, pinned in
``axe/``) injected for the accessibility check. The tests skip, saying why, only when Chromium,
chromedriver or Selenium is missing (``scripts/test.sh`` installs them); screenshots go to
``tests/workbench/artifacts/`` (git-ignored)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import html5lib
import pytest
import uvicorn

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
AXE = HERE / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return "Chromium is not installed (scripts/test.sh installs Debian's chromium when it can)"
    if not Path(CHROMEDRIVER).exists():
        return "chromedriver is not installed (Debian's chromium-driver; scripts/test.sh installs it)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "Selenium is not installed (scripts/bootstrap.sh test installs it)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` on a free local port while the block runs; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def chromium(*, javascript: bool = True) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1366,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


def console_errors(driver: Any) -> list[str]:
    return [str(e.get("message")) for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def screenshot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the loaded page."""
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed ({AXE}; tests/workbench/axe/install.sh installs it)")
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));"
    )
    return [v for v in result if v.get("impact") in ("serious", "critical")]


def html_errors(source: str) -> list[str]:
    """Parse errors of the WHATWG HTML parser (html5lib): unclosed or misnested tags, bad
    attributes, stray end tags..."""
    parser = html5lib.HTMLParser(strict=False)
    parser.parse(source)
    return [f"{pos}: {code} {data}" for pos, code, data in parser.errors]

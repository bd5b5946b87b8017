"""A real browser (Playwright driving Debian's Chromium) signs in, uploads the sample recording, waits for the
result, checks the session view, edits the note and signs it. A screenshot is kept for a human to look at."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from web_helpers import PASSWORD, make_users, web_settings
from web_server import serve_in_thread

CHROMIUM = os.environ.get("TAGGER_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("TAGGER_SCREENSHOTS", "")) if os.environ.get("TAGGER_SCREENSHOTS") else None

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (web extra)")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"{CHROMIUM} not found: install the Debian package 'chromium' (listed in .ci/apt-packages-web.txt)",
                allow_module_level=True)


def test_sign_in_upload_review_and_sign(tmp_path: Path, data_samples: Path) -> None:
    settings = web_settings(tmp_path / "data")
    make_users(settings)
    shots = SCREENSHOTS or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with serve_in_thread(settings) as url, playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy="
                                                                      "no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: d.accept())

        # unauthenticated: redirected to sign in, then back
        page.goto(url + "/upload")
        assert "/login" in page.url
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/upload$"))

        # upload the recording through the page's script (progress bar, API call with the CSRF header)
        page.set_input_files("#file", str(data_samples / "session_audio.mp3"))
        assert page.inner_text("#drop-text") == "session_audio.mp3"
        page.select_option("select[name=note_format]", "dap")
        page.click("#upload-form button[type=submit]")
        page.wait_for_url(re.compile(r".*/sessions/[0-9a-f]{32}$"))
        session_url = page.url

        # the job page polls and reloads when done
        page.wait_for_selector("#note", timeout=180_000)
        assert "DAP progress note (draft)" in page.inner_text("#note h2")
        lines = page.locator("li.line")
        assert lines.count() >= 4
        assert page.locator("li.line .chip").count() > 0
        assert page.locator("svg.timeline rect").count() > 0

        # filter by a family, then back to all
        first_family = page.locator(".filter[data-family]:not([data-family=''])").first
        fam = first_family.get_attribute("data-family")
        first_family.click()
        visible = page.locator("li.line:visible")
        assert 0 < visible.count() <= lines.count()
        for i in range(visible.count()):
            assert fam in (visible.nth(i).get_attribute("data-families") or "").split()
        page.click(".filter[data-family='']")
        assert page.locator("li.line:visible").count() == lines.count()

        # click a line: the audio jumps to its time
        line = page.locator("li.line[data-start]").nth(2)
        start = float(line.get_attribute("data-start") or 0)
        line.click()
        page.wait_for_function(
            f"() => Math.abs(document.getElementById('player').currentTime - {start}) < 1.5")

        # edit the note (clinician field and one statement), save: version 2
        page.fill("input[name='h:clinician']", "Dr. Alice Example")
        first_statement = page.locator("#note-form textarea[name^='s:']").first
        first_statement.fill("Edited by the clinician: " + first_statement.input_value())
        page.click("#save-note")
        page.wait_for_selector("text=Saved note version 2.")

        page.screenshot(path=str(shots / "session-draft.png"), full_page=True)
        # sign it (the confirm dialog is accepted): read-only afterwards
        page.click("#sign-note")
        page.wait_for_selector("#signed")
        assert "Signed by Alice" in page.inner_text("#signed")
        assert "DAP progress note (signed)" in page.inner_text("#note h2")
        assert page.locator("#note-form textarea").count() == 0
        assert page.locator("#sign-note").count() == 0
        page.screenshot(path=str(shots / "session-signed.png"), full_page=False)

        # the sessions list shows it done
        page.goto(url + "/sessions")
        assert page.locator("tr[data-status=done]").count() == 1
        page.screenshot(path=str(shots / "sessions.png"))
        assert session_url.rsplit("/", 1)[1] in page.inner_html("#sessions")
        assert not errors, errors
        browser.close()

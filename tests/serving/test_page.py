"""The monitor's page in real headless Chromium against a live server: what it shows equals what the API says."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
import pytest

from tests.conftest import read_jsonl
from tests.serving.live import LiveServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SEED_GROUP = "seed-embassy-pyongyang-kursk-monuments"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _seed_article() -> str:
    rows = read_jsonl(Path(__file__).resolve().parents[2] / "datasets" / "framing-v1" / "train.jsonl")
    sentences = [row["text"] for row in rows if row.get("group") == SEED_GROUP]
    assert len(sentences) == 26
    return sentences[0] + "\n\n" + " ".join(sentences[1:])


@pytest.fixture
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI installs it: apt-get install -y chromium)")
        pytest.skip("chromium not installed: apt-get install -y chromium")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


def test_page_shows_every_sentence_with_the_api_labels_and_downloads_them_all(browser, probe_checkpoint, tmp_path):
    article = _seed_article()
    server = LiveServer(probe_checkpoint, tmp_path)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            expected = client.post("/v1/analyze", json={"text": article}).json()["sentences"]
            model = client.get("/v1/model").json()
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.url + "/")
        page.wait_for_selector("#legend li")
        legend = page.eval_on_selector_all("#legend li", "items => items.map(i => i.dataset.label)")
        assert legend == [label["id"] for label in model["labels"]]
        for label in model["labels"]:
            assert label["name"] in page.inner_text("#legend")

        page.fill("#article", article)
        page.click("#analyze")
        page.wait_for_function(
            "() => /carry a label|none carries/.test(document.getElementById('status').textContent)", timeout=120_000
        )
        shown = page.eval_on_selector_all(
            ".sentence",
            """nodes => nodes.map(n => ({
                text: n.querySelector('.sentence-text').textContent,
                labels: n.dataset.labels ? n.dataset.labels.split(' ') : [],
                flagged: n.classList.contains('flagged')}))""",
        )
        assert [s["text"] for s in shown] == [s["text"] for s in expected]
        assert [s["labels"] for s in shown] == [s["labels"] for s in expected]
        assert [s["flagged"] for s in shown] == [bool(s["labels"]) for s in expected]
        flagged = [s for s in expected if s["labels"]]
        assert flagged, "the seed article should carry at least one frame for this check to mean something"

        page.mouse.move(0, 0)
        page.focus(".sentence.flagged")  # keyboard: the details panel follows focus
        first = next(i for i, s in enumerate(expected) if s["labels"])
        details = page.inner_text("#details")
        assert details.startswith(f"Sentence {first + 1}"), details
        assert "Why " in details and "Score" in details
        assert page.query_selector("#details mark.evidence") is not None or "No single word" in details

        with page.expect_download() as download_info:
            page.click("#download-json")
        downloaded = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
        assert [s["text"] for s in downloaded["sentences"]] == [s["text"] for s in expected]
        assert [s["labels"] for s in downloaded["sentences"]] == [s["labels"] for s in expected]
        with page.expect_download() as download_info:
            page.click("#download-csv")
        csv_lines = Path(download_info.value.path()).read_text(encoding="utf-8").splitlines()
        assert csv_lines[0].startswith("index,start,end,text,labels")

        page.screenshot(path=str(tmp_path / "page-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)  # let the narrow layout paint
        page.screenshot(path=str(tmp_path / "page-390.png"), full_page=True)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390 + 1, f"the page scrolls sideways at phone width ({width} px)"
        print(f"screenshots: {tmp_path / 'page-1280.png'} {tmp_path / 'page-390.png'}")

        page.check("#only-flagged")
        visible = page.eval_on_selector_all(".sentence", "ns => ns.filter(n => n.offsetParent !== null).length")
        assert visible == len(flagged)

        label = model["labels"][0]["id"]
        page.fill("#threshold-0", "0")  # every sentence reaches a zero threshold
        page.dispatch_event("#threshold-0", "input")
        page.uncheck("#only-flagged")
        labelled = page.eval_on_selector_all(
            ".sentence", f"ns => ns.filter(n => n.dataset.labels.split(' ').includes('{label}')).length"
        )
        assert labelled == len(expected)
    finally:
        assert server.stop() == 0


def test_page_explains_an_error_in_words(browser, probe_checkpoint, tmp_path):
    server = LiveServer(probe_checkpoint, tmp_path, "serving.max_chars_per_article=50")
    try:
        page = browser.new_page()
        page.goto(server.url + "/")
        page.wait_for_selector("#legend li")
        page.fill("#article", "A sentence that is long enough. " * 5)
        page.click("#analyze")
        page.wait_for_selector("#error:not([hidden])")
        message = page.inner_text("#error")
        assert "(422)" in message and "at most 50" in message
    finally:
        server.stop()


def test_page_asks_for_the_api_key_and_keeps_it_out_of_urls(browser, probe_checkpoint, tmp_path):
    server = LiveServer(probe_checkpoint, tmp_path, env={"FRAMEWATCH_API_KEYS": "monitor-key"})
    try:
        page = browser.new_page()
        urls: list[str] = []
        page.on("request", lambda request: urls.append(request.url))
        page.goto(server.url + "/")
        page.wait_for_selector("#error:not([hidden])")
        assert "(401)" in page.inner_text("#error") and "API key" in page.inner_text("#error")
        page.fill("#api-key", "monitor-key")
        page.dispatch_event("#api-key", "change")
        page.wait_for_selector("#legend li")
        page.fill("#article", "The delegation laid a wreath at the memorial. Talks resume on Monday.")
        page.click("#analyze")
        page.wait_for_selector(".sentence")
        assert page.evaluate("() => sessionStorage.getItem('framewatch-api-key')") == "monitor-key"
        assert page.evaluate("() => localStorage.length") == 0
        assert urls and not any("monitor-key" in url for url in urls)
    finally:
        server.stop()

"""`rolegraph report RUN_DIR --html`: one self-contained page, opened in headless Chromium as a person would."""
from __future__ import annotations

import base64
import html
import json
import re
import shutil
import sqlite3
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rolegraph.cli import main
from rolegraph.optimize.run_reader import load_run
from rolegraph.reports.html import SECTIONS, write_html
from tests.optimize.helpers import run, tiny_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")
CHROMIUM_TIMEOUT_S = 120
VIRTUAL_TIME_MS = 10_000  # lets the load event (and the probe below) run before the DOM is dumped
WINDOW = (1280, 1800)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PROBE_ID = "rolegraph-probe"
PROBE = f"""<script>
window.addEventListener("load", () => {{
  const out = document.createElement("pre");
  out.id = "{PROBE_ID}";
  out.textContent = JSON.stringify({{
    images: [...document.images].map(i => ({{figure: i.closest("figure") && i.closest("figure").id,
                                           w: i.naturalWidth, h: i.naturalHeight,
                                           shown: i.getBoundingClientRect().width}})),
    resources: performance.getEntriesByType("resource").map(r => r.name),
    sections: [...document.querySelectorAll("main > section")]
      .map(s => [s.id, Math.round(s.getBoundingClientRect().height)])
  }});
  document.body.appendChild(out);
}});
</script>"""
"""Appended to a copy of the page for the test only: reads what the browser decoded and fetched."""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, pool, small_task) -> Path:
    """A finished tiny Agent-REINFORCE search on the sim pool (it writes textual gradients)."""
    base = tmp_path_factory.mktemp("html-report")
    out = base / "run"
    # the pilot (its two stages) is iterations 1-3; its feedback, then two steps
    run(pool, base / "home", small_task, "agent-reinforce", config=tiny_config(iterations=5), out=out)
    return out


class _Page(HTMLParser):
    """Tags, attributes and text of a page, enough to check structure and external references."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_report_html_is_one_self_contained_page_with_every_section(run_dir, capsys):
    try:
        main(["report", str(run_dir), "--html"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    page_path = run_dir / "report.html"
    assert f"wrote {page_path}" in out and page_path.is_file()
    text = page_path.read_text(encoding="utf-8")
    page = parse(text)
    ids = [a.get("id") for t, a in page.tags if t == "section"]
    assert ids == [key for key, _ in SECTIONS]
    imgs = [a for t, a in page.tags if t == "img"]
    assert len(imgs) == 3 and all(a.get("alt") for a in imgs)
    for a in imgs:  # every figure is inline, and a real PNG
        head, data = a["src"].split(",", 1)
        assert head == "data:image/png;base64" and base64.b64decode(data).startswith(PNG_MAGIC)
    # nothing is fetched: no external script, stylesheet, font, frame or url() reference
    assert not [t for t, a in page.tags if t in ("link", "script", "iframe", "object", "embed")]
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "url(" not in text and "@import" not in text
    run_data = load_run(run_dir)
    words = " ".join(page.text)
    assert "SIMULATED" in words and "not claims about real models" in words  # labelled simulated
    gradients = [a["id"] for t, a in page.tags if t == "div" and a.get("id", "").startswith("gradient-")]
    assert gradients == [f"gradient-{f.iteration}" for f in run_data["feedback"]] and len(gradients) >= 2
    for f in run_data["feedback"][1:]:
        assert f.summary in words and all(h in words for h in f.helped)
    best = run_data["final"].test
    assert f"{best.accuracy:.3f}" in words and run_data["config"]["task"] in words
    assert "search.batch" in words and "space.models" in words  # the settings, flattened
    per_node = run_data["final"].per_node  # measured on the test items, one row per node of the chosen graph
    assert per_node and "own answer right" in words and "output agreed" in words
    best_graph = run_data["graphs"][run_data["final"].chosen_hash]
    assert sorted(per_node) == sorted(n["id"] for n in best_graph["nodes"])


def test_html_escapes_what_it_shows(run_dir, tmp_path):
    """Text from the store (here a feedback summary) is escaped: it cannot inject markup into the page."""
    copy = Path(shutil.copytree(run_dir, tmp_path / "run"))
    evil = '<img src=x onerror="alert(1)"> & <script>alert(2)</script>'
    with sqlite3.connect(copy / "run.sqlite") as db:
        seq, record = db.execute("SELECT seq, record FROM feedback ORDER BY seq LIMIT 1").fetchone()
        db.execute("UPDATE feedback SET record = ? WHERE seq = ?", (json.dumps({**json.loads(record), "summary": evil}),
                                                                    seq))
    page = write_html(copy).read_text(encoding="utf-8")
    assert "<script" not in page and "onerror=\"" not in page
    assert html.escape(evil) in page and page.count("<img") == 3


def test_unfinished_run_renders_what_there_is(run_dir, tmp_path):
    """A run stopped before its final check: the best so far, no test scores, no measured per-node columns."""
    copy = Path(shutil.copytree(run_dir, tmp_path / "run"))
    with sqlite3.connect(copy / "run.sqlite") as db:
        (state,) = db.execute("SELECT state FROM checkpoint").fetchone()
        db.execute("UPDATE checkpoint SET state = ?, phase = 'search'", (json.dumps({**json.loads(state),
                                                                                      "final": None}),))
    page = write_html(copy).read_text(encoding="utf-8")
    words = " ".join(parse(page).text)
    assert page.count("<section") == len(SECTIONS) and page.count("<img") == 3
    assert "test accuracy" not in words and "own answer right" not in words and "search" in words


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    cmd = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
           *args]
    return subprocess.run(cmd, capture_output=True, timeout=CHROMIUM_TIMEOUT_S, stdin=subprocess.DEVNULL)


def non_background_share(png: Path) -> tuple[float, int]:
    """(share of pixels unlike the page background, distinct colours) of a screenshot."""
    import numpy as np
    from PIL import Image

    with Image.open(png) as im:
        pixels = np.asarray(im.convert("RGB"), dtype=np.int32).reshape(-1, 3)
    packed = (pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2]
    colours, counts = np.unique(packed, return_counts=True)
    background = pixels[packed == colours[counts.argmax()]][0]
    differ = np.abs(pixels - background).sum(axis=1) > 30
    return float(differ.mean()), len(colours)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium); "
                                                  ".ci/run installs it")
def test_page_renders_its_figures_in_headless_chromium(run_dir, tmp_path):
    page = write_html(run_dir, tmp_path / "report.html")
    probe_page = tmp_path / "probed.html"
    probe_page.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "\n</body>"), encoding="utf-8")
    shot = tmp_path / "report.png"
    dumped = chromium([f"--virtual-time-budget={VIRTUAL_TIME_MS}", f"--screenshot={shot}", "--dump-dom",
                       probe_page.as_uri()], tmp_path / "profile")
    assert dumped.returncode == 0, dumped.stderr.decode(errors="replace")[-2000:]
    dom = dumped.stdout.decode("utf-8", errors="replace")
    match = re.search(rf'<pre id="{PROBE_ID}">(.*?)</pre>', dom, re.S)
    assert match, "the page's load event never ran"
    probe = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    figures = {img["figure"]: img for img in probe["images"]}
    assert set(figures) == {"fig-curve", "fig-pareto", "fig-graph"}
    assert all(img["w"] > 0 and img["h"] > 0 and img["shown"] > 0 for img in probe["images"])  # decoded and laid out
    assert probe["resources"] == []  # the browser fetched nothing
    assert [s for s, _ in probe["sections"]] == [key for key, _ in SECTIONS]
    assert all(height > 0 for _, height in probe["sections"])

    assert shot.is_file()  # what a person sees first: the top of the page
    share, colours = non_background_share(shot)
    assert share > 0.05 and colours > 50  # text, tables and plotted figures, not a blank page

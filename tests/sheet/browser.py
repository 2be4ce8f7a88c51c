"""A real headless Chromium (Debian's ``chromium`` package) for the verification sheet.

Each call starts a fresh browser with a fresh profile and no network services of its own (the
machine's network is closed: background networking, component updates, sync and QUIC are off),
and is bounded in time. Under ``CI=true`` a missing browser, PDF tool or Chinese font fails the
test loudly; elsewhere the browser tests are skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

TIMEOUT = 120  # seconds for one browser run
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
#: What `.ci/run` installs from Debian's packages for these tests.
PACKAGES = "chromium fonts-wqy-zenhei poppler-utils"

#: A4 at 96 CSS pixels per inch, and the sheet's printed column (210 mm less 2 x 12 mm).
A4_PX = (794, 1123)
COLUMN_PX = 703

# Appended to a copy of the sheet (the sheet itself has no script): every element's box must
# stay inside the body's content box, and the page must not scroll sideways.
PROBE = """<script>
(() => {
  const body = document.body, st = getComputedStyle(body), r = body.getBoundingClientRect();
  const left = r.left + parseFloat(st.paddingLeft) - 0.5;
  const right = r.right - parseFloat(st.paddingRight) + 0.5;
  const bad = [];
  for (const el of body.querySelectorAll('*')) {
    const b = el.getBoundingClientRect();
    if (b.width && (b.right > right || b.left < left)) {
      bad.push(el.tagName + ' ' + (el.textContent || '').trim().slice(0, 40));
    }
  }
  const doc = document.documentElement;
  const out = {bad: bad, scroll: doc.scrollWidth, client: doc.clientWidth};
  body.setAttribute('data-probe', JSON.stringify(out));
})();
</script>"""


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        message = f"{tool} is not installed (apt-get install {PACKAGES})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the browser tests: {message}")
        pytest.skip(message)
    return found


def _chinese_font() -> None:
    listed = subprocess.run(
        [_need("fc-list"), ":lang=zh", "family"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if not listed.stdout.strip():
        message = f"no Chinese font is installed (apt-get install {PACKAGES})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _run(args: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    profile = workdir / f"profile-{len(list(workdir.glob('profile-*')))}"
    done = subprocess.run(
        [_need("chromium"), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def print_pdf(html: Path) -> Path:
    """The sheet printed to PDF by Chromium (A4 from the sheet's own ``@page``)."""
    _chinese_font()
    pdf = html.with_suffix(".pdf")
    _run(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri()], html.parent)
    assert pdf.read_bytes().startswith(b"%PDF-")
    return pdf


def screenshot(html: Path, size: tuple[int, int] = A4_PX) -> Path:
    """A PNG of the sheet in a window of ``size`` CSS pixels."""
    _chinese_font()
    png = html.with_suffix(f".{size[0]}.png")
    _run([f"--window-size={size[0]},{size[1]}", f"--screenshot={png}", html.as_uri()], html.parent)
    assert png.read_bytes().startswith(b"\x89PNG")
    return png


def overflow(html: Path, width: int) -> dict[str, object]:
    """What the layout probe finds in a window ``width`` CSS pixels wide."""
    probe = html.with_name(html.stem + f".probe{width}.html")
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    done = _run(
        [f"--window-size={width},{A4_PX[1]}", "--virtual-time-budget=2000", "--dump-dom",
         probe.as_uri()],
        html.parent,
    )  # fmt: skip
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found is not None, "the probe did not run"
    text = found.group(1).replace("&quot;", '"').replace("&amp;", "&")
    result: dict[str, object] = json.loads(text)
    return result


def pdf_text(pdf: Path) -> str:
    done = subprocess.run(
        [_need("pdftotext"), "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def pdf_pages(pdf: Path) -> tuple[int, str]:
    """The page count and page size line of ``pdfinfo``."""
    done = subprocess.run(
        [_need("pdfinfo"), str(pdf)], capture_output=True, text=True, timeout=60, check=True
    )
    pages = int(re.search(r"^Pages:\s+(\d+)", done.stdout, re.M).group(1))  # type: ignore[union-attr]
    size = re.search(r"^Page size:\s+(.*)$", done.stdout, re.M).group(1)  # type: ignore[union-attr]
    return pages, size

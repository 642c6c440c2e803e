"""No emoji as icons in what the browser draws: Debian's Chromium has no emoji font, so an
emoji (the old header bell, U+1F514) shows as an empty box. Icons are inline SVG
(templates/_icons.html); the remaining symbols (arrows, check marks) are in DejaVu Sans,
the font Debian installs with Chromium."""
from __future__ import annotations

import re
from pathlib import Path

import cardbase

ROOT = Path(cardbase.__file__).resolve().parent
# Supplementary-plane pictographs, the emoji variation selector, and numeric character
# references to them, in templates, our JavaScript and the HTML our Python builds.
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\uFE0F]")
_EMOJI_REFERENCE = re.compile(r"&#(?:x1[fF][0-9a-fA-F]{3}|1[12][0-9]{4});|\\u\{1[fF][0-9a-fA-F]{3}\}|\\u[dD]83[cdeCDE]")


def _shown_sources() -> list[Path]:
    kinds = ("*.html", "*.js", "*.py", "*.css")
    return sorted(p for kind in kinds for p in ROOT.rglob(kind) if "translations" not in p.parts)


def test_no_template_script_or_view_uses_an_emoji():
    found = []
    for path in _shown_sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _EMOJI.search(line) or _EMOJI_REFERENCE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert found == []


def test_the_scan_would_catch_the_old_bell():
    assert _EMOJI_REFERENCE.search("&#128276;") and _EMOJI.search("\U0001F514") and _EMOJI_REFERENCE.search("&#x1F514;")


def test_the_bell_macro_draws_an_svg_hidden_from_screen_readers():
    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(str(ROOT / "platform" / "templates")), autoescape=True)
    html = str(env.from_string('{% from "_icons.html" import icon %}{{ icon("bell") }}').render())
    assert html.startswith("<svg") and 'aria-hidden="true"' in html and 'focusable="false"' in html
    assert re.search(r'<path d="M8 16a2[^"]+"/>', html)

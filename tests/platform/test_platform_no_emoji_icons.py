"""No emoji as icons in what the browser draws: Debian's Chromium has no emoji font, so an
emoji (the old header bell U+1F514, the lock U+1F512 before "restricted") shows as an empty
box. Icons are inline SVG (platform/web/icons.py); the remaining symbols (arrows, check
marks) are in DejaVu Sans, the font Debian installs with Chromium."""
from __future__ import annotations

import re
from pathlib import Path

import cardbase

ROOT = Path(cardbase.__file__).resolve().parent
# Supplementary-plane pictographs, the emoji variation selector, and numeric character
# references to them, in templates, our JavaScript and the HTML our Python builds.
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\uFE0F]")
_EMOJI_REFERENCE = re.compile(r"&#(?:x1[fF][0-9a-fA-F]{3}|1[12][0-9]{4});"   # HTML
                             r"|\\u\{1[fF][0-9a-fA-F]{3}\}|\\u[dD]83[cdeCDE]"   # JavaScript
                             r"|\\0*1[fF][0-9a-fA-F]{3}\b|\\U0001[fF]")          # CSS, Python


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
    for old in ("&#128276;", "&#x1F514;", 'content: "\\1F512\\00A0"', "\\u{1F514}", "\\uD83D\\uDD14"):
        assert _EMOJI_REFERENCE.search(old), old
    assert _EMOJI.search("\U0001F514") and not _EMOJI_REFERENCE.search("\\00A0 \\2192 &#8594;")


def test_icons_are_inline_svg_hidden_from_screen_readers():
    from cardbase.platform.web.icons import ICON_PATHS, icon

    for name in ICON_PATHS:
        html = str(icon(name))
        assert html.startswith("<svg") and html.endswith("</svg>")
        assert 'aria-hidden="true"' in html and 'focusable="false"' in html and 'fill="currentColor"' in html
        assert f'd="{ICON_PATHS[name]}"' in html

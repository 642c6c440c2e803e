"""Icons drawn as inline SVG, for templates (the ``icon`` Jinja global) and the HTML our
Python builds. Why SVG: Debian's Chromium has no emoji font and drew the emoji we used
(the bell, the lock) as an empty box; SVG needs no icon font download and no CDN.

The paths are Bootstrap Icons' (MIT licence, as shipped in the bootstrap-flask package).
An icon is decoration: the link, button or text around it carries the accessible name."""
from __future__ import annotations

from markupsafe import Markup

ICON_PATHS: dict[str, str] = {
    "bell": "M8 16a2 2 0 0 0 2-2H6a2 2 0 0 0 2 2M8 1.918l-.797.161A4 4 0 0 0 4 6c0 .628-.134 2.197-.459 "
            "3.742-.16.767-.376 1.566-.663 2.258h10.244c-.287-.692-.502-1.49-.663-2.258C12.134 8.197 12 6.628 "
            "12 6a4 4 0 0 0-3.203-3.92zM14.22 12c.223.447.481.801.78 1H1c.299-.199.557-.553.78-1C2.68 10.2 3 "
            "6.88 3 6c0-2.42 1.72-4.44 4.005-4.901a1 1 0 1 1 1.99 0A5 5 0 0 1 13 6c0 .88.32 4.2 1.22 6",
    "lock": "M8 0a4 4 0 0 1 4 4v2.05a2.5 2.5 0 0 1 2 2.45v5a2.5 2.5 0 0 1-2.5 2.5h-7A2.5 2.5 0 0 1 2 13.5v-5a2.5 "
            "2.5 0 0 1 2-2.45V4a4 4 0 0 1 4-4M4.5 7A1.5 1.5 0 0 0 3 8.5v5A1.5 1.5 0 0 0 4.5 15h7a1.5 1.5 0 0 0 "
            "1.5-1.5v-5A1.5 1.5 0 0 0 11.5 7zM8 1a3 3 0 0 0-3 3v2h6V4a3 3 0 0 0-3-3",
}
_EVEN_ODD = {"lock"}  # paths drawn with fill-rule="evenodd" in Bootstrap Icons


def icon(name: str) -> Markup:
    """The icon ``name`` as an inline SVG at text size, hidden from screen readers."""
    rule = "evenodd" if name in _EVEN_ODD else "nonzero"
    return Markup('<svg class="cb-icon cb-icon-{0}" width="1.15em" height="1.15em" viewBox="0 0 16 16" '
                  'fill="currentColor" aria-hidden="true" focusable="false">'
                  '<path fill-rule="{1}" d="{2}"/></svg>').format(name, rule, ICON_PATHS[name])

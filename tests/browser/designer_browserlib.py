"""Helpers of the browser tests: signing in through the login form (the ``login`` fixture
of conftest.py uses it too) and, for the configurator's tests, the accessibility sweep
of a page's controls and the id of the focused element."""
from __future__ import annotations

from typing import Any

# Every input (but hidden ones), select, textarea and button inside `scope` must have an
# accessible name with a letter or digit in it: a <label for>, aria-label, aria-labelledby
# naming elements with text, or (buttons) their own text or value. Arrows and "×" alone do
# not name a control. Hidden controls count too (another type's options, closed details).
_UNNAMED_JS = r"""(scope) => {
  const root = document.querySelector(scope);
  if (!root) { return ["no element " + scope]; }
  const words = (text) => /[\p{L}\p{N}]/u.test(text || "");
  const named = (e) => {
    if (e.labels && [...e.labels].some(l => words(l.textContent))) { return true; }
    if (words(e.getAttribute("aria-label"))) { return true; }
    const by = (e.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    if (by.length && by.every(id => document.getElementById(id))
        && words(by.map(id => document.getElementById(id).textContent).join(" "))) { return true; }
    if (e.tagName === "BUTTON" && words(e.textContent)) { return true; }
    if (e.tagName === "INPUT" && ["submit", "button", "reset"].includes(e.type) && words(e.value)) { return true; }
    return false;
  };
  return [...root.querySelectorAll("input:not([type=hidden]), select, textarea, button")]
    .filter(e => !named(e)).map(e => e.id || e.name || e.outerHTML.slice(0, 120));
}"""

_DUPLICATE_IDS_JS = r"""() => {
  const seen = {}, twice = [];
  document.querySelectorAll("[id]").forEach(e => { if (seen[e.id]) { twice.push(e.id); } seen[e.id] = true; });
  return [...new Set(twice)];
}"""


def unnamed_controls(page: Any, scope: str = "body") -> list[str]:
    """The controls inside ``scope`` that have no accessible name (ids, names or HTML)."""
    return page.evaluate(_UNNAMED_JS, scope)


def duplicate_ids(page: Any) -> list[str]:
    """Ids used more than once on the page (a label for= would name the wrong control)."""
    return page.evaluate(_DUPLICATE_IDS_JS)


def focused_id(page: Any) -> str:
    """The id of the element that has the keyboard focus."""
    return page.evaluate("document.activeElement && document.activeElement.id")


def sign_in(page: Any, url: str, username: str, password: str, ready: str = "#cb-user-menu") -> Any:
    """Sign in through the login form of the site at ``url``; waits until the page shows
    ``ready`` (the user menu; at phone width the menu is collapsed: ".navbar-toggler")."""
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector(ready)
    return page


def follow(page: Any, selector: str) -> Any:
    """Click a link or button that opens another page and wait until that page has loaded
    (its scripts have run): typing into a form before its script listens would be lost."""
    with page.expect_navigation(wait_until="load"):
        page.click(selector)
    return page


def items_of(page: Any, section: str) -> list[str]:
    """The keys ("f:city", "l:deal.organisation") of the entries of one section of the card
    designer ("tab:section", e.g. "0:1"), in order."""
    return page.locator(f'[data-drop="{section}"] > .cb-item').evaluate_all("els => els.map(e => e.dataset.key)")

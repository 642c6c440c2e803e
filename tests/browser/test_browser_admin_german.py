"""Issue 13, point 10 in German: the Juniors scenario (tests/browser/juniors_scenario.py)
on a fresh copy of the demo site, the admin and the junior both working in German -- the
admin with the keyboard only -- and the same outcome: the junior sees exactly the small
orders and their lines in the list, the card, search, the board and the export.
Screenshots: admin-rights-de, admin-rule-view-de."""
from __future__ import annotations

import juniors_scenario
import pytest

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM


@pytest.fixture(scope="module")
def shop(site):
    for username in ("admin", "junior"):  # each user's own language setting
        users.update_user(site.db, SYSTEM, username, language="de")
    return juniors_scenario.prepare_shop(site)


def test_juniors_scenario_in_german(page, new_page, site, login, screenshot, shop):
    juniors_scenario.run(page, new_page, site, login, screenshot, shop, "de")
    assert page.evaluate("document.documentElement.lang").startswith("de")

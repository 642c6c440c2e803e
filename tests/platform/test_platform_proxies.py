"""Issue 18, point 7 polish: the public form's rate limit behind a reverse proxy. With
CARDBASE_TRUSTED_PROXIES=1 the visitor's address comes from X-Forwarded-For (werkzeug's
ProxyFix), so visitors behind one proxy each get their own allowance; without it the header
is not believed (a visitor could make one up) and the proxy's address is what counts."""
from __future__ import annotations

import pytest
from api_testlib import api_for, crm_app

from cardbase.automation import forms
from cardbase.platform import proxies
from cardbase.platform.config import ConfigError

PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def _form_app(db):
    app = crm_app(db)
    made = api_for(app, db, "root").post("/api/v1/forms", {"slug": "leads", "title": "Get in touch",
                                                           "object": "deal", "fields": ["title"]})
    assert made.status_code == 201, made.get_json()
    return app


def _post(client, visitor: str, i: int) -> int:
    return client.post("/f/leads", data={"title": f"lead {i}"}, environ_base=PROXY,
                       headers={"X-Forwarded-For": visitor}).status_code


def test_behind_a_trusted_proxy_each_visitor_has_own_rate_limit(db, monkeypatch):
    monkeypatch.setenv(proxies.SETTING, "1")
    client = _form_app(db).test_client()
    first = [_post(client, "203.0.113.10", i) for i in range(forms.RATE_LIMIT + 1)]
    assert first == [200] * forms.RATE_LIMIT + [429]
    assert _post(client, "203.0.113.11", 99) == 200  # another visitor behind the same proxy
    # only the last (proxy-added) entry is believed: a made-up first entry does not reset the count
    assert _post(client, "1.2.3.4, 203.0.113.10", 100) == 429


def test_without_the_setting_forwarded_for_is_not_believed(db, monkeypatch):
    monkeypatch.delenv(proxies.SETTING, raising=False)
    client = _form_app(db).test_client()
    codes = [_post(client, f"203.0.113.{i}", i) for i in range(forms.RATE_LIMIT + 1)]
    assert codes == [200] * forms.RATE_LIMIT + [429]  # every "visitor" is the proxy's 10.0.0.2


@pytest.mark.parametrize("value", ["yes", "-1", "11", "1.5"])
def test_a_bad_setting_is_named(value):
    with pytest.raises(ConfigError, match=rf"CARDBASE_TRUSTED_PROXIES='{value}' is not a number of proxies"):
        proxies.trusted_proxies({proxies.SETTING: value})


def test_no_setting_or_zero_trusts_no_proxy():
    assert proxies.trusted_proxies({}) == 0 and proxies.trusted_proxies({proxies.SETTING: "0"}) == 0
    assert proxies.trusted_proxies({proxies.SETTING: " 2 "}) == 2

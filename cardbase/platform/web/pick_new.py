"""'+ New' inside a link picker: create the linked record without leaving the card.

The picker's "+ New" opens the target's new card in a small window with ``?pick=<the
picker's input id>``; the new card's form keeps that in its action. When the record is
created, instead of redirecting to it the window answers a small page that hands
``{id, display}`` to the card that opened it (``postMessage`` to its own origin only;
cards.js checks the origin and fills the picker) and closes itself. Without a script or an
opener the page says what was created and links to it.

"+ New" is not offered when the new record would surely be out of the user's sight
(record scope "none"); when it turns out so only after saving (a rule view it does not
match), the window says it was created but cannot be chosen, and hands nothing back."""
from __future__ import annotations

import re
from typing import Any, Mapping

from flask import render_template, url_for

from cardbase.schema_engine.snapshot import ObjectInfo

_PICK = re.compile(r"[A-Za-z][\w-]{0,99}")


def pick_target(raw: str | None) -> str | None:
    """The picker's input id from ``?pick=``, or None when absent or not an element id."""
    return raw if isinstance(raw, str) and _PICK.fullmatch(raw) else None


def picked_page(obj: ObjectInfo, record: Mapping[str, Any], display: str, pick: str):
    """The page that hands the new record to the opener's picker."""
    return render_template("web/cards/picked.html", obj=obj, record=record,
                           card_url=url_for("cards.card", object_name=obj.api_name, record_id=record["id"]),
                           picked={"type": "cardbase-picked", "pick": pick, "id": record["id"], "display": display})


def unseen_page(obj: ObjectInfo, record: str):
    """The new record is out of the user's sight: say so, and hand nothing to the picker."""
    return render_template("web/cards/picked.html", obj=obj, record=None, card_url=None, picked=None,
                           unseen=record)

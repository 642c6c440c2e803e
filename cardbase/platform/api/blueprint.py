"""The API blueprint (``/api``): every route module registers on it. Any error in an API
view becomes the API's JSON error shape (``errors.handle``)."""
from __future__ import annotations

from flask import Blueprint

from .errors import handle

bp = Blueprint("api", __name__, url_prefix="/api", template_folder="templates")
bp.register_error_handler(Exception, handle)

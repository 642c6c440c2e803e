"""System tables of the template features, declared on the shared ``meta_models.Base`` (imported by
``system_tables`` so ``create_all`` and backups see them)."""
from __future__ import annotations

from .meta_models import Base  # noqa: F401

"""The rights tables, under their old name: they are defined in ``schema_engine/rights_models.py``,
below the rights package, so the system tables (``system_tables``), field rules and accounts can
use them without importing the rights services this package's ``__init__`` loads."""
from ..rights_models import (ACCESS_MODES, DEFAULT_MODE, FIELD_LEVELS, FIELD_RANK, LEVEL_RANK, LEVELS,
                             OBJECT_RIGHTS, RECORD_SCOPES, RIGHT_LEVEL, FieldRight, ObjectAccess, ObjectRight,
                             ParentAccess, RecordScope, RightsState,
                             RuleView, Share, bump_rights_version, rights_version)

__all__ = ["ACCESS_MODES", "DEFAULT_MODE", "FIELD_LEVELS", "FIELD_RANK", "LEVEL_RANK", "LEVELS", "OBJECT_RIGHTS",
           "RECORD_SCOPES", "RIGHT_LEVEL", "FieldRight", "ObjectAccess", "ObjectRight", "ParentAccess", "RecordScope",
           "RightsState", "RuleView", "Share",
           "bump_rights_version", "rights_version"]

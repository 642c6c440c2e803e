"""Metadata services the end-user web and the configurator share: card layouts (forms)
and tables (list views) with users' saved views. See ``cards`` and ``tables``."""
from .cards import (card_fields, default_layout, delete_card, get_card, list_cards, save_card,
                    validate_card)
from . import table_designs
from .tables import (default_table, delete_view, generated_table, get_view, list_views, reset_table,
                     save_table, save_view, validate_table)

__all__ = ["card_fields", "default_layout", "default_table", "delete_card", "delete_view",
           "generated_table", "get_card", "get_view", "list_cards", "list_views", "reset_table",
           "save_card", "save_table", "save_view", "table_designs", "validate_card", "validate_table"]

"""cardbase: a no-code CRM builder.

Object types, fields, links, cards and tables are metadata; real SQL tables are created
and altered from it while the system runs. See README.md and DESIGN.md for the map.
"""

__version__ = "0.1.0"

"""Accounts: users, groups and memberships, passwords, API tokens, and the one admin policy.

Every service here takes the acting ``Actor`` and asks ``policy.ADMIN`` whether it may do
what it asks (administrators manage users, groups, memberships, other people's tokens and
the rights; anyone may change their own name, e-mail, language, password and tokens).
The CLI (acting as the system), the REST API and the web pages only adapt these calls:
none of them checks the admin flag on its own. No Flask here.

  policy.py     AdminPolicy: the admin rule, one object, one message format
  passwords.py  Argon2id hashing
  users.py      create, update, deactivate, set password, login with lockout; credentials epoch
  groups.py     create, rename, delete, members
  tokens.py     API session and personal tokens: issue, list, revoke, check

Submodules are imported where used (``from cardbase.schema_engine.accounts import users``),
so the rights package can import the policy without pulling the rest in.
"""
from .policy import ADMIN, AdminPolicy

__all__ = ["ADMIN", "AdminPolicy"]

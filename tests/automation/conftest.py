"""Makes the shared fixtures of automation_testlib (the webhook receiver and the CRM with
loopback targets allowed) available to every automation test."""
from automation_testlib import receiver, webhook_crm  # noqa: F401 (fixtures registered by import)

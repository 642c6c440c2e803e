"""The running system: app factory, configuration, users and login, CLI.

Only this package (and the designer UI) knows Flask; everything it shows or changes goes
through the schema engine's services, so the CLI, tests and workers behave the same.
"""

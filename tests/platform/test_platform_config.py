"""Configuration from the environment: safe defaults, clear errors."""
from __future__ import annotations

import pytest

from cardbase.platform.config import DEFAULT_PORT, load_config


def test_defaults():
    config = load_config({})
    assert config.database_url == "sqlite:///cardbase.db"
    assert config.secret_key is None  # generated and kept in the database, never a constant
    assert config.phone_region == "DE"
    assert config.admin_password is None
    assert config.port == DEFAULT_PORT == 5000


def test_values_from_the_environment():
    config = load_config({"CARDBASE_DATABASE_URL": "postgresql://u:p@db/cardbase", "CARDBASE_SECRET_KEY": "k",
                          "CARDBASE_PHONE_REGION": "at", "CARDBASE_ADMIN_PASSWORD": "pw-pw-pw-pw", "PORT": "8080"})
    assert config.database_url == "postgresql+psycopg://u:p@db/cardbase"
    assert (config.secret_key, config.phone_region, config.admin_password, config.port) == \
        ("k", "AT", "pw-pw-pw-pw", 8080)


def test_empty_values_mean_defaults():
    config = load_config({"CARDBASE_SECRET_KEY": "", "PORT": "", "CARDBASE_PHONE_REGION": ""})
    assert config.secret_key is None and config.port == 5000 and config.phone_region == "DE"


@pytest.mark.parametrize("port", ["http", "0", "70000"])
def test_bad_port_is_a_clear_error(port):
    with pytest.raises(ValueError, match="PORT"):
        load_config({"PORT": port})


def test_bad_port_in_the_cli_is_a_message_not_a_traceback(cli):
    result = cli("init", env={"PORT": "http"})
    assert result.exit_code == 2
    assert "PORT='http' is not a port number" in result.output

"""Configuration: production refuses to start without a shared secret key (every app server
behind the load balancer must sign sessions and CSRF tokens with the same key)."""

from __future__ import annotations

import pytest

from fieldapp.config import ConfigError, default_config


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="FIELDAPP_SECRET_KEY"):
        default_config(str(tmp_path), production=True, environ={})
    assert not (tmp_path / "secret_key").exists()  # no key of its own was made


def test_production_takes_the_shared_key_and_secure_cookies(tmp_path):
    environ = {"FIELDAPP_SECRET_KEY": "shared-by-every-server", "FIELDAPP_INSECURE_COOKIES": "1"}
    config = default_config(str(tmp_path), production=True, environ=environ)
    assert config["SECRET_KEY"] == "shared-by-every-server"
    assert config["SESSION_COOKIE_SECURE"] is True  # the demo's switch does not apply


def test_the_demo_makes_and_keeps_its_own_key(tmp_path):
    first = default_config(str(tmp_path), environ={})
    again = default_config(str(tmp_path), environ={})
    assert first["SECRET_KEY"] == again["SECRET_KEY"] and len(first["SECRET_KEY"]) == 64
    assert (
        default_config(str(tmp_path), environ={"FIELDAPP_INSECURE_COOKIES": "1"})[
            "SESSION_COOKIE_SECURE"
        ]
        is False
    )

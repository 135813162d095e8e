"""S1: passwords are stored with Argon2 in production. The test run hashes with MD5 for speed (root
conftest.py), so this reads the production settings module itself, not the overridden settings."""

from __future__ import annotations

import importlib
import os


def test_production_settings_hash_with_argon2_first():
    production = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert not any("MD5" in name for name in production.PASSWORD_HASHERS)


def test_the_test_run_uses_the_fast_hasher_only():
    from django.contrib.auth.hashers import get_hasher

    assert get_hasher().algorithm == "md5"

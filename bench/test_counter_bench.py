"""Smoke test of the counter's receipt benchmark at a tiny size (no timing assertion)."""

from __future__ import annotations

import json

import pytest

from bench import counter_receipts


@pytest.mark.django_db(transaction=True)
def test_counter_receipts_smoke(capsys, tmp_path):
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip(
            "threads need a file database on SQLite (kefu/counter/tests/test_concurrency.py); run the bench"
        )
    assert counter_receipts.main(["--clerks", "3", "--receipts", "12"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["receipts"] == 12 and out["gaps"] == 0 and out["duplicates"] == 0 and out["stored_match"]

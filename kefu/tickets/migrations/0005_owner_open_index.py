"""Index for "open work orders of one owner, newest first" (P1; issue 3 list benchmark).

A partial index over the open states only (≈ 8 % of the rows): PostgreSQL walks it backwards and
reads 20 entries for a page, and counts by state with an index-only scan (state is the last key).
SQLite does not match a partial index against bound parameters, so it keeps using
ticket_co_owner_state there; the index only costs it the writes of open work orders.
"""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_timeline_append_only")]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(state__in=["assigned", "in_progress", "new", "on_hold", "reopened"]),
                fields=["company", "owner", "received_at", "id", "state"],
                name="ticket_co_owner_open",
            ),
        ),
    ]

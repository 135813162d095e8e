"""Placeholder (filled in by its owner in this session)."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_trigram_search")]
    operations: list = []

"""The kernel: errors, process caches, schema types and the typed event registry (ARCHITECTURE.md)."""

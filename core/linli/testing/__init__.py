"""Test helpers for Linli and its integrations (also a pytest plugin: see ``plugin``)."""

"""Helpers for integrations: state tracking, entity filters and other shared building blocks."""

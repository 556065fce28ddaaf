"""Small, dependency-free utilities used by the core."""

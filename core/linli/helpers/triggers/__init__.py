"""The built-in trigger platforms; :mod:`linli.helpers.trigger` validates and attaches them."""

"""``python -m linli``: the same as the ``linli`` command."""

import sys

from linli.cli import main

sys.exit(main())

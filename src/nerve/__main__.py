"""``python -m nerve``: the same as the ``nerve`` command."""
import sys

from .cli import main

sys.exit(main())

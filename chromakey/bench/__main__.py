"""``python -m chromakey.bench``: the harness, and the entry its child processes run."""

import sys

from .cli import main

sys.exit(main())

import sys

from .core.memory import pause_collector

pause_collector()  # before the imports: see pause_collector

from .app.cli import run  # noqa: E402 - after the collector is paused

sys.exit(run())

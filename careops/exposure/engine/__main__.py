"""``python -m careops.exposure.engine scan TARGET…``: the engine with no Django at all."""

import sys

from careops.exposure.engine.cli import main

sys.exit(main())

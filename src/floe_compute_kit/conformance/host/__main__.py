"""``python -m floe_compute_kit.conformance.host``: the plugin host process."""

import sys

from floe_compute_kit.conformance.host._server import main

sys.exit(main())

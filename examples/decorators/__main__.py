"""``python -m examples.decorators``: see services.py."""

import sys

from examples.decorators.services import main

sys.exit(main())

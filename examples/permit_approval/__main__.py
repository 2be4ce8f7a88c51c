"""``python -m examples.permit_approval``: see app.py."""

import sys

from examples.permit_approval.app import main

sys.exit(main())

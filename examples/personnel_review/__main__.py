"""``python -m examples.personnel_review``: see app.py."""

import sys

from examples.personnel_review.app import main

sys.exit(main())

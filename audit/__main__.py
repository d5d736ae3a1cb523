"""`python -m audit`: see audit.cli."""

import sys
import warnings

# google.api_core warns about Python 3.11's support window on every import: noise in a report run.
warnings.filterwarnings("ignore", category=FutureWarning, module="google.api_core")

from .cli import main  # noqa: E402

sys.exit(main())

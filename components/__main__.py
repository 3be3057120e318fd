"""`python -m cloudqueue`: the same entry point as the `cloudqueue` command."""

import sys

from .tools.cli import main

sys.exit(main())

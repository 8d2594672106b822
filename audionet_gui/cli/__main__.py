"""``python -m audionet_gui.cli``: the same as the ``audionet`` command."""

import sys

from audionet_gui.cli.entry import main

sys.exit(main())

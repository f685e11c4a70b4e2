# Copyright (c) cgankd_plugin contributors.
"""``python -m demo.fashion_mnist [--quick | --smoke] ...``."""
from .run import main
main()

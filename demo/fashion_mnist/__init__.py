# Copyright (c) cgankd_plugin contributors.
"""cGAN-KD on real Fashion-MNIST with its controls (README.md, "Results on
real data"): ``python -m demo.fashion_mnist [--quick | --smoke] ...``."""

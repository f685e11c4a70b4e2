# Copyright (c) cgankd_plugin contributors.
"""The named random streams of a bank build, and the image conversion.

Every draw of a build is seeded from the build's seed, one of the stream
numbers below and its place (condition, round), so a resumed or split
build draws the same numbers as a one-process build: the bank does not
depend on the number of ranks, nor on where a killed build resumed.
"""
import numpy as np
import torch

# (seed, 1, c): the burn-in of condition c; with cDR-RS (seed, 1, c, k):
# its round k through the sampler
BURN_IN_STREAM = 1
ROUND_STREAM = 2  # (seed, 2, c, k): round k of condition c
# (seed, 3): the fit of cDR-RS (weights, order, flips); (seed, 3, 1): the
# noise of the fakes it is fitted on
DRE_STREAM = 3
MAX_RATIO_STREAM = 4  # (seed, 4, c, k): batch k of c's draw for cDR-RS's M


def seeded(seed: int, *stream: int) -> torch.Generator:
    """A CPU torch generator for one named stream of a build.

    Args:
        seed (int): The build's seed.
        *stream (int): The stream number and the draw's place in it.

    Returns:
        torch.Generator: A generator seeded from ``(seed, *stream)``.
    """
    state = np.random.SeedSequence([seed, *stream]).generate_state(2)
    value = int(state[0]) << 32 | int(state[1])
    return torch.Generator().manual_seed(value & ((1 << 63) - 1))


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float images to uint8, as they are stored and trained on.

    Args:
        images (torch.Tensor): Generated images in [-1, 1].

    Returns:
        torch.Tensor: The same images as uint8 in [0, 255].
    """
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)

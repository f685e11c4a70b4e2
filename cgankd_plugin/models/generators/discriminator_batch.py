# Copyright (c) cgankd_plugin contributors.
"""What one discriminator update of a conditional GAN scores."""
from typing import NamedTuple, Optional

import torch


class DiscriminatorBatch(NamedTuple):
    """The conditions and fake labels of one discriminator update.

    The real images are the Runner batch's; all tensors are on its device.

    Attributes:
        real_conditions: (B,) labels the discriminator scores the real
            images at.
        fake_labels: (B,) labels the generator generates the fakes at.
        fake_conditions: (B,) labels the discriminator scores the fakes at.
        real_weights: optional (B,) weights of the real loss terms.
        fake_weights: optional (B,) weights of the fake loss terms.
    """
    real_conditions: torch.Tensor
    fake_labels: torch.Tensor
    fake_conditions: torch.Tensor
    real_weights: Optional[torch.Tensor] = None
    fake_weights: Optional[torch.Tensor] = None

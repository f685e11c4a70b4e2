# Copyright (c) cgankd_plugin contributors.
from .real_images import (DatasetImages, RealImages, TensorImages,  # noqa
                          image_of)

__all__ = ['RealImages', 'DatasetImages', 'TensorImages', 'image_of']

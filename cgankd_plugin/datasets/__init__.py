# Copyright (c) cgankd_plugin contributors.
from . import transforms  # noqa: F401
from .crd_contrast_dataset import CRDContrastDataset  # noqa: F401
from .local_cifar import LocalCIFAR100  # noqa: F401
from .regression_annotation import RegressionAnnotationDataset  # noqa: F401
from .regression_h5 import BaseRegressionDataset  # noqa: F401
from .regression_h5 import RegressionH5Dataset  # noqa: F401
from .steering_angle import SteeringAngle  # noqa: F401
from .utkface import UTKFace  # noqa: F401
from .synthetic_mix_dataset import SyntheticMixDataset  # noqa: F401
from .imagenet100 import ImageNet100  # noqa: F401
from .vicinal_dataset import VicinalDataset  # noqa: F401
from .fashion_mnist import FashionMNISTSplit, RotatedFashionMNIST  # noqa: F401
from .samplers import RealFakeRatioSampler  # noqa: F401

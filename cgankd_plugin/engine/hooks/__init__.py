# Copyright (c) cgankd_plugin contributors.
from .atomic_checkpoint_hook import AtomicCheckpointHook  # noqa: F401
from .cgan_hook import CGANHook  # noqa: F401
from .cgan_sample_hook import CGANSampleHook  # noqa: F401
from .checkpoint_fit_hook import CheckpointFitHook  # noqa: F401
from .crd_memory_size_hook import CRDMemorySizeHook  # noqa: F401

# Copyright (c) cgankd_plugin contributors.
"""cGAN-KD on real Fashion-MNIST, with the controls that make it evidence.

    python -m demo.fashion_mnist [--work-dir DIR] [--results-dir DIR]
                                 [--seeds N ...] [--jobs N] [--tasks T ...]
                                 [--eval-split {test,val}] [--stages NAME ...]
                                 [--cfg-options STAGE:KEY=VALUE ...]
                                 [--force] [--quick | --smoke]

Every stage is a plain ``tools/train.py`` (or ``tools/build_bank.py``) run
of a config in ``configs/fashion_mnist/``, so any row can be reproduced by
hand. The protocol is the paper's (DESIGN.md, section 1): every cGAN-KD
student is the converged student alone, fine-tuned for a fixed number of
epochs over real + fake data at a fifth of the learning rate; every
control is fine-tuned from the same checkpoint with the same steps and
schedule (DESIGN.md, section 6). Per task:

- ``teacher`` (shared by the seeds): trained on the 55,000 training images
  (the last 5,000 of the official 60,000 are the validation split);
- ``cgan`` (shared): the cGAN, trained on the teacher's images;
- ``student``: the student alone on the first 2,000 images, to
  convergence (the paper's baseline);
- ``finetune_real``: ``student`` fine-tuned on its real images alone, same
  steps as the cGAN-KD fine-tune (more steps alone must not explain a gain);
- ``finetune_kd``: the same with KD (classification; the control of
  ``kd_cgankd``);
- ``cgankd``: ``student`` fine-tuned on real + filtered, relabelled fakes;
- ``kd_cgankd``: KD + cGAN-KD (classification);
- ``real_bank``: the upper bound, a bank of real images the student does
  not see, filtered and relabelled like the fakes.

The regression task (``rotation``) regresses the rotation angle of each
image (drawn from [-45, 45] degrees) with a CcGAN. Up to ``--jobs`` stages
train at once (one torch thread each) as soon as the stages they need are
done; a stage is skipped when its checkpoint and metric are there and it
ran with the same options and config, so a killed run resumes. Figures are
on the 10,000 official test images (``--eval-split val``: the validation
split, on which settings are chosen). The tool writes
``<results-dir>/<task>.json`` (one figure per seed and row, the format of
``docs/results/``), ``<work-dir>/results.md`` with the tables and the
paired comparisons, and the pictures (bank samples, filter histograms,
error against the angle).

``--quick`` (``make demo``) is a shorter look at the same experiment:
every schedule but the students' alone (the converged baseline) at 40 %
of its length, the cGANs at a third of theirs (3,000 iterations at
least) and cDR-RS off, for a
one-seed run in at most half an hour on 2 cores (the full one takes over
an hour); it trains under ``work_dirs/demo_fashion_mnist_quick``.
``--smoke`` shrinks every stage to check the plumbing in a few minutes;
its numbers mean nothing, and it trains under
``work_dirs/demo_fashion_mnist_smoke``.
"""

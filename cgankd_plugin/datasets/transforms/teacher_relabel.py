# Copyright (c) cgankd_plugin contributors.
"""Replace the targets of fake samples by the teacher's labels."""
import numpy as np
from mmcv.transforms import BaseTransform

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class TeacherRelabel(BaseTransform):
    """Set a fake sample's target to the label its bank stores.

    ``SyntheticMixDataset`` hands fake samples with the bank's teacher
    label: ``gt_label`` becomes ``teacher_label`` (the teacher's argmax, or
    the generating class when the bank was built with ``relabel='none'``),
    ``gt_score`` becomes ``teacher_probs`` for a soft bank, and for
    regression ``gt_value`` becomes ``teacher_value``. Real samples keep
    their labels; in a soft bank they get a one-hot ``gt_score`` so that a
    batch's targets have one form. Put it anywhere before the pack step.

    Required keys: ``is_fake`` (samples without it pass unchanged).
    Modified keys: ``gt_label``, ``gt_score``, ``gt_value``.
    """

    def transform(self, results: dict) -> dict:
        if results.get('is_fake'):
            if 'teacher_value' in results:
                results['gt_value'] = float(results['teacher_value'])
            elif 'teacher_label' in results:
                results['gt_label'] = int(results['teacher_label'])
                if 'teacher_probs' in results:
                    results['gt_score'] = np.asarray(
                        results['teacher_probs'], dtype=np.float32)
            else:
                raise KeyError('TeacherRelabel: a fake sample without '
                               'teacher_label / teacher_value; was it made '
                               'by SyntheticMixDataset?')
        elif results.get('soft_label_classes') and 'gt_label' in results:
            score = np.zeros(results['soft_label_classes'], np.float32)
            score[int(results['gt_label'])] = 1.0
            results['gt_score'] = score
        return results

# Copyright (c) cgankd_plugin contributors.
"""demo/fashion_mnist/stages.py: the stage graph."""
from demo.fashion_mnist import stages as demo


def test_a_stage_brings_the_stages_it_needs():
    names = [stage.name for stage in demo.needed_stages(['kd_cgankd'])]
    assert names == ['teacher', 'cgan', 'student', 'kd_cgankd']
    assert len(demo.needed_stages(None)) == len(demo.STAGES)
    assert all(stage.task == 'rotation'
               for stage in demo.needed_stages(None, ['rotation']))

# Copyright (c) cgankd_plugin contributors.
"""demo/fashion_mnist/stages.py: the stage graph."""
from demo.fashion_mnist import stages as demo


def test_a_stage_brings_the_stages_it_needs():
    names = [stage.name for stage in demo.needed_stages(['kd_cgankd'])]
    assert names == ['teacher', 'cgan', 'student', 'kd_cgankd']
    assert len(demo.needed_stages(None)) == len(demo.STAGES)
    assert all(stage.task == 'rotation'
               for stage in demo.needed_stages(None, ['rotation']))


def test_the_stages_others_wait_for_launch_first():
    from demo.fashion_mnist.runner import launch_order
    todo = [(stage, seed) for seed in (0, 1) for stage in demo.STAGES
            if not (stage.shared and seed == 1)]
    order = [(stage.name, seed) for stage, seed in launch_order(todo, 0)]
    assert order[:2] == [('teacher', 0), ('student', 0)]
    position = {item: i for i, item in enumerate(order)}
    # every stage with dependents before every fine-tune
    assert position[('teacher_rotation', 0)] < position[('finetune_real', 0)]
    assert position[('student_rotation', 1)] < position[('finetune_real', 0)]
    assert position[('cgan', 0)] < position[('cgankd', 0)]
    assert sorted(order) == sorted((s.name, seed) for s, seed in todo)

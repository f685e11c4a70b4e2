# Copyright (c) cgankd_plugin contributors.
from setuptools import find_packages, setup


def readme() -> str:
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def version() -> str:
    scope: dict = {}
    with open('cgankd_plugin/version.py', encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


def requirements(path: str) -> list:
    with open(path, encoding='utf-8') as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


setup(
    name='cgankd_plugin',
    version=version(),
    description='cGAN-KD (distillation through cGAN-generated samples) '
    'as an mmrazor plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(
        exclude=('configs', 'tools', 'tests', 'benchmarks', 'demo',
                 'demo.*')),
    # torch 2.14 and numpy 2.4 need >= 3.10 / 3.11; CI tests 3.11 only
    python_requires='>=3.11',
    # mmpretrain and mmrazor are installed with --no-deps (their
    # dependency lists pull the source package mmcv, which does not build
    # here): requirements/runtime.txt lists what they need at run time.
    install_requires=requirements('requirements/runtime.txt'),
    extras_require=dict(
        tests=requirements('requirements/tests.txt'),
        # TensorboardVisBackend (see README)
        tensorboard=['tensorboard']),
    license='Apache License 2.0',
    zip_safe=False,
)

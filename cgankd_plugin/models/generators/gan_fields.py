# Copyright (c) cgankd_plugin contributors.
"""The fields a conditional GAN and its networks agree on."""


def fill_config(config: dict, fields: dict, role: str) -> dict:
    """Copy a network config and fill in the fields the GAN dictates.

    Args:
        config (dict): the network's config dict.
        fields (dict): name -> value the network must be built with.
        role (str): ``'generator'`` or ``'discriminator'``, for the message.

    Returns:
        dict: The filled copy.

    Raises:
        ValueError: when the config sets one of ``fields`` differently.
    """
    if not isinstance(config, dict):
        raise TypeError(f'the {role} must be given as a config dict, got '
                        f'{type(config).__name__}')
    filled = dict(config)
    for name, value in fields.items():
        if name in filled and filled[name] != value:
            raise ValueError(f'the {role} config sets {name}='
                             f'{filled[name]!r} but the GAN has '
                             f'{name}={value!r}')
        filled[name] = value
    return filled


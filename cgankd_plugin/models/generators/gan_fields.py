# Copyright (c) cgankd_plugin contributors.
"""The fields a conditional GAN, its networks and its data agree on."""


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


def check_fits(module, who: str, **wanted) -> None:
    """Raise if an attribute of ``module`` differs from the data's.

    Args:
        module (nn.Module): A cGAN (or what stands in for one).
        who (str): How the message names it.
        **wanted (object): ``field=value`` pairs of the data; None skips a
            field.

    Raises:
        ValueError: naming the first mismatching field and both values.
    """
    for field, value in wanted.items():
        if value is None:
            continue
        own = getattr(module, field)
        if own != value:
            raise ValueError(f'{field} mismatch: {who} has {field}={own} '
                             f'but the data has {field}={value}')

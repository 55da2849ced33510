"""Helpers the extension module calls back into (plain Python where Python is simpler)."""

import json


def _plain(obj):
    """numpy scalars and arrays as plain numbers and lists, for json."""
    tolist = getattr(obj, "tolist", None)
    if tolist is not None:
        return tolist()
    raise TypeError(f"{type(obj).__name__} is not a number, string, list or dict")


def model_json(d):
    """A model dictionary as JSON text (a YAML document the model parser reads)."""
    if not isinstance(d, dict):
        raise TypeError(f"Model.from_dict expects a dict, got {type(d).__name__}")
    return json.dumps(d, indent=1, default=_plain)

"""Decoding effects from the wire (v2 objects, v1 positional arrays) and encoding v1 arrays.

Decoding never raises on server data: an unknown ``effectType`` becomes
:class:`~.base.UnknownEffect`, and each typed field goes through its converter, falling back
to the field's neutral default while the original stays in ``props`` and ``raw``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .base import _DECODERS, EFFECT_TYPES, V1_EFFECT_ARGS, Effect, UnknownEffect, decoder_for
from .convert import to_int, to_str

__all__ = [
    "decode_effect",
    "decode_effects",
    "decode_v1_effect",
    "encode_v1_effect",
    "v1_effect_to_v2",
]


def decode_effect(obj: Any) -> Effect:
    """Decode one effect: a v2 effect object, or a v1 positional array. Never raises.

    Written for speed (a cart page decodes every effect on every update): exact-type checks
    before the tolerant converters, the class's :class:`~.base.Decoder` table instead of a
    loop over its fields, and no dataclass ``__init__``; the result is the same object
    ``cls(**fields)`` would be.
    """
    if obj.__class__ is not dict:
        if isinstance(obj, list):
            return decode_v1_effect(obj)
        if not isinstance(obj, Mapping):
            return UnknownEffect(effect_type="", raw={"value": obj})
    raw = dict(obj)
    effect_type = raw.get("effectType")
    if effect_type.__class__ is not str:
        effect_type = to_str(effect_type) or ""
    props_value = raw.get("props")
    if props_value.__class__ is dict or isinstance(props_value, Mapping):
        props = dict(props_value)
    else:
        props = {}
    cls = EFFECT_TYPES.get(effect_type, UnknownEffect)
    decoder = _DECODERS.get(cls) or decoder_for(cls)
    values = decoder.defaults.copy()
    fields = decoder.props
    for prop_name, value in props.items():
        entry = fields.get(prop_name)
        if entry is None or value is None:
            continue  # unknown props stay in ``props``; a missing value keeps the default
        attribute, converter, keep_as_sent = entry
        if value.__class__ is keep_as_sent:
            values[attribute] = value
        else:
            converted = converter(value)
            if converted is not None:
                values[attribute] = converted
    values["effect_type"] = effect_type
    # The base fields, each as to_int/to_str would give it (called only for odd values).
    value = raw.get("campaignId")
    values["campaign_id"] = value if value.__class__ is int else to_int(value)
    value = raw.get("rulesetId")
    values["ruleset_id"] = value if value.__class__ is int else to_int(value)
    value = raw.get("ruleIndex")
    values["rule_index"] = value if value.__class__ is int else to_int(value)
    value = raw.get("ruleName")
    values["rule_name"] = value if value.__class__ is str else to_str(value) or ""
    value = raw.get("triggeredByCoupon")
    values["triggered_by_coupon"] = value if value.__class__ is int else to_int(value)
    values["props"] = props
    values["raw"] = raw
    if not decoder.plain:
        return cls(**values)
    # Frozen dataclass: its __init__ would set each field through object.__setattr__;
    # giving the instance its __dict__ at once makes the same object, several times faster.
    effect = object.__new__(cls)
    object.__setattr__(effect, "__dict__", values)
    return effect


def decode_effects(items: Iterable[Any] | None) -> list[Effect]:
    """Decode a list of effects (v2 objects or v1 arrays); ``None`` gives ``[]``."""
    if items is None or isinstance(items, (str, bytes, Mapping)):
        return []
    return [decode_effect(item) for item in items]


def v1_effect_to_v2(array: Any) -> dict[str, Any]:
    """Turn ``[campaignId, rulesetId, ruleIndex, [effectName, args...]]`` into a v2 effect dict.

    Args are named with :data:`V1_EFFECT_ARGS`; extra args go to ``props["extraArgs"]``,
    args of an unknown effect to ``props["args"]``. The original array is kept under
    ``"v1Effect"`` so nothing is lost.
    """
    items = list(array) if isinstance(array, (list, tuple)) else []
    head = items[:3] + [None] * (3 - len(items[:3]))
    call = items[3] if len(items) > 3 and isinstance(items[3], (list, tuple)) else []
    name = to_str(call[0]) if call else None
    args = list(call[1:])
    props: dict[str, Any] = {}
    names = V1_EFFECT_ARGS.get(name or "")
    if names is None:
        if args:
            props["args"] = args
    else:
        for prop_name, value in zip(names, args, strict=False):
            props[prop_name] = value
        if len(args) > len(names):
            props["extraArgs"] = args[len(names) :]
    return {
        "campaignId": head[0],
        "rulesetId": head[1],
        "ruleIndex": head[2],
        "ruleName": "",
        "effectType": name or "",
        "props": props,
        "v1Effect": items,
    }


def decode_v1_effect(array: Any) -> Effect:
    """Decode a v1 positional effect array into the same classes as v2 effects."""
    return decode_effect(v1_effect_to_v2(array))


def encode_v1_effect(effect: Mapping[str, Any]) -> list[Any]:
    """The v1 positional form of a v2 effect dict (inverse of :func:`decode_v1_effect`).

    Args follow :data:`V1_EFFECT_ARGS`; trailing absent props are dropped. An unknown
    effect type sends ``props["args"]`` (or nothing).
    """
    effect_type = str(effect.get("effectType") or "")
    props = effect.get("props") if isinstance(effect.get("props"), Mapping) else {}
    assert isinstance(props, Mapping)
    names = V1_EFFECT_ARGS.get(effect_type)
    if names is None:
        args = list(props.get("args") or [])
    else:
        args = [props.get(name) for name in names]
        while args and args[-1] is None:
            args.pop()
    return [
        effect.get("campaignId"),
        effect.get("rulesetId"),
        effect.get("ruleIndex"),
        [effect_type, *args],
    ]

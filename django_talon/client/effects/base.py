"""The common part of every effect, the registry by ``effectType``, and :class:`UnknownEffect`.

A subclass declares typed fields; :func:`register` reads their annotations once and records,
for each, the prop name (camelCase of the field, or ``prop(name=...)``), the tolerant
converter and the neutral default, so decoding (:mod:`.decode`) needs no per-class code. The
field order is also the v1 positional-argument order (:data:`V1_EFFECT_ARGS`).

For speed, :func:`decoder_for` turns that into a :class:`Decoder` per class, once: every
field's value when nothing is sent, and a lookup by prop name. Decoding an effect is then a
copy of the defaults plus one dict look-up per prop sent, and the instance is made without
running the frozen dataclass ``__init__`` (which sets each field through
``object.__setattr__``: most of the time per effect).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from .convert import identity, to_bool, to_decimal, to_dict, to_int, to_list, to_str

__all__ = [
    "EFFECT_TYPES",
    "V1_EFFECT_ARGS",
    "Decoder",
    "Effect",
    "UnknownEffect",
    "decoder_for",
    "prop",
    "register",
]

# Annotation string -> (converter, default when missing/malformed). Required props get a
# neutral non-None default so callers need no None checks; optional ones default to None.
# Every default is immutable, so one copy of the defaults can serve every decoded effect.
_CONVERTERS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "str": (to_str, ""),
    "str | None": (to_str, None),
    "Decimal": (to_decimal, Decimal(0)),
    "Decimal | None": (to_decimal, None),
    "int": (to_int, 0),
    "int | None": (to_int, None),
    "bool": (to_bool, False),
    "bool | None": (to_bool, None),
    "Any": (identity, None),
    "list[Any]": (to_list, None),
    "list[Any] | None": (to_list, None),
    "dict[str, Any]": (to_dict, None),
    "dict[str, Any] | None": (to_dict, None),
}

_BASE_FIELDS = frozenset(
    (
        "effect_type",
        "campaign_id",
        "ruleset_id",
        "rule_index",
        "rule_name",
        "triggered_by_coupon",
        "props",
        "raw",
    )
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def prop(default: Any = None, *, name: str | None = None) -> Any:
    """A typed prop field; ``name`` overrides the camelCase prop name derived from it."""
    metadata = {"prop": name} if name else {}
    if isinstance(default, (list, dict)):
        raise TypeError("use None as default for container props")
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, kw_only=True)
class Effect:
    """Common part of every effect (``EffectEntity``) plus the untouched ``props`` and ``raw``.

    Subclasses add typed fields read from ``props``; ``props`` always keeps every prop as
    sent, including the ones no field knows yet.
    """

    effect_type: str = ""
    campaign_id: int | None = None
    ruleset_id: int | None = None
    rule_index: int | None = None
    rule_name: str = ""
    triggered_by_coupon: int | None = None
    props: dict[str, Any] = field(default_factory=dict, compare=False)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    EFFECT_TYPE: ClassVar[str] = ""
    # (attribute, prop name, converter, default) filled in by register().
    PROP_FIELDS: ClassVar[tuple[tuple[str, str, Callable[[Any], Any], Any], ...]] = ()

    @property
    def known(self) -> bool:
        """False for :class:`UnknownEffect` (a type this version cannot interpret)."""
        return True


EFFECT_TYPES: dict[str, type[Effect]] = {}
#: effectType -> prop names in v1 positional-argument order.
V1_EFFECT_ARGS: dict[str, tuple[str, ...]] = {}


def register(effect_type: str) -> Callable[[type[Effect]], type[Effect]]:
    """Class decorator: decode ``effect_type`` into the class (fills ``PROP_FIELDS``)."""

    def decorate(cls: type[Effect]) -> type[Effect]:
        fields = []
        for f in dataclasses.fields(cls):
            if f.name in _BASE_FIELDS:
                continue
            annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "Any")
            converter, default = _CONVERTERS[annotation]
            prop_name = f.metadata.get("prop") or _camel(f.name)
            fields.append((f.name, prop_name, converter, default))
        cls.EFFECT_TYPE = effect_type
        cls.PROP_FIELDS = tuple(fields)
        EFFECT_TYPES[effect_type] = cls
        V1_EFFECT_ARGS[effect_type] = tuple(prop_name for _, prop_name, _, _ in fields)
        _DECODERS.pop(cls, None)  # a class registered again gets a fresh table
        return cls

    return decorate


#: The type a prop's JSON value already has when its converter would return it unchanged
#: (so decoding can skip the call); converters without one always run.
_KEEP_AS_SENT: dict[Callable[[Any], Any], type] = {to_str: str, to_int: int, to_bool: bool}


@dataclass(frozen=True)
class Decoder:
    """What decoding needs to know about one effect class, computed once by :func:`decoder_for`.

    ``defaults``: every field's value when its prop is not sent (``props`` and ``raw``
    excluded). ``props``: prop name -> (attribute, converter, type kept as sent or ``None``).
    ``plain``: whether the instance may be made without ``__init__`` (no ``__post_init__``).
    """

    defaults: dict[str, Any]
    props: dict[str, tuple[str, Callable[[Any], Any], type | None]]
    plain: bool


_DECODERS: dict[type[Effect], Decoder] = {}


def decoder_for(cls: type[Effect]) -> Decoder:
    """The :class:`Decoder` of ``cls`` (from its ``PROP_FIELDS``), made on first use."""
    decoder = _DECODERS.get(cls)
    if decoder is None:
        defaults = {
            f.name: f.default
            for f in dataclasses.fields(cls)
            if f.name in _BASE_FIELDS and f.name not in ("props", "raw")
        }
        props: dict[str, tuple[str, Callable[[Any], Any], type | None]] = {}
        for attribute, prop_name, converter, default in cls.PROP_FIELDS:
            if prop_name in props:
                raise TypeError(f"{cls.__name__}: two fields read the prop {prop_name!r}")
            defaults[attribute] = default
            props[prop_name] = (attribute, converter, _KEEP_AS_SENT.get(converter))
        decoder = Decoder(defaults, props, plain=not hasattr(cls, "__post_init__"))
        _DECODERS[cls] = decoder
    return decoder


@dataclass(frozen=True, kw_only=True)
class UnknownEffect(Effect):
    """An effect type this version does not know: everything is in ``props`` and ``raw``."""

    @property
    def known(self) -> bool:
        return False

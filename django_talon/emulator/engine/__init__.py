"""The rule engine: which campaigns fire for a session, profile or event, and why others don't.

:func:`evaluate` runs every campaign of a (validated) campaign file against an
:class:`EvalContext` and returns an :class:`Outcome`: the effect objects in the v2 shape plus
what closing the session would redeem. It reads the store only through :class:`Lookups`.

==================  ===================================================================
``context.py``      the inputs (EvalContext, Lookups), the Outcome, the effect head
``evaluation.py``   evaluate(): triggers (coupon, referral, none) and firing
``rejections.py``   conditions, code validity, limits: rejection effects, failure reasons
``effects.py``      what a firing campaign produces; the v1 positional wire format
``loyalty.py``      points earned and spent, achievement progress (reads the ledger)
``loyalty_view.py`` what the engine may read of the ledger and achievements (a protocol)
==================  ===================================================================
"""

from __future__ import annotations

from django_talon.emulator.engine.context import EvalContext, Lookups, Outcome, subtotal
from django_talon.emulator.engine.effects import to_v1_effect
from django_talon.emulator.engine.evaluation import evaluate

__all__ = ["EvalContext", "Lookups", "Outcome", "evaluate", "subtotal", "to_v1_effect"]

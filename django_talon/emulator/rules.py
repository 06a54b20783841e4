"""Where the campaign-file format and the rule engine used to live together (kept importable).

The format and its loader are in :mod:`django_talon.emulator.campaign_file`, the engine in
:mod:`django_talon.emulator.engine`.
"""

from __future__ import annotations

from django_talon.emulator.campaign_file import (
    CONDITION_TYPES,
    DEMO_CAMPAIGNS,
    EFFECT_TYPES,
    PROFILE_EVENT,
    SESSION_EVENT,
    CampaignFileError,
    CampaignSet,
    CouponSpec,
    load_campaign_file,
    load_campaigns,
    parse_campaigns,
)
from django_talon.emulator.engine import (
    EvalContext,
    Lookups,
    Outcome,
    evaluate,
    subtotal,
    to_v1_effect,
)

__all__ = [
    "CONDITION_TYPES",
    "DEMO_CAMPAIGNS",
    "EFFECT_TYPES",
    "PROFILE_EVENT",
    "SESSION_EVENT",
    "CampaignFileError",
    "CampaignSet",
    "CouponSpec",
    "EvalContext",
    "Lookups",
    "Outcome",
    "evaluate",
    "load_campaign_file",
    "load_campaigns",
    "parse_campaigns",
    "subtotal",
    "to_v1_effect",
]

"""Talon.One Integration API client: plain Python and ``requests``, no Django.

Everything a caller needs is importable from here::

    from django_talon.client import TalonClient, RetryPolicy, TalonAPIError

See docs/client.md for construction, every method, errors, retries and effect decoding.
"""

from .answers import (
    Audience,
    BestPriorPrice,
    Catalog,
    EventV3,
    IntegrationCampaign,
    IntegrationCampaignPage,
    IntegrationEventResult,
    ReferralBatch,
)
from .client import DEFAULT_TIMEOUT, TalonClient
from .effects import Effect, UnknownEffect, decode_effect, decode_effects, decode_v1_effect
from .errors import (
    TalonAPIError,
    TalonBadRequest,
    TalonBadRequestError,
    TalonConflict,
    TalonConflictError,
    TalonConnectionError,
    TalonDecodeError,
    TalonError,
    TalonForbidden,
    TalonForbiddenError,
    TalonNotFound,
    TalonNotFoundError,
    TalonRateLimited,
    TalonRateLimitedError,
    TalonServerError,
    TalonTimeoutError,
    TalonUnauthorized,
    TalonUnauthorizedError,
    TalonValidationError,
    error_for_status,
)
from .models import (
    Coupon,
    CustomerInventory,
    CustomerProfile,
    CustomerSession,
    CustomerSessionState,
    IntegrationStateV1,
    IntegrationStateV2,
    MultipleProfilesResult,
    Page,
    Referral,
    ReopenSessionResult,
)
from .payloads import (
    AdditionalCost,
    CartItem,
    CustomerProfileAudienceRequestItem,
    MultipleCustomerProfileIntegrationRequestItem,
    NewCustomerSessionV2,
    ProfileAudiencesChanges,
    ReturnedCartItem,
)
from .retry import RetryPolicy
from .transport import USER_AGENT
from .validation import MAX_BATCH, batched, to_jsonable

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_BATCH",
    "USER_AGENT",
    "AdditionalCost",
    "Audience",
    "BestPriorPrice",
    "CartItem",
    "Catalog",
    "Coupon",
    "CustomerProfileAudienceRequestItem",
    "CustomerInventory",
    "CustomerProfile",
    "CustomerSession",
    "CustomerSessionState",
    "Effect",
    "EventV3",
    "IntegrationCampaign",
    "IntegrationCampaignPage",
    "IntegrationEventResult",
    "IntegrationStateV1",
    "IntegrationStateV2",
    "MultipleCustomerProfileIntegrationRequestItem",
    "MultipleProfilesResult",
    "NewCustomerSessionV2",
    "Page",
    "ProfileAudiencesChanges",
    "Referral",
    "ReferralBatch",
    "ReopenSessionResult",
    "ReturnedCartItem",
    "RetryPolicy",
    "TalonAPIError",
    "TalonBadRequest",
    "TalonBadRequestError",
    "TalonClient",
    "TalonConflict",
    "TalonConflictError",
    "TalonConnectionError",
    "TalonDecodeError",
    "TalonError",
    "TalonForbidden",
    "TalonForbiddenError",
    "TalonNotFound",
    "TalonNotFoundError",
    "TalonRateLimited",
    "TalonRateLimitedError",
    "TalonServerError",
    "TalonTimeoutError",
    "TalonUnauthorized",
    "TalonUnauthorizedError",
    "TalonValidationError",
    "UnknownEffect",
    "batched",
    "decode_effect",
    "decode_effects",
    "decode_v1_effect",
    "error_for_status",
    "to_jsonable",
]

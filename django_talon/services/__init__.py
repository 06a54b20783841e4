"""Public service API: the only layer that uses both the client and the models.

Shops that prefer explicit calls to signal wiring use these functions; receivers, Celery
tasks, the admin and the management commands use them too (operator actions live in
:mod:`django_talon.services.operations`). Every write goes through the outbox in the caller's transaction; reads
(:func:`get_promotions`, :func:`session_for_request`) never call the API. See
docs/services.md.
"""

from django_talon.services.audiences import sync_group_audiences, update_group_audiences
from django_talon.services.card_ledger import CardLedger, loyalty_card
from django_talon.services.carts import clear_cart, merge_carts, update_cart
from django_talon.services.customers import (
    CustomerInventory,
    customer_inventory,
    referrals_for_user,
)
from django_talon.services.events import track_event
from django_talon.services.gdpr import erase_customer, process_erasure, purge_local_data
from django_talon.services.ledger import order_key, record_order
from django_talon.services.lifecycle import reopen_session, return_items, returnable_quantities
from django_talon.services.loyalty import (
    PointsBalance,
    RedemptionError,
    clear_redemption,
    customer_achievements,
    join_loyalty_program,
    loyalty_balance,
    loyalty_cards,
    loyalty_history,
    redeem_points,
)
from django_talon.services.operations import (
    DeadLetterRetry,
    OutboxHealth,
    deliver_pending_now,
    outbox_health,
    purge_dead_letters,
    redeliver_dead_letters,
    relay_outbox,
    resync_profile,
    retry_dead_letters,
    retry_unconfirmed_erasures,
    sweep_outbox,
)
from django_talon.services.placement import record_placement
from django_talon.services.prices import (
    PriorPrice,
    abest_prior_price,
    abest_prior_prices,
    best_prior_price,
    best_prior_prices,
)
from django_talon.services.profiles import (
    ReservationRefused,
    create_referral,
    customer_reservations,
    profile_for_user,
    release_coupon,
    release_coupon_now,
    reserve_coupon,
    reserve_coupon_checked,
    reserved_coupons,
    sync_profile,
)
from django_talon.services.quotes import Quote, QuoteStatus, quote_for_cart, uncharged_quote
from django_talon.services.reconciliation import recheck_discrepancy, reconcile_entry
from django_talon.services.sessions import (
    FailClosedOutsideTransactionError,
    SessionStateError,
    apply_coupon,
    apply_referral,
    attach_session_to_user,
    cancel_session,
    close_session,
    evaluate_cart,
    remember_session,
    remembered_session,
    remove_coupon,
    remove_referral,
    session_for_cart,
    session_for_order,
    session_for_request,
    session_payload,
    sync_order,
)
from django_talon.services.stored import StoredPromotions, get_promotions

__all__ = [
    "CustomerInventory",
    "DeadLetterRetry",
    "OutboxHealth",
    "PointsBalance",
    "RedemptionError",
    "clear_redemption",
    "customer_achievements",
    "join_loyalty_program",
    "loyalty_balance",
    "loyalty_history",
    "loyalty_card",
    "loyalty_cards",
    "CardLedger",
    "redeem_points",
    "deliver_pending_now",
    "FailClosedOutsideTransactionError",
    "PriorPrice",
    "Quote",
    "QuoteStatus",
    "ReservationRefused",
    "SessionStateError",
    "StoredPromotions",
    "apply_coupon",
    "apply_referral",
    "attach_session_to_user",
    "abest_prior_price",
    "abest_prior_prices",
    "best_prior_price",
    "best_prior_prices",
    "cancel_session",
    "clear_cart",
    "close_session",
    "create_referral",
    "customer_reservations",
    "customer_inventory",
    "erase_customer",
    "evaluate_cart",
    "get_promotions",
    "outbox_health",
    "merge_carts",
    "order_key",
    "process_erasure",
    "profile_for_user",
    "purge_dead_letters",
    "purge_local_data",
    "quote_for_cart",
    "recheck_discrepancy",
    "reconcile_entry",
    "record_order",
    "record_placement",
    "redeliver_dead_letters",
    "referrals_for_user",
    "relay_outbox",
    "release_coupon",
    "release_coupon_now",
    "remember_session",
    "remembered_session",
    "remove_coupon",
    "remove_referral",
    "reopen_session",
    "reserve_coupon",
    "reserve_coupon_checked",
    "reserved_coupons",
    "resync_profile",
    "retry_dead_letters",
    "retry_unconfirmed_erasures",
    "return_items",
    "returnable_quantities",
    "session_for_cart",
    "session_for_order",
    "session_for_request",
    "session_payload",
    "sweep_outbox",
    "sync_order",
    "sync_group_audiences",
    "sync_profile",
    "track_event",
    "uncharged_quote",
    "update_cart",
    "update_group_audiences",
]

"""The one Oscar site offer that charges Talon.One's discounts, kept in line with the settings.

Oscar's basket offer applicator reads site offers from the database, so the offer is a row:
``ensure_talon_offer`` creates it (and its condition and benefit, see
:mod:`django_talon.contrib.oscar.models`) after every ``migrate`` (``post_migrate``) and
updates its name, priority and exclusivity when ``TALON_OSCAR`` changed (its status is
left alone: staff may suspend it in Oscar's dashboard, which stops charging Talon.One's
discounts). The benefit also
sets the exclusivity from the settings each time it applies, so a changed setting holds
even before the next ``migrate``.
"""

from __future__ import annotations

from typing import Any

from oscar.core.loading import get_model

from django_talon.contrib.oscar.conf import oscar_settings

#: The offer's slug: how django-talon finds its own row among the shop's offers.
OFFER_SLUG = "talon-one"
CONDITION_CLASS = "django_talon.contrib.oscar.models.TalonCondition"
BENEFIT_CLASS = "django_talon.contrib.oscar.models.TalonBenefit"


def ensure_talon_offer(using: str = "default") -> Any:
    """Create or update the Talon.One site offer; returns it."""
    offer_model = get_model("offer", "ConditionalOffer")
    condition_model = get_model("offer", "Condition")
    benefit_model = get_model("offer", "Benefit")
    conf = oscar_settings()
    wanted = {
        "name": conf.OFFER_NAME,
        "priority": conf.OFFER_PRIORITY,
        "exclusive": conf.oscar_offers_off,
        "offer_type": offer_model.SITE,
        "max_basket_applications": 1,
    }
    offer = offer_model._default_manager.using(using).filter(slug=OFFER_SLUG).first()
    if offer is None:
        condition = condition_model._default_manager.using(using).create(
            proxy_class=CONDITION_CLASS
        )
        benefit = benefit_model._default_manager.using(using).create(proxy_class=BENEFIT_CLASS)
        offer = offer_model(slug=OFFER_SLUG, condition=condition, benefit=benefit, **wanted)
        offer.save(using=using)
        return offer
    changed = [name for name, value in wanted.items() if getattr(offer, name) != value]
    if changed:
        for name in changed:
            setattr(offer, name, wanted[name])
        offer.save(using=using, update_fields=changed)
    return offer


def on_post_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """``post_migrate`` of this app: the offer exists once the tables do."""
    ensure_talon_offer(using=using)


def is_talon_offer(offer: Any) -> bool:
    return getattr(offer, "slug", None) == OFFER_SLUG


#: Why an order of a basket the Talon.One offer could not apply to was charged full price.
NOT_APPLIED = (
    "Talon.One's discounts were not charged: the Talon.One offer is not available in Oscar "
    "(suspended in the dashboard, outside its dates or used up)"
)


def talon_offer_applies(using: str = "default") -> bool:
    """Can Oscar's offer applicator apply the Talon.One offer now? (Its row exists and Oscar
    calls it available: open, within its dates, not used up.) One query.

    Why: staff may suspend the offer in Oscar's dashboard, which stops Oscar charging
    Talon.One's discounts; the basket must then show none, and the order ledger and the
    close must say the order was charged without them (``TalonOscarAdapter``'s
    ``order_charged_quote``).
    """
    offer_model = get_model("offer", "ConditionalOffer")
    offer = offer_model._default_manager.using(using).filter(slug=OFFER_SLUG).first()
    return offer is not None and bool(offer.is_available())

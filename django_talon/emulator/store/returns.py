"""Returns: ``POST /v2/customer_sessions/{id}/returns`` and the partial rollbacks it computes."""

from __future__ import annotations

import copy
import math
from typing import Any

from django_talon.emulator.errors import bad_request, not_found
from django_talon.emulator.models import ACCOUNT_ID, Profile, Session
from django_talon.emulator.store.parsing import (
    MAX_CART_ITEMS,
    RESPONSE_CONTENT,
    parse_response_content,
)
from django_talon.emulator.store.redemption import remaining_effects
from django_talon.emulator.store.sessions import SessionsMixin
from django_talon.emulator.util import (
    isoformat,
    money,
    query_bool,
    utcnow,
    want_int,
    want_list,
    want_object,
)

#: the effects a return takes its share of (per-item discounts go back per returned unit)
_SHARED = ("setDiscount", "addLoyaltyPoints", "deductLoyaltyPoints")


def _returned_items(
    items: list[Any], session: Session
) -> tuple[dict[int, int], list[dict[str, Any]]]:
    """Validate the returned cart items against what is left in the cart.

    Returns the units returned now per cart position and the items as the answer lists them.
    """
    returned_now: dict[int, int] = {}
    parsed_items = []
    for index, raw in enumerate(items):
        pointer = f"/return/returnedCartItems/{index}"
        item = want_object(raw, pointer)
        position = want_int(item.get("position"), f"{pointer}/position", minimum=0)
        if position >= len(session.cart_items):
            raise bad_request(
                f"{pointer}/position {position} is not in the cart",
                pointer=f"{pointer}/position",
            )
        quantity = want_int(item.get("quantity", 1), f"{pointer}/quantity", minimum=1)
        cart_item = session.cart_items[position]
        if "sku" in item and item["sku"] != cart_item["sku"]:
            raise bad_request(
                f"{pointer}/sku does not match the cart item", pointer=f"{pointer}/sku"
            )
        already = session.returned.get(position, 0) + returned_now.get(position, 0)
        if already + quantity > int(cart_item["quantity"]):
            raise bad_request(
                f"{pointer}/quantity exceeds the remaining quantity",
                pointer=f"{pointer}/quantity",
            )
        returned_now[position] = returned_now.get(position, 0) + quantity
        parsed_items.append({"position": position, "quantity": quantity, "sku": cart_item["sku"]})
    return returned_now, parsed_items


class ReturnsMixin(SessionsMixin):
    """Returning cart items of a closed session."""

    def return_items(
        self, session_id: str, body: Any, query: dict[str, str], idempotency_key: str | None
    ) -> dict[str, Any]:
        """POST /v2/customer_sessions/{id}/returns."""
        dry = query_bool(query, "dry")
        query_bool(query, "runRuleEngine")
        body = want_object(body, "")
        ret = want_object(body.get("return"), "/return")
        items = want_list(
            ret.get("returnedCartItems"), "/return/returnedCartItems", max_items=MAX_CART_ITEMS
        )
        content = parse_response_content(body, RESPONSE_CONTENT)
        with self.lock:
            if (
                idempotency_key
                and not dry
                and (session_id, idempotency_key) in self.idempotent_returns
            ):
                return copy.deepcopy(self.idempotent_returns[(session_id, idempotency_key)])
            existing = self._returnable(session_id)
            session = copy.deepcopy(existing)
            returned_now, parsed_items = _returned_items(items, session)
            now = utcnow()
            rollbacks = self._return_rollbacks(session, returned_now)
            profile = self.profiles.get(session.profile_id) if session.profile_id else None
            returned_value = money(
                sum(float(session.cart_items[p]["price"]) * q for p, q in returned_now.items())
            )
            ret_obj = {
                "id": self._next("return") if not dry else 0,
                "created": isoformat(now),
                "applicationId": self.application_id,
                "accountId": ACCOUNT_ID,
                "returnedCartItems": parsed_items,
                "eventId": 0,
                "sessionId": session.id,
                "sessionIntegrationId": session_id,
                "profileIntegrationId": session.profile_id,
            }
            if profile is not None:
                ret_obj["profileId"] = profile.id
            previous = copy.deepcopy(session.returns)
            if not dry:
                event = self._event(
                    "talon_session_returned",
                    profile_id=session.profile_id,
                    session_id=session_id,
                    attributes={},
                    effects=[],
                    now=now,
                    store=True,
                )
                ret_obj["eventId"] = event["id"]
            # On the copy, dry or not: a dry run answers with the session as the return
            # would leave it (partially_returned, returned quantities), and stores nothing.
            for p, q in returned_now.items():
                session.returned[p] = session.returned.get(p, 0) + q
            session.state = "partially_returned"
            # what the session's effects are worth now: the returned units' share is gone
            session.effects = remaining_effects(session.effects, rollbacks)
            session.updated = now
            session.update_count += 1
            session.returns.append(ret_obj)
            if not dry:
                self._commit_return(
                    session_id, existing, session, profile, rollbacks, returned_value
                )
            result = self._state_v2(
                session,
                profile,
                rollbacks,
                None,
                content,
                now,
                dry=dry,
                extra={"return": ret_obj, "previousReturns": previous},
            )
            if idempotency_key and not dry:
                self.idempotent_returns[(session_id, idempotency_key)] = copy.deepcopy(result)
            return result

    def _returnable(self, session_id: str) -> Session:
        """The stored session, if it exists and is closed (returns need a redeemed session)."""
        existing = self.sessions.get(session_id)
        if existing is None:
            raise not_found(f"customer session {session_id!r} not found", "customerSession")
        if existing.state not in ("closed", "partially_returned"):
            raise bad_request(
                f"only closed sessions accept returns; session {session_id!r} is {existing.state}",
                pointer="/return",
            )
        return existing

    def _commit_return(
        self,
        session_id: str,
        existing: Session,
        session: Session,
        profile: Profile | None,
        rollbacks: list[dict[str, Any]],
        returned_value: float,
    ) -> None:
        """Store the returned session; the customer's sales and points shrink with the return."""
        if profile is not None:
            profile.total_sales = money(max(0.0, profile.total_sales - returned_value))
        self._unbook_loyalty(session, rollbacks, utcnow())
        if session.redemption is not None:
            session.redemption.total = money(session.redemption.total - returned_value)
            # after a return, what a later cancel would roll back is only what is left
            session.redemption.effects = remaining_effects(session.redemption.effects, rollbacks)
        existing_id = existing.id
        self.sessions[session_id] = session
        session.id = existing_id

    def _return_rollbacks(
        self, session: Session, returned_now: dict[int, int]
    ) -> list[dict[str, Any]]:
        """Rollback effects for returned units: per-item discounts, a share of cart discounts and points.

        A cart discount or the points go back by the value returned so far over the cart's
        value: after this return, what stays booked is the booked amount less that share of it
        (rounded to the cent, earned points to whole points down), and the rollback is what is
        still booked above that. So each return takes about its own share (never a share of
        what earlier returns left), the return that leaves no unit in the cart takes all that is
        left, and an order's returns add up to exactly what was booked, in any order and split.
        """
        redemption = session.redemption
        if redemption is None or not returned_now:
            return []
        if redemption.booked is None:  # the first return: nothing lowered yet
            redemption.booked = list(redemption.effects)
        booked = {
            _booked_key(e): float(e["props"]["value"])
            for e in redemption.booked
            if e["effectType"] in _SHARED
        }
        cart_value = returned_value = 0.0  # returned_value: by all returns, this one too
        everything = True
        for position, item in enumerate(session.cart_items):
            price, quantity = float(item["price"]), int(item["quantity"])
            back = session.returned.get(position, 0) + returned_now.get(position, 0)
            cart_value += price * quantity
            returned_value += price * back
            everything = everything and back == quantity
        rollbacks: list[dict[str, Any]] = []
        for effect in redemption.effects:
            head = {k: v for k, v in effect.items() if k not in ("effectType", "props")}
            props = effect["props"]
            etype = effect["effectType"]
            if etype == "setDiscountPerItem":
                position = int(props["position"])
                if position not in returned_now:
                    continue
                quantity = int(session.cart_items[position]["quantity"])
                already = session.returned.get(position, 0)
                # units are returned from the highest unit index down
                first_returned = quantity - already - returned_now[position]
                if first_returned <= int(props.get("subPosition", 0)) < quantity - already:
                    rollbacks.append(
                        {
                            **head,
                            "effectType": "rollbackDiscount",
                            "props": {
                                "name": props["name"],
                                "value": props["value"],
                                "cartItemPosition": position,
                                "cartItemSubPosition": props.get("subPosition", 0),
                            },
                        }
                    )
                continue
            if etype not in _SHARED:
                continue
            left = float(props["value"])
            value = left
            if not everything:
                full = booked.get(_booked_key(effect), left)
                share = full * returned_value / cart_value if cart_value > 0 else 0.0
                # earned points go back in whole points, discounts and spent points to the cent
                taken = math.floor(share + 1e-9) if etype == "addLoyaltyPoints" else money(share)
                value = money(left - (full - taken))
            if value <= 0:
                continue
            if etype == "setDiscount":
                rollbacks.append(
                    {
                        **head,
                        "effectType": "rollbackDiscount",
                        "props": {"name": props["name"], "value": value},
                    }
                )
            else:
                share_of = {**effect, "props": {**props, "value": value}}
                rollbacks += self._loyalty_rollbacks(
                    head, share_of, redemption.profile_id, utcnow()
                )
        return rollbacks


def _booked_key(effect: dict[str, Any]) -> tuple[Any, ...]:
    """Which booked effect a (lowered) effect of the redemption is."""
    props = effect["props"]
    return (
        effect["effectType"],
        effect.get("campaignId"),
        effect.get("rulesetId"),
        effect.get("ruleIndex"),
        props.get("name"),
        props.get("transactionUUID"),
        props.get("position"),
        props.get("subPosition"),
    )

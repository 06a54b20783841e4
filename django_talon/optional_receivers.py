"""Receivers of the opt-in wiring: ``TALON["EVENT_RECEIVERS"]`` and ``TALON["AUDIENCE_GROUPS"]``.

``EVENT_RECEIVERS`` maps a source to a Talon.One event type (docs/catalog.md#events):

* ``"myshop.signals.newsletter_signup": "newsletter_signup"``: the dotted path of a
  ``django.dispatch.Signal``. Send it with ``user=`` (required: events belong to a
  customer), and optionally ``attributes=`` (a dict) and ``integration_id=`` (a stable id:
  the same id is registered once).
* ``"reviews.Review:created": "review_written"``: a model's first save. The customer is
  the adapter's ``event_user(instance)``, the attributes ``event_attributes(type,
  instance)``; the event id is ``<app_label.model>:<pk>:<type>``, so it is registered once.

``AUDIENCE_GROUPS`` turns ``user.groups`` changes (either side of the relation) into
audience memberships (:mod:`django_talon.services.audiences`).

Why a module of its own: these receivers exist only when configured, and they are
(re)connected whenever ``TALON`` changes (a ``conf.reload_hooks`` entry), so an
``override_settings`` in a test wires them as ``ready()`` would. Like every receiver, they
never raise into the shop's code: a failure is rolled back to a savepoint and recorded as
a ``SyncProblem`` (:func:`django_talon.receivers._recorded`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import Signal
from django.utils.module_loading import import_string

from django_talon.conf import reload_hooks, talon_settings
from django_talon.receivers import _recorded, _subject

logger = logging.getLogger("django_talon.receivers")

#: Suffix of a model event source (``"app_label.Model:created"``).
CREATED = ":created"

#: What :func:`connect` connected: ``(signal, dispatch_uid, sender)`` to disconnect again.
_connected: list[tuple[Signal, str, Any]] = []
#: ``id(signal)`` -> event type, and model label -> event type, of the current settings.
_signal_types: dict[int, str] = {}
_model_types: dict[str, str] = {}


def event_source(source: str) -> Signal | type[Any]:
    """The signal or model a ``EVENT_RECEIVERS`` key names (``ImportError``, ``LookupError``
    or ``TypeError`` when it names neither; the system check ``django_talon.E014`` reports
    that)."""
    if source.endswith(CREATED):
        model: type[Any] = apps.get_model(source[: -len(CREATED)])
        return model
    signal = import_string(source)
    if not isinstance(signal, Signal):
        raise TypeError(f"{source!r} is not a django.dispatch.Signal")
    return signal


def on_event_signal(sender: Any, signal: Signal, **kwargs: Any) -> None:
    """A configured signal fired: queue its event for ``user`` (anonymous: nothing)."""
    event_type = _signal_types.get(id(signal))
    user = kwargs.get("user")
    if event_type is None or user is None or not getattr(user, "is_authenticated", True):
        return
    from django_talon.services.events import track_event

    with _recorded("event", _subject(user)):
        track_event(
            event_type,
            user=user,
            attributes=kwargs.get("attributes"),
            integration_id=kwargs.get("integration_id"),
        )


def on_model_created(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any
) -> None:
    """A configured model's first save: queue its event (once per row)."""
    label = sender._meta.label_lower
    event_type = _model_types.get(label)
    if raw or not created or event_type is None:
        return
    from django_talon.adapters import get_adapter
    from django_talon.services.events import track_event

    with _recorded("event", _subject(instance)):
        adapter = get_adapter()
        user = adapter.event_user(instance)
        if user is None:
            return
        track_event(
            event_type,
            user=user,
            attributes=adapter.event_attributes(event_type, instance),
            integration_id=f"{label}:{instance.pk}:{event_type}",
        )


def on_groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kw: Any
) -> None:
    """``user.groups`` (or ``group.user_set``) changed: queue the mapped audience changes."""
    mapping = talon_settings.AUDIENCE_GROUPS
    if not mapping or action not in ("post_add", "post_remove", "pre_clear"):
        return
    from django.contrib.auth.models import Group

    from django_talon.services.audiences import update_group_audiences

    if reverse:  # group.user_set.add(users): ``instance`` is the group, pk_set the users
        if instance.name not in mapping:
            return
        users = get_user_model()._default_manager.all()
        users = instance.user_set.all() if action == "pre_clear" else users.filter(pk__in=pk_set)
        names = [instance.name]
    else:  # user.groups.add(groups)
        users = [instance]
        groups = (
            instance.groups.all() if action == "pre_clear" else Group.objects.filter(pk__in=pk_set)
        )
        names = list(groups.filter(name__in=list(mapping)).values_list("name", flat=True))
        if not names:
            return
    joined = action == "post_add"
    for user in users:
        with _recorded("audiences", _subject(user)):
            update_group_audiences(
                user, added=names if joined else (), removed=() if joined else names
            )


def connect() -> None:
    """Connect the receivers the current settings ask for (and drop those they no longer
    do). Called from ``apps.ready()`` and whenever ``TALON`` changes. A source that cannot
    be used is logged and skipped (``django_talon.E014`` reports it)."""
    disconnect()
    for source, event_type in talon_settings.EVENT_RECEIVERS.items():
        try:
            target = event_source(source)
        except (ImportError, LookupError, TypeError, ValueError) as exc:
            logger.error("TALON['EVENT_RECEIVERS'] %r cannot be used: %s", source, exc)
            continue
        uid = f"django_talon:event:{source}"
        if isinstance(target, Signal):
            _signal_types[id(target)] = event_type
            target.connect(on_event_signal, dispatch_uid=uid, weak=False)
            _connected.append((target, uid, None))
        else:
            _model_types[target._meta.label_lower] = event_type
            post_save.connect(on_model_created, sender=target, dispatch_uid=uid, weak=False)
            _connected.append((post_save, uid, target))
    user_model = get_user_model()
    groups = getattr(user_model, "groups", None)
    if talon_settings.AUDIENCE_GROUPS and groups is not None:
        uid = "django_talon:audience_groups"
        m2m_changed.connect(on_groups_changed, sender=groups.through, dispatch_uid=uid)
        _connected.append((m2m_changed, uid, groups.through))


def disconnect() -> None:
    """Undo :func:`connect`."""
    for signal, uid, sender in _connected:
        signal.disconnect(dispatch_uid=uid, sender=sender)
    _connected.clear()
    _signal_types.clear()
    _model_types.clear()


def _reconnect() -> None:
    """The ``reload_hooks`` entry: a ``TALON`` that is not a dict (``django_talon.E007``)
    connects nothing instead of failing the settings change."""
    try:
        connect()
    except TypeError:
        disconnect()


reload_hooks.append(_reconnect)

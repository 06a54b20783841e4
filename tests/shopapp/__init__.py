"""A minimal shop (cart, cart items, orders) used by tests/core to exercise the adapters."""

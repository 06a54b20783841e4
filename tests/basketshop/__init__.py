"""A shop whose lines and orders name their cart ``basket`` (not ``cart``): the default
adapter must find the cart through the foreign key, whatever its name (docs/adapters.md)."""

"""A small real shop that uses django-talon through its public surface."""

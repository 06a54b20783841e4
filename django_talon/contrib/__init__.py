"""Integrations with other Django shop frameworks (optional extras).

Each sub-package is an app of its own that builds on the core (services, adapters,
promotions); nothing in the core imports from here (an import-linter contract says so).
"""

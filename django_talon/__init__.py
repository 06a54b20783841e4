"""django-talon: Talon.One promotions for Django shops.

The package is layered (see docs/architecture.md): ``client`` and ``emulator`` are plain
Python and never import Django, so they can be used and tested without a project.
"""

__version__ = "0.1.0.dev0"

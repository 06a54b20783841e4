"""The docs tests run the example shop as the quickstart describes it: the example tests'
fixtures (its URLs and templates, its TALON settings pointed at the emulator)."""

from tests.example.conftest import shop, shop_site, shop_talon  # noqa: F401  (fixtures)

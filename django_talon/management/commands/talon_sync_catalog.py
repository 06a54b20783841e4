"""``manage.py talon_sync_catalog``: send the shop's products to a Talon.One catalog in bulk.

A thin shell over :func:`django_talon.services.catalog.sync_catalog` (batches of up to 1000
upserts, keyset pages, a checkpoint after every delivered batch): parses options, draws
the same progress bar as ``talon_sync_profiles`` and prints a summary. An interrupted run
resumes after the last delivered batch (docs/commands.md); ``--restart`` starts over.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from django_talon.management.commands.talon_sync_profiles import (
    ProgressBar,
    add_resume_arguments,
    check_batch_size,
    file_checkpoint,
    stopped,
)
from django_talon.services import bulk_sync
from django_talon.services import catalog as catalog_sync


class CatalogProgressBar(ProgressBar):
    """The profile sync's bar, counting products."""

    def __call__(self, p: Any) -> None:
        total = max(p.total, p.processed, 1)
        filled = int(self.width * p.processed / total)
        bar = "#" * filled + "-" * (self.width - filled)
        line = (
            f"[{bar}] {p.processed}/{p.total} products, {p.sent} sent, "
            f"{p.skipped} left out, batch {p.batches}"
        )
        self._write("\r" + line if self.tty else line + "\n")


class Command(BaseCommand):
    help = (
        "Send the shop's products to a Talon.One cart item catalog (PUT /v1/catalogs/{id}/sync) "
        "in batches of up to 1000 (resumable)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--catalog-id",
            type=int,
            default=None,
            help="The catalog's id (default: TALON['CATALOG_ID']).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help=f"Products per API call, 1-{bulk_sync.MAX_BATCH_SIZE} "
            "(default: TALON['SYNC_BATCH_SIZE']).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Build the items and count; call nothing, write nothing.",
        )
        add_resume_arguments(parser, first="product")

    def handle(self, *args: Any, **options: Any) -> None:
        size = options["batch_size"]
        check_batch_size(size)
        checkpoint = file_checkpoint(options["checkpoint_file"])  # None: the catalog's own
        show_progress = int(options["verbosity"]) >= 1
        bar = CatalogProgressBar(self.stdout)
        try:
            result = catalog_sync.sync_catalog(
                catalog_id=options["catalog_id"],
                batch_size=size,
                dry_run=options["dry_run"],
                resume=not options["restart"],
                checkpoint=checkpoint,
                progress=bar if show_progress else None,
                max_batches=options["max_batches"],
            )
        except Exception as exc:
            # No catalog id or PRODUCT_MODEL, an adapter's bad item, an unwritable
            # checkpoint: said as such; only an outage or a refused batch is "run again".
            if show_progress:
                bar.close()
            raise stopped("catalog sync", exc) from exc
        if show_progress:
            bar.close()
        self._summary(result)

    def _summary(self, result: catalog_sync.CatalogSyncResult) -> None:
        if result.resumed_from is not None:
            self.stdout.write(f"Resumed after product pk {result.resumed_from}.")
        prefix = "Dry run: would send" if result.dry_run else "Sent"
        self.stdout.write(
            f"{prefix} {result.sent} item(s) to catalog {result.catalog_id} in "
            f"{result.batches} batch(es) ({result.api_calls} API call(s)); "
            f"{result.skipped} left out by the adapter."
        )
        if result.version is not None:
            self.stdout.write(f"Catalog version: {result.version}.")
        if result.dry_run and result.sample:
            self.stdout.write(f"First item: {result.sample[0]}")
        if result.completed:
            self.stdout.write(self.style.SUCCESS("Catalog sync complete."))
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Stopped after product pk {result.last_pk}; run again to continue."
                )
            )

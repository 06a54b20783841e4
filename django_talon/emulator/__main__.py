"""``python -m django_talon.emulator --host 127.0.0.1 --port 9100 --campaigns FILE --api-key KEY``."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from django_talon.emulator.app import DEFAULT_APPLICATION_KEY
from django_talon.emulator.campaign_file import DEMO_CAMPAIGNS, CampaignFileError
from django_talon.emulator.faults import FaultSpecError, parse_fault
from django_talon.emulator.server import EmulatorServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m django_talon.emulator",
        description="Local Talon.One Integration API emulator (stateful, rule-driven, with faults).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=9100, help="port (default 9100; 0 = any free port)"
    )
    parser.add_argument(
        "--campaigns",
        default=str(DEMO_CAMPAIGNS),
        help="campaign file, JSON or TOML (default: the shipped demo campaigns)",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("TALON_EMULATOR_API_KEY", "emulator-api-key"),
        help="the key clients must send as 'Authorization: ApiKey-v1 <key>' "
        "(default: $TALON_EMULATOR_API_KEY or 'emulator-api-key')",
    )
    parser.add_argument(
        "--application-key",
        default=DEFAULT_APPLICATION_KEY,
        help="hex application key for legacy Content-Signature on v1 endpoints",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="start with a fault, JSON or 'kind:key=value,...', e.g. "
        "'error:status=503,path=/v2/*,times=2' (repeatable)",
    )
    parser.add_argument(
        "--max-logged-requests",
        type=int,
        default=10_000,
        help="size of the /_emulator/requests call log (oldest entries are dropped)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for generated codes and random faults"
    )
    parser.add_argument(
        "--log-level", default="INFO", help="DEBUG, INFO (one line per request), WARNING"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        faults = [parse_fault(spec) for spec in args.fault]
        server = EmulatorServer(
            api_key=args.api_key,
            campaigns=args.campaigns,
            host=args.host,
            port=args.port,
            application_key=args.application_key,
            faults=[
                {k: v for k, v in f.to_dict().items() if k not in ("id", "hits") and v is not None}
                for f in faults
            ],
            seed=args.seed,
            max_logged_requests=args.max_logged_requests,
        )
    except (CampaignFileError, FaultSpecError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logging.getLogger("django_talon.emulator").info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

import asyncio
import contextlib

from django.core.management.base import BaseCommand, CommandParser

from project.demo.upstream import serve


class Command(BaseCommand):
    help = "Serve the fake upstream service that the upstream pairs call."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument(
            "--redirect-to", default="", help="Where ?fail=redirect sends the client."
        )

    def handle(self, *, host: str, port: int, redirect_to: str, **options) -> None:
        self.stdout.write(f"Fake upstream on http://{host}:{port}/ (Ctrl-C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(host=host, port=port, redirect_to=redirect_to))

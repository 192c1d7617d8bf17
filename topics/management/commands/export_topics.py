import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict
from tqdm import tqdm

from topics.api import ApiError
from topics.exportfiles import write_export
from topics.exports import COLUMNS, export_folder
from topics.models import Topic
from topics.params import ExportParams


class Command(BaseCommand):
    help = "Export topics to EXPORT_ROOT as CSV or JSON Lines (the views' own code)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", default="csv", help="csv or jsonl")
        parser.add_argument("--name", help="File name without extension.")
        parser.add_argument("--q", help="Text in the title or body.")
        parser.add_argument("--tag", help="Only topics with this tag.")
        parser.add_argument("--author", help="Only topics by this author id.")

    def handle(self, **options) -> None:
        query = QueryDict(mutable=True)
        for name in ("format", "name", "q", "tag", "author"):
            if options[name] is not None:
                query[name] = options[name]
        try:
            params = ExportParams.from_query(query)
            rows = Topic.objects.listing(**params.filters)
            with tqdm(
                total=rows.count(),
                unit="row",
                file=sys.stderr,
                disable=options["verbosity"] == 0,
            ) as bar:
                result = write_export(
                    rows,
                    folder=export_folder(),
                    export_id=params.export_id,
                    fmt=params.fmt,
                    columns=COLUMNS,
                    progress=bar.update,
                )
        except ApiError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"Wrote {result.rows} rows, {result.bytes} bytes: {result.id}"
        )

"""import_article PATH: make a draft from one of Psychly's plain-text articles and report it.

The report (text, or JSON with --json: see articles.importing and docs/import-json.md)
lists each section's claims, every claim without a source, every reference and the
publish gate's blockers. Nothing is saved if anything fails, or with --dry-run.
"""

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from articles.importing import ImportFailed, find_topic, import_article


class Command(BaseCommand):
    help = "Import a plain-text article as a draft and report which statements lack support."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The article as a UTF-8 text file ('-' reads standard input).")
        parser.add_argument("--author", metavar="USERNAME", help="Add this user as the article's author.")
        parser.add_argument("--topic", metavar="NAME", help="File the article under this existing topic.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would be imported; save nothing.")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
        parser.add_argument(
            "--replace-draft", action="store_true",
            help="If a draft with the same title or slug exists, replace its sections instead of refusing.",
        )
        parser.add_argument(
            "--no-fetch", action="store_true",
            help="Do not ask Crossref; take metadata from the reference lines (marked for checking).",
        )

    def handle(self, *args, **options):
        path, as_json = options["path"], options["json"]
        try:
            data = self._read(path)
            author = self._user(options["author"]) if options["author"] else None
            topic = find_topic(options["topic"]) if options["topic"] else None
            report = import_article(
                data, author=author, topic=topic, dry_run=options["dry_run"],
                replace_draft=options["replace_draft"], fetch=not options["no_fetch"],
            )
        except ImportFailed as error:
            if as_json:
                self.stdout.write(_dumps({"error": {"line": error.line, "message": error.message}}))
            raise CommandError(f"{path}: {error}") from None
        self.stdout.write(report.as_json() if as_json else report.as_text())

    def _read(self, path):
        if path == "-":
            return sys.stdin.buffer.read()
        file = Path(path)
        if not file.is_file():
            raise ImportFailed(f"there is no file at {path}")
        return file.read_bytes()

    def _user(self, username):
        User = get_user_model()
        try:
            return User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise ImportFailed(f'there is no user called "{username}"') from None


def _dumps(value):
    return json.dumps(value, indent=2, ensure_ascii=False)

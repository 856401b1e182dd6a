"""Recompute every reference's evidence level from its stored PubMed data, Crossref type and title; no network."""

from django.core.management.base import BaseCommand
from django.db import transaction

from references.evidence import apply_evidence
from references.models import Reference

FIELDS = ["id", "title", "publication_types", "mesh_terms", "work_type", "notice_kind", "evidence_level",
          "evidence_description"]


class Command(BaseCommand):
    help = (
        "Recompute evidence_level and evidence_description for all references (after the rules change, or "
        "for references saved before they existed). Reads in chunks by id, so memory stays bounded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=500, help="References read and written at a time.")

    def handle(self, *args, chunk_size, **options):
        if chunk_size < 1:
            self.stderr.write("--chunk-size must be at least 1.")
            raise SystemExit(2)
        checked = changed = 0
        last_id = 0
        while True:
            chunk = list(Reference.objects.filter(id__gt=last_id).order_by("id").only(*FIELDS)[:chunk_size])
            if not chunk:
                break
            last_id = chunk[-1].id
            stale = [reference for reference in chunk if apply_evidence(reference)]
            if stale:
                with transaction.atomic():
                    Reference.objects.bulk_update(stale, ["evidence_level", "evidence_description"])
            checked += len(chunk)
            changed += len(stale)
        self.stdout.write(f"Checked {checked} reference(s): {changed} evidence level(s) changed.")

"""Load the demo articles, their sources and the editor/reviewer/admin accounts. Safe to run twice."""

import json
import secrets
from pathlib import Path

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction

from articles.authoring import attribution
from articles import demo
from articles.review import workflow
from articles.authoring.editing import append_claims, resolve_pasted_text
from articles.models import Article, Claim, ReviewerProfile, Section, Status, Topic
from references.models import Reference
from references.services import apply_work, save_reference

CROSSREF_DIR = Path(demo.__file__).resolve().parent / "crossref"
CONTEXT_PREFIX = "(context)"


class Command(BaseCommand):
    help = "Load demo content and demo accounts (password from DEMO_PASSWORD, else generated and printed)."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for the demo accounts (default: $DEMO_PASSWORD).")

    def handle(self, *args, password=None, **options):
        import os

        password = password or os.environ.get("DEMO_PASSWORD") or None
        with transaction.atomic():
            users, generated = self.load_accounts(password)
            self.load_references()
            topics = self.load_topics()
            ketamine, stimulants = (self.load_article(spec, users["editor"], topics) for spec in demo.ARTICLES)
            # Through the workflow, as people would: one article live, one waiting for a reviewer.
            if ketamine and ketamine.status == Status.DRAFT:
                workflow.submit(ketamine, by=users["editor"])
                workflow.approve(ketamine, by=users["reviewer"])
                workflow.publish(ketamine, by=users["editor"])
                self.stdout.write(f"Published “{ketamine.title}” through review.")
            if stimulants and stimulants.status == Status.DRAFT:
                workflow.submit(stimulants, by=users["editor"])
                self.stdout.write(f"Submitted “{stimulants.title}” for review.")
        if generated:
            self.stdout.write(self.style.SUCCESS(
                f"Demo accounts editor, reviewer and admin have the password: {generated}"
            ))
        elif password:
            self.stdout.write("Demo accounts editor, reviewer and admin use the password from DEMO_PASSWORD.")
        else:
            self.stdout.write("Demo accounts editor, reviewer and admin already exist; passwords unchanged "
                              "(set DEMO_PASSWORD to reset them).")

    def load_accounts(self, password):
        """Create the three accounts; returns them and the password generated for new ones, if any."""
        generated = None
        users = {}
        for username, spec in demo.ACCOUNTS.items():
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": spec["first_name"], "last_name": spec["last_name"],
                          "email": f"{username}@psychly.invalid", "is_staff": True},
            )
            if username == "admin" and not user.is_superuser:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
            if spec["group"]:
                user.groups.add(Group.objects.get(name=spec["group"]))
            if spec["group"] == "Reviewers":
                ReviewerProfile.objects.get_or_create(
                    user=user,
                    defaults={"display_name": user.get_full_name(), "credentials": spec["credentials"]},
                )
            if created or password:
                if not password and not generated:
                    generated = secrets.token_urlsafe(12)
                user.set_password(password or generated)
                user.save(update_fields=["password"])
            users[username] = user
        return users, generated

    def load_references(self):
        for doi in demo.DEMO_DOIS:
            if Reference.objects.with_doi(doi).exists():
                continue
            path = CROSSREF_DIR / f"work-{doi.replace('/', '_')}.json"
            work = json.loads(path.read_text(encoding="utf-8"))["message"]
            save_reference(apply_work(Reference(doi=doi), work))

    def load_topics(self):
        return {
            slug: Topic.objects.get_or_create(slug=slug, defaults={"name": name})[0]
            for slug, name in demo.TOPICS.items()
        }

    def load_article(self, spec, editor, topics):
        existing = Article.objects.filter(slug=spec["slug"]).first()
        if existing:
            return existing
        article = Article(title=spec["title"], slug=spec["slug"], summary=spec["summary"], byline=spec["byline"])
        with attribution.recording(article, by=editor):
            article.save()
            self._write(article, spec, editor, topics)
        self.stdout.write(f"Loaded the demo article “{article.title}”.")
        return article

    def _write(self, article, spec, editor, topics):
        """The demo editor writes the article (attributed to them), so the demo reviewer may approve it."""
        article.topics.set(topics[slug] for slug in spec["topics"])
        article.authors.add(editor)
        for position, (heading, paragraphs) in enumerate(spec["sections"]):
            section = Section.objects.create(article=article, heading=heading, position=position)
            for paragraph in paragraphs:
                is_context = paragraph.startswith(CONTEXT_PREFIX)
                text = paragraph.removeprefix(CONTEXT_PREFIX).strip()
                claims = append_claims(section=section, claims=resolve_pasted_text(article, text))
                if is_context:
                    Claim.objects.filter(pk__in=[c.pk for c in claims]).update(is_context=True)

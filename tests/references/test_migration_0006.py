"""references/migrations/0006_override_by_reviewer: who entered a reference before typed_by existed is remembered."""

import importlib

import pytest
from django.apps import apps

from references import services
from references.models import MetadataSource, Reference
from tests.factories import make_editor, make_reference, make_user

pytestmark = pytest.mark.django_db

migration = importlib.import_module("references.migrations.0006_override_by_reviewer")


def test_the_person_who_entered_a_reference_stays_barred_from_verifying_it():
    dual = make_user("dana", "Editors", "Reviewers")
    typed = make_reference(metadata_source=MetadataSource.MANUAL, entered_by=dual)
    fetched = make_reference()
    Reference.objects.update(typed_by=[])  # as the rows stood before the field

    migration.remember_who_entered(apps, None)

    assert dict(Reference.objects.values_list("pk", "typed_by")) == {typed.pk: [dual.pk], fetched.pk: []}
    services.edit_reference(typed, by=make_editor("colleague"), fields={"title": "Retitled"})
    with pytest.raises(services.VerificationRefused, match="typed some of this reference's details"):
        services.verify_reference(typed, by=dual, reason="Looks right.")

import pytest

from tests.factories import make_editor, make_reviewer, make_supported_article


@pytest.fixture
def editor():
    return make_editor("eddie", first_name="Eddie")


@pytest.fixture
def reviewer():
    return make_reviewer("rita", first_name="Rita", last_name="Okafor")


@pytest.fixture
def article(editor):
    """An article ready for approval, written by ``editor``."""
    return make_supported_article("Ketamine for depression", author=editor)

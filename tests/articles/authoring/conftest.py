import pytest

from tests.factories import make_editor, make_reference


@pytest.fixture
def desk_editor():
    """The editor who writes the writing-desk tests' article."""
    return make_editor("desk-editor")


@pytest.fixture
def refs():
    """Two verified, peer-reviewed sources the desk tests' article cites."""
    return [make_reference(), make_reference()]

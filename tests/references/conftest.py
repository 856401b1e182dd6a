import pytest
from django.contrib.auth.models import Group, User


@pytest.fixture
def editor(db):
    user = User.objects.create_user("edna", "edna@example.org", "pw-edna-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client

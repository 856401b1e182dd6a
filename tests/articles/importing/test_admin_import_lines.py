"""The admin import preview, line by line: what each line of the file was read as, through the real admin.

The article is tests/fixtures/import/plos-ranges.txt (see that folder's README for its sources), with an
HTML/script payload line added to show that every line is shown escaped."""

import re
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from articles.models import Article

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"
IMPORT_URL = reverse("admin:articles_article_import")
PAYLOAD = 'Ordinary life <img src=x onerror="alert(1)"> is not a disease <script>alert(2)</script> in itself.'


@pytest.fixture
def editor_client(client):
    user = User.objects.create_user("imogen", password="pw-imogen-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user)
    return client


def rows(html):
    table = html.split('<table id="import-lines">', 1)[1].split("</table>", 1)[0]
    found = re.findall(r"<tr class=\"([\w-]+)\">\s*<td>(\d+)</td>\s*<td><code>(.*?)</code></td>\s*<td>(.*?)</td>",
                       table, re.S)
    return {int(n): (cls, unescape(text), unescape(re.sub(r"<[^>]+>", "", role))) for cls, n, text, role in found}


def test_the_preview_says_what_each_line_was_read_as_and_escapes_it(editor_client):
    lines = (FIXTURES / "plos-ranges.txt").read_text().split("\n")
    # A paragraph carrying markup, a stray marker between the sections, a sign-off at the end.
    lines[2:2] = [PAYLOAD, ""]
    lines[14:14] = ["[4]", ""]
    text = "\n".join(lines) + "\n- The Psychly Team\n"
    response = editor_client.post(IMPORT_URL, {"text": text, "_preview": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    table = html.split('<table id="import-lines">', 1)[1].split("</table>", 1)[0]
    assert "<script>alert" not in html and "<img src=x" not in html and "style=" not in table
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in table

    got = rows(html)
    assert got[1] == ("understood", lines[0], "title")
    assert got[3] == ("understood", PAYLOAD, "claim 1 (NO SOURCE)")
    assert got[5][2] == "claim 2 (NO SOURCE)"
    assert got[7][2] == "heading: Over-treatment"
    assert got[9][2] == "claim 3 (cites [1]); claim 4 (cites [2], [3]); claim 5 (cites [1], [2], [3])"
    assert got[11][2] == "heading: Under-recognition"
    assert got[13][2] == "claim 6 (cites [4]); claim 7 (cites [4], [5])"
    assert got[15] == ("not-understood", "[4]", "not understood: not part of the article as imported")
    assert got[17][2] == "heading of the reference list"
    assert got[19][2] == "reference 1: 10.1136/bmj.324.7342.886"
    assert got[23][2] == "reference 5: 10.1590/s0042-96862004001100011"
    assert got[25] == ("understood", "- The Psychly Team", "left out: sign-off")
    assert sorted(got) == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25]
    assert not Article.objects.exists()


def test_wrapped_lines_share_the_role_of_the_line_they_continue():
    """tests/fixtures/import/hard-wrapped.txt: a title wrapped over two lines, paragraphs and entries wrapped."""
    from articles.importing import import_article, line_by_line

    text = (FIXTURES / "hard-wrapped.txt").read_text()
    got = {row["line"]: (row["role"], row["understood"])
           for row in line_by_line(text, import_article(text, fetch=False, dry_run=True).as_dict())}
    assert got[1] == ("title", True) and got[2] == ("continues line 1: title", True)
    assert got[5] == ("continues line 4: claim 1 (cites [1]); claim 2 (cites [2])", True)
    assert got[26] == ("continues line 23: reference 1: 10.1523/jneurosci.1547-16.2016", True)
    assert all(understood for _role, understood in got.values())

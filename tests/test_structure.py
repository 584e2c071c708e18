"""The codebase stays one a newcomer can change: names that mean one thing each."""
import shutil

import pytest

from generator.content import ROUTE_TABLE, load_content
from generator.errors import ContentError


def test_a_missing_route_table_is_named_as_such(project, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(project.content, content)
    (content / ROUTE_TABLE).unlink()
    with pytest.raises(ContentError) as caught:
        load_content(content)
    message = str(caught.value)
    assert message.startswith(f"{content / 'routes.toml'}: error: the route table is missing")
    assert "manifest" not in message

import pytest
from django.utils import translation

from tests.crm.conftest import contact, pipeline  # noqa: F401
from tests.finance.conftest import make_deal  # noqa: F401


@pytest.fixture(autouse=True)
def _language_restored():
    """The test client's requests activate the language they negotiate in the test's thread
    and leave it active; later tests (of any module on the same worker) render in English."""
    language = translation.get_language()
    yield
    translation.activate(language)

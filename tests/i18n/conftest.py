from tests.crm.conftest import contact, pipeline  # noqa: F401
from tests.finance.conftest import make_deal  # noqa: F401

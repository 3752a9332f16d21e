from tests.crm.conftest import contact, deal, foreign_contact, pipeline, stages  # noqa: F401
from tests.radicale_server import caldav_user, radicale_url  # noqa: F401

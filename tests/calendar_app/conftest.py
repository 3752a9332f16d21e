from tests.crm.conftest import contact, deal, foreign_contact, pipeline, stages  # noqa: F401

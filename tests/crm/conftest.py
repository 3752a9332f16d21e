import pytest

from tests.crm.factories import ContactFactory, DealFactory, PipelineFactory


@pytest.fixture
def pipeline(team):
    return PipelineFactory(team=team, name="Sales")


@pytest.fixture
def stages(pipeline):
    return {stage.name: stage for stage in pipeline.stages.all()}


@pytest.fixture
def contact(team, rep):
    return ContactFactory(team=team, owner=rep, name="Olga Ortiz")


@pytest.fixture
def foreign_contact(other_team, outsider):
    return ContactFactory(team=other_team, owner=outsider, name="Fritz Foreign")


@pytest.fixture
def deal(pipeline, rep, contact):
    return DealFactory(pipeline=pipeline, owner=rep, contact=contact, title="Solar roof")

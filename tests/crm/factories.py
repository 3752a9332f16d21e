import datetime

import factory
from django.utils import timezone

from crm.activity_totals import activity_key, activity_totals_refresh
from crm.models import (
    Contact,
    Deal,
    Interaction,
    InteractionType,
    LostReason,
    Note,
    Organization,
    Pipeline,
    PipelineStage,
    Tag,
    Task,
)
from tests.coop.factories import TeamFactory, UserFactory


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Organization {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    team = factory.SubFactory(TeamFactory)
    owner = factory.SubFactory(UserFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@client.example")
    job_title = "Buyer"


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    contact = factory.SubFactory(ContactFactory)
    author = factory.LazyAttribute(lambda interaction: interaction.contact.owner)
    interaction_type = InteractionType.CALL
    summary = factory.Sequence(lambda n: f"Call number {n}")
    timestamp = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Saved as `crm.services.interaction_log` saves it: with the activity totals kept."""
        interaction = super()._create(model_class, *args, **kwargs)
        activity_totals_refresh(
            activity_key(interaction.contact.team_id, interaction.author_id, interaction.timestamp)
        )
        return interaction


class PipelineFactory(factory.django.DjangoModelFactory):
    """A pipeline with the usual stages: Lead 10 %, Proposal 50 %, Negotiation 80 %, Won, Lost."""

    class Meta:
        model = Pipeline
        skip_postgeneration_save = True

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Pipeline {n}")
    currency = "EUR"

    @factory.post_generation
    def stages(self, create, extracted, **kwargs):
        if not create:
            return
        specs = extracted or [
            ("Lead", 10, False, False),
            ("Proposal", 50, False, False),
            ("Negotiation", 80, False, False),
            ("Won", 100, True, False),
            ("Lost", 0, False, True),
        ]
        PipelineStage.objects.bulk_create(
            PipelineStage(
                pipeline=self,
                name=name,
                position=position,
                probability=probability,
                is_won=is_won,
                is_lost=is_lost,
            )
            for position, (name, probability, is_won, is_lost) in enumerate(specs)
        )


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    pipeline = factory.SubFactory(PipelineFactory)
    stage = factory.LazyAttribute(lambda deal: deal.pipeline.stages.order_by("position").first())
    contact = None
    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Deal {n}")
    value_cents = 100_000
    currency = factory.LazyAttribute(lambda deal: deal.pipeline.currency)
    expected_close_date = factory.LazyFunction(
        lambda: timezone.localdate() + datetime.timedelta(days=30)
    )


def lost_reason_for(deal: Deal) -> LostReason:
    """The first of the deal's team's default lost reasons (every team starts with them)."""
    return LostReason.objects.filter(team_id=deal.pipeline.team_id).order_by("position").first()


class TaskFactory(factory.django.DjangoModelFactory):
    """An open task on a deal (pass `contact=` or `organization=` with `deal=None` instead)."""

    class Meta:
        model = Task

    deal = factory.SubFactory(DealFactory)
    contact = None
    organization = None
    team = factory.LazyAttribute(
        lambda task: (
            task.deal.pipeline.team if task.deal else (task.contact or task.organization).team
        )
    )
    title = factory.Sequence(lambda n: f"Next step {n}")
    due_date = factory.LazyFunction(timezone.localdate)
    assignee = factory.LazyAttribute(lambda task: task.deal.owner if task.deal else None)


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    deal = factory.SubFactory(DealFactory)
    contact = None
    organization = None
    team = factory.LazyAttribute(
        lambda note: (
            note.deal.pipeline.team if note.deal else (note.contact or note.organization).team
        )
    )
    author = factory.LazyAttribute(lambda note: note.deal.owner if note.deal else None)
    body = factory.Sequence(lambda n: f"Note number {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"tag {n}")

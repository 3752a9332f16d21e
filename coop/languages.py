"""The interface languages, apart from the models so that settings can list them."""

from django.db.models import TextChoices


class Language(TextChoices):
    """The interface languages with complete catalogues. Blank on a user: the browser's choice.
    Each is named in its own language (an endonym), so it is never translated."""

    ENGLISH = "en", "English"
    SPANISH = "es", "Español"
    FRENCH = "fr", "Français"
    GERMAN = "de", "Deutsch"

from django.apps import AppConfig


class PsychlyConfig(AppConfig):
    name = "psychly"
    verbose_name = "Psychly site"

    def ready(self):
        from psychly import auth_logging

        auth_logging.connect()

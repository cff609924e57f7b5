from django.core.management.base import BaseCommand

from pages.tasks import send_test_email


class Command(BaseCommand):
    help = "Queue a test email for the Celery worker to send."

    def add_arguments(self, parser):
        parser.add_argument("--to", default="admin@example.com")

    def handle(self, *args, **options):
        result = send_test_email.delay(options["to"])
        self.stdout.write(f"queued test email to {options['to']} (task {result.id})")

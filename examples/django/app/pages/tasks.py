from celery import shared_task
from django.core.mail import send_mail


@shared_task
def send_test_email(recipient):
    """Send a test email; the console backend prints it in the worker's log."""
    send_mail(
        subject="forge example: test email",
        message="The Celery worker sent this through Django's console email backend.",
        from_email="noreply@example.com",
        recipient_list=[recipient],
    )
    return recipient

from django.db import models


class Visit(models.Model):
    """One view of the home page."""

    at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"visit at {self.at:%Y-%m-%d %H:%M:%S}"

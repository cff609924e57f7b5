from django.shortcuts import render

from .models import Visit


def home(request):
    Visit.objects.create()
    return render(request, "pages/home.html", {"visits": Visit.objects.count()})

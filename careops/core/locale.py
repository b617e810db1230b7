"""French first: the interface language is the user's explicit choice, else French.

Django's LocaleMiddleware also follows the browser's Accept-Language; careops does not, so that
a French public-service tool never switches language on its own.
"""

from django.conf import settings
from django.utils import translation


class ExplicitLocaleMiddleware:
    """Activate the language chosen through /i18n/setlang/ (cookie), else LANGUAGE_CODE."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response

"""Sign-in through OpenID Connect federations (Pro Santé Connect, ProConnect), as an allauth provider."""

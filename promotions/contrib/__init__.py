"""Integrations with shop frameworks, each an app added to INSTALLED_APPS next to ``promotions``."""

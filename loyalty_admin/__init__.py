"""The operator console: Django admin registrations for the loyalty plugin."""

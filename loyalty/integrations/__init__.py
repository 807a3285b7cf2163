"""Adapters that connect real shops to the plugin's services; each is an optional app of its own."""

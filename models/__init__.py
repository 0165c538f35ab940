"""Captcha-breaking models, registered by name."""

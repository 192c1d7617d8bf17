"""Talking to other services: the upstream pairs' clients, and a fake upstream."""

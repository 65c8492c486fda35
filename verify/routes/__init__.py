"""Blueprints, one per audience: api (JSON for the call centre and apps), health (probes)."""

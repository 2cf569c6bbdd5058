"""Gymnasium environments the course needs that no maintained package ships.

Importing this package registers them with gymnasium (``hub_utils.resolve_env_id`` does so on
demand, so scripts find them by id).
"""

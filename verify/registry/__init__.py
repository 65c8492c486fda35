"""Everything stored in Redis: the only package that imports ``redis``.

store.py owns the client, the embedded server and the key layout; each other module owns its keys.
"""

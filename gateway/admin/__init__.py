"""The admin console at /admin/: sign-in, menus, centers and slots, the drive, messages, audit.

Kept import-light: gateway.storage imports ``gateway.admin.models`` so Alembic and the test
fixtures see the admin tables; the blueprint lives in ``gateway.admin.views``.
"""

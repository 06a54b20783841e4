"""A project whose user model has neither ``username`` nor ``email`` (its login is
``handle``): the admin's customer searches must not assume either. Run only in a
subprocess under ``tests.customuser.settings`` (tests/surfaces/test_admin_custom_user.py):
the main suite's user model is ``auth.User``."""

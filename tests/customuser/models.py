"""``Member``: a user model without ``username`` and without ``email``, keyed by a UUID."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models


class MemberManager(BaseUserManager["Member"]):
    def create_user(self, handle: str, password: str | None = None, **extra: Any) -> Member:
        member = self.model(handle=handle, **extra)
        member.set_password(password)
        member.save(using=self._db)
        return member


class Member(AbstractBaseUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    handle = models.CharField(max_length=50, unique=True)
    is_staff = models.BooleanField(default=False)
    is_superuser = models.BooleanField(default=False)

    USERNAME_FIELD = "handle"
    objects = MemberManager()

    def __str__(self) -> str:
        return self.handle

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return self.is_superuser

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_superuser

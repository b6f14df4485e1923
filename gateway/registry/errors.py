"""Domain errors of the registry. Each carries what a menu needs to explain itself."""
from __future__ import annotations


class RegistryError(Exception):
    """Base class: a request the registry refuses for a reason the caller can be told."""


class BeneficiaryCapReached(RegistryError):
    def __init__(self, phone_count: int, cap: int):
        super().__init__(f"{phone_count} people already registered on this phone (cap {cap})")
        self.count = phone_count
        self.cap = cap


class NotEligible(RegistryError):
    def __init__(self, min_age: int):
        super().__init__(f"must be at least {min_age} years old")
        self.min_age = min_age


class InvalidField(RegistryError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(RegistryError):
    pass


class SlotFull(RegistryError):
    def __init__(self, slot_id: int):
        super().__init__(f"slot {slot_id} has no free place")
        self.slot_id = slot_id


class AlreadyBooked(RegistryError):
    def __init__(self, reference: str):
        super().__init__(f"already holds appointment {reference}")
        self.reference = reference


class WrongAgeGroup(RegistryError):
    def __init__(self, slot_group: str, person_group: str):
        super().__init__(f"slot is for {slot_group}, person is {person_group}")

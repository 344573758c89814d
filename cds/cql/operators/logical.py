"""Logical and nullological operators with CQL's three-valued logic."""

from __future__ import annotations

from typing import Any

from cds.cql.operators.registry import operator


@operator("And")
def And(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


@operator("Or")
def Or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


@operator("Xor")
def Xor(a: bool | None, b: bool | None) -> bool | None:
    if a is None or b is None:
        return None
    return a != b


@operator("Implies")
def Implies(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is True:
        return True
    if a is None or b is None:
        return None
    return False


@operator("Not")
def Not(a: bool | None) -> bool | None:
    return None if a is None else not a


@operator("IsNull")
def IsNull(a: Any) -> bool:
    return a is None


@operator("IsTrue")
def IsTrue(a: Any) -> bool:
    return a is True


@operator("IsFalse")
def IsFalse(a: Any) -> bool:
    return a is False

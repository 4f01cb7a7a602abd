"""JSON schemas for the constrained-decoding validation set: nested objects, arrays with item
bounds, enums, numeric ranges, optional fields, string patterns and formats, $ref/$defs, anyOf."""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

Schema = Dict[str, Any]


def _obj(props: Dict[str, Any], required: Any = None, **extra: Any) -> Schema:
    return {"type": "object", "properties": props, "required": list(props) if required is None else required,
            "additionalProperties": False, **extra}


S, I, N, B = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}

_POINT = _obj({"x": N, "y": N})
_ADDRESS = {"$ref": "#/$defs/address"}
_DEFS = {"address": _obj({"street": S, "city": S, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}})}

SCHEMAS: List[Tuple[str, Schema]] = [
    # flat objects
    ("person", _obj({"name": S, "age": {"type": "integer", "minimum": 0, "maximum": 120}})),
    ("light", _obj({"room": {"enum": ["kitchen", "bedroom", "hall"]}, "on": B})),
    ("temperature", _obj({"celsius": {"type": "number", "minimum": -40, "maximum": 60}})),
    ("flag", _obj({"ok": B})),
    ("count", _obj({"n": {"type": "integer", "minimum": 1, "maximum": 9}})),
    ("exclusive", _obj({"p": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}})),
    ("multiple", _obj({"step": {"type": "integer", "minimum": 0, "maximum": 100, "multipleOf": 5}})),
    ("nullable", _obj({"note": {"type": ["string", "null"]}})),
    ("const", _obj({"version": {"const": 2}, "name": S})),
    ("color", _obj({"color": {"enum": ["red", "green", "blue", "yellow"]}})),
    # optional fields
    ("optional_one", _obj({"title": S, "subtitle": S}, required=["title"])),
    ("optional_all", _obj({"a": I, "b": B, "c": S}, required=[])),
    ("optional_mixed", _obj({"id": I, "tags": {"type": "array", "items": S, "maxItems": 3}, "done": B},
                            required=["id"])),
    ("contact", _obj({"email": {"type": "string", "format": "email"}, "phone": S}, required=["email"])),
    # string patterns and lengths
    ("zip", _obj({"zip": {"type": "string", "pattern": "^[0-9]{5}$"}})),
    ("code", _obj({"code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2,4}$"}})),
    ("hex", _obj({"hex": {"type": "string", "pattern": "^#[0-9a-f]{6}$"}})),
    ("short", _obj({"word": {"type": "string", "minLength": 2, "maxLength": 8}})),
    ("date", _obj({"day": {"type": "string", "format": "date"}})),
    ("time", _obj({"at": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}})),
    ("uuid", _obj({"id": {"type": "string", "format": "uuid"}})),
    ("slug", _obj({"slug": {"type": "string", "pattern": "^[a-z]+(-[a-z]+)*$", "maxLength": 20}})),
    # arrays
    ("numbers", _obj({"values": {"type": "array", "items": I, "minItems": 2, "maxItems": 4}})),
    ("words", _obj({"words": {"type": "array", "items": S, "minItems": 1, "maxItems": 3}})),
    ("matrix", _obj({"rows": {"type": "array", "items": {"type": "array", "items": I, "minItems": 2, "maxItems": 2},
                              "minItems": 2, "maxItems": 2}})),
    ("points", _obj({"points": {"type": "array", "items": _POINT, "minItems": 1, "maxItems": 3}})),
    ("top_array", {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 3, "maxItems": 3}),
    ("tuple", _obj({"pair": {"type": "array", "prefixItems": [S, I], "items": False, "minItems": 2}})),
    ("enum_list", _obj({"days": {"type": "array", "items": {"enum": ["mon", "tue", "wed"]}, "maxItems": 3}})),
    ("bool_list", _obj({"bits": {"type": "array", "items": B, "minItems": 4, "maxItems": 4}})),
    # nested objects
    ("user", _obj({"user": _obj({"name": S, "admin": B})})),
    ("order", _obj({"id": I, "customer": _obj({"name": S, "vip": B}),
                    "items": {"type": "array", "items": _obj({"sku": S, "qty": {"type": "integer", "minimum": 1, "maximum": 10}}),
                              "minItems": 1, "maxItems": 2}})),
    ("deep", _obj({"a": _obj({"b": _obj({"c": _obj({"d": I})})})})),
    ("event", _obj({"title": S, "when": _obj({"date": {"type": "string", "format": "date"}, "all_day": B}),
                    "where": _obj({"room": S}, required=[])})),
    ("device", _obj({"device": _obj({"kind": {"enum": ["lamp", "fan"]}, "level": {"type": "integer", "minimum": 0, "maximum": 3}}),
                     "room": S})),
    ("rect", _obj({"top_left": _POINT, "bottom_right": _POINT})),
    ("settings", _obj({"audio": _obj({"volume": {"type": "integer", "minimum": 0, "maximum": 10}, "muted": B}),
                       "display": _obj({"brightness": {"type": "number", "minimum": 0, "maximum": 1}})})),
    ("recipe", _obj({"name": S, "steps": {"type": "array", "items": S, "minItems": 1, "maxItems": 3},
                     "time": _obj({"minutes": {"type": "integer", "minimum": 1, "maximum": 600}})})),
    # $ref and $defs
    ("ref_address", {**_obj({"home": _ADDRESS}), "$defs": _DEFS}),
    ("ref_two", {**_obj({"home": _ADDRESS, "work": _ADDRESS}, required=["home"]), "$defs": _DEFS}),
    ("ref_array", {**_obj({"places": {"type": "array", "items": _ADDRESS, "maxItems": 2}}), "$defs": _DEFS}),
    ("ref_enum", {**_obj({"level": {"$ref": "#/$defs/level"}}), "$defs": {"level": {"enum": ["low", "high"]}}}),
    ("ref_definitions", {**_obj({"p": {"$ref": "#/definitions/point"}}), "definitions": {"point": _POINT}}),
    ("ref_nested", {**_obj({"a": {"$ref": "#/$defs/outer"}}),
                    "$defs": {"outer": _obj({"inner": {"$ref": "#/$defs/inner"}}), "inner": _obj({"v": B})}}),
    # unions
    ("any_of", _obj({"value": {"anyOf": [I, {"type": "string", "maxLength": 10}]}})),
    ("one_of_objects", _obj({"shape": {"anyOf": [_obj({"kind": {"const": "circle"}, "r": N}),
                                                  _obj({"kind": {"const": "square"}, "side": N})]}})),
    ("type_list", _obj({"x": {"type": ["integer", "boolean"]}})),
    # top-level non-objects and free objects
    ("top_integer", {"type": "integer", "minimum": 10, "maximum": 99}),
    ("top_enum", {"enum": ["yes", "no", "maybe"]}),
    ("free_object", {"type": "object"}),
    ("additional", {"type": "object", "properties": {"name": S}, "required": ["name"],
                    "additionalProperties": {"type": "integer"}}),
    ("all_of", {"allOf": [_obj({"a": I}, required=["a"]), {"type": "object", "required": ["a"]}]}),
]

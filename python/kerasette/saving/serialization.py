"""Turning Keras objects into configs and back, without ever running code from a config.

`serialize_keras_object` writes the nested form that both Keras 2 and Keras 3 put in model files
(`{"module", "class_name", "config", "registered_name"}`). `deserialize_keras_object` reads a name,
that nested form or Keras 3's, and looks class names up *only* in the tables the caller passes:
nothing is imported, evaluated or unpickled, so loading a file cannot execute code from it.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

# Keras 2 writes objects it registered itself as "Custom>Adam"; the prefix carries no meaning here.
_CUSTOM_PREFIX = "Custom>"


def serialize_keras_object(obj: Any) -> Any:
    """Returns the nested config of a Keras object (Keras 2's format, which Keras 3 also reads).

    Args:
        obj: An object with `get_config()`, a plain value (returned as is), or `None`.

    Returns:
        `{"module": ..., "class_name": ..., "config": ..., "registered_name": None}` for an object
        with a config, else `obj` itself (a name string, a number, `None`).

    Example:
        >>> serialize_keras_object(GlorotUniform())
        {'module': 'keras.initializers', 'class_name': 'GlorotUniform', 'config': {'seed': None},
         'registered_name': None}
    """
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize {obj!r}: expected an object with a `get_config()` method. "
            f"Received: obj={obj!r} of type {type(obj).__name__}"
        )
    cls = type(obj)
    return {
        "module": getattr(cls, "_keras_module", cls.__module__),
        "class_name": cls.__name__,
        "config": obj.get_config(),
        "registered_name": None,
    }


class UnknownObjectError(ValueError):
    """A name no table (nor `custom_objects`) knows; `valid` lists the names that were. The `get`
    functions turn it into `could_not_interpret`'s message, this one kept as the cause."""

    def __init__(self, message: str, valid: list):
        super().__init__(message)
        self.valid = valid


def could_not_interpret(kind: str, identifier: Any, valid: list) -> ValueError:
    """Keras's "Could not interpret <kind> identifier: <name>", followed by the names that would
    have been understood."""
    return ValueError(f"Could not interpret {kind} identifier: {identifier}. "
                      f"Valid names are: {valid}")


def _strip_custom_prefix(name: str) -> str:
    return name[len(_CUSTOM_PREFIX) :] if name.startswith(_CUSTOM_PREFIX) else name


def _lookup(
    name: str,
    module_objects: dict[str, Callable],
    custom_objects: dict[str, Callable] | None,
    printable_module_name: str,
) -> Callable:
    name = _strip_custom_prefix(name)
    if custom_objects and name in custom_objects:
        obj = custom_objects[name]
        if not callable(obj):
            raise TypeError(
                f"Expected `custom_objects` to map names to classes or functions. "
                f"Received: custom_objects['{name}']={obj!r}"
            )
        return obj
    if name in module_objects:
        return module_objects[name]
    valid = sorted(set(module_objects) | set(custom_objects or {}))
    raise UnknownObjectError(
        f"Unknown {printable_module_name}: '{name}'. Please ensure you are using a "
        "`keras.utils.custom_object_scope` and that this object is included in the scope, "
        "or pass it in `custom_objects`. "
        f"Valid names are: {valid}",
        valid,
    )


def deserialize_keras_object(
    config: Any,
    module_objects: dict[str, Callable],
    custom_objects: dict[str, Callable] | None = None,
    printable_module_name: str = "object",
) -> Any:
    """Rebuilds an object from a name or a config dict, looking names up only in the given tables.

    Args:
        config: `None`; a name string (the class or function it names is returned, not called);
            a `{"class_name": ..., "config": ...}` dict in Keras 2 or Keras 3 form ("module" and
            "registered_name" optional, a "Custom>" prefix ignored), which is instantiated with
            `cls.from_config(config)`; or any other object, returned as is.
        module_objects: The names this module knows, mapped to classes or functions.
        custom_objects: Extra names the caller allows, mapped to classes or functions.
        printable_module_name: What the object is, for error messages ("initializer", ...).

    Returns:
        The looked-up class or function (for a name) or a new instance (for a dict).

    Example:
        >>> deserialize_keras_object(
        ...     {"class_name": "Zeros", "config": {}}, {"Zeros": Zeros}, None, "initializer")
        <Zeros ...>
    """
    if config is None:
        return None
    if isinstance(config, str):
        return _lookup(config, module_objects, custom_objects, printable_module_name)
    if not isinstance(config, dict):
        return config
    if "class_name" not in config:
        raise ValueError(
            f"Expected a {printable_module_name} config with a `class_name` key. "
            f"Received: config={config}"
        )
    class_name = config["class_name"]
    inner = config.get("config", {})
    if class_name == "function":
        # Keras 3 writes plain functions as {"class_name": "function", "config": "relu", ...}.
        return _lookup(str(inner), module_objects, custom_objects, printable_module_name)
    obj = _lookup(str(class_name), module_objects, custom_objects, printable_module_name)
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        raise ValueError(
            f"Expected the `config` of {printable_module_name} '{class_name}' to be a dict. "
            f"Received: config={inner!r}"
        )
    if not inspect.isclass(obj):
        return obj
    if hasattr(obj, "from_config"):
        return obj.from_config(dict(inner))
    return obj(**inner)

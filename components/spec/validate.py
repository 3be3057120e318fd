"""Validation: `validate` and `validate_all`, the shape check of the args, and `SpecError`.

`validate` checks the args' shape against their TypedDicts (args.py), resolves the defaults into
a `QueueSpec` (model.py), runs every rule (rules.py) and raises one `SpecError` listing every
problem, before any resource is registered. A value typed `pulumi.Input` may be another
resource's Output: the spec carries it wrapped so that the same check runs on its value once the
deployment knows it, and fails the deployment at the resource that uses it with the same message.
It also warns about what is legal but risky (unpinned requirements, cross-account producers).
"""

import collections.abc
import difflib
import functools
import inspect
from dataclasses import replace
from pathlib import Path
from typing import Any, ForwardRef, Mapping, NotRequired, Optional, Required, Union, get_args, get_origin

import pulumi

from .. import program
from .args import QueueArgs
from .inputs import Check, aws_environment_size_issues, map_inputs
from .limits import _AWS_KMS_KEY, _AWS_PRINCIPAL, _NAME, DEFAULTS, MAX_RETENTION
from .model import AlarmSpec, ConsumerSpec, QueueSpec
from .rules import RULES


class SpecError(ValueError):
    """A queue spec that cannot be provisioned; `issues` lists every problem found."""

    def __init__(self, issues: list[str]):
        self.issues = issues
        super().__init__("invalid cloudqueue spec:\n" + "\n".join(f"  - {issue}" for issue in issues))


def validate(name: str, args: Mapping[str, Any], base_dir: Optional[Path] = None, clouds: Optional[tuple[str, ...]] = None) -> QueueSpec:
    """Check `args` against the schema and every targeted cloud's limits; return the resolved spec.

    `base_dir` anchors `consumer.code_path` (default: the current directory, which is the
    Pulumi project directory during `pulumi up`). `clouds` fixes the targeted clouds for a
    single-cloud component, whose args carry no `clouds` field.
    """
    path = f"queues.{name}"
    if not isinstance(args, Mapping):
        raise SpecError([f"{path}: {_describe(args)} is not a mapping of spec fields"])
    issues: list[str] = []
    args = dict(args)
    if clouds is not None:
        if "clouds" in args:
            issues.append(f"{path}.clouds: not accepted by a single-cloud component, which always targets {clouds[0]}")
        args["clouds"] = list(clouds)
    if not isinstance(name, str) or not _NAME.match(name):
        issues.append(f"{path}: the queue name must start with a letter or digit and hold only letters, digits, '-' and '_'")
    _check_shape(args, QueueArgs, path, issues)
    if issues:
        raise SpecError(issues)
    spec = _resolve(name, args, base_dir or Path.cwd())
    for rule in RULES:
        issues.extend(rule(spec, path))
    if issues:
        raise SpecError(issues)
    _warn_unpinned(spec, path)
    _warn_cross_account_producers(spec, path)
    return _checked_when_known(spec, path)


class UnpinnedRequirementsWarning(UserWarning):
    """A consumer requirement without an exact pin: two deploys of the same code may differ."""


class CrossAccountProducerWarning(UserWarning):
    """An AWS producer in another account than the queue's key: only the key's owner can let it send."""


def _warn_cross_account_producers(spec: QueueSpec, path: str) -> None:
    # SQS calls kms:GenerateDataKey and kms:Decrypt as the sender (SQS key management docs); for a
    # principal of another account the key policy must allow that, and cloudqueue does not own it.
    import json
    import warnings

    key = spec.encryption_keys.get("aws") if "aws" in spec.clouds else None
    if not isinstance(key, str) or not _AWS_KMS_KEY.match(key):
        return
    partition, region, key_account = key.split(":")[1], key.split(":")[3], key.split(":")[4]
    via = f"sqs.{region}.amazonaws.com" + (".cn" if partition == "aws-cn" else "")
    # Operators send to the queue and receive from its dead-letter queue: the same key, the same two actions.
    for field, sid, caller, sqs_rights, policy in (
        ("producers", "AllowProducerThroughSqs", "sender", "sqs:SendMessage on the queue", "producer"),
        ("operators", "AllowOperatorThroughSqs", "caller", "the SQS actions of the operator policy", "operator"),
    ):
        for index, member in enumerate(getattr(spec, field).get("aws", ())):
            if not isinstance(member, str) or not _AWS_PRINCIPAL.match(member) or member.split(":")[4] == key_account:
                continue
            statement = {
                "Sid": sid, "Effect": "Allow", "Principal": {"AWS": member},
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": via}},
            }
            warnings.warn(
                CrossAccountProducerWarning(
                    f"{path}.{field}.aws[{index}]: {member} is in account {member.split(':')[4]}, but the queue key {key} is in "
                    f"{key_account}; SQS uses the key as the {caller}, so the key policy must allow it: {json.dumps(statement)}. Its own "
                    f"account must also grant it {sqs_rights} and those two KMS actions on the key (the {policy} policy "
                    f"cloudqueue creates lives in the queue's account)"
                ),
                stacklevel=3,
            )


def _warn_unpinned(spec: QueueSpec, path: str) -> None:
    from .. import artifact

    loose = artifact.unpinned(spec.consumer.code_path)
    if loose:
        import warnings

        warnings.warn(
            UnpinnedRequirementsWarning(
                f"{path}.consumer.code_path: requirements.txt does not pin {', '.join(repr(line) for line in loose)}; "
                f"reproducible deploys need exact versions (name==version)"
            ),
            stacklevel=3,
        )


def validate_all(queues: Any, base_dir: Optional[Path] = None) -> dict[str, QueueSpec]:
    """Validate every queue of a stack before any is built, reporting all problems together."""
    if not isinstance(queues, Mapping) or not queues:
        raise SpecError([f"queues: {_describe(queues)} must be a non-empty mapping of queue name to spec"])
    specs, issues = {}, []
    for name, args in queues.items():
        try:
            specs[name] = validate(name, args, base_dir)
        except SpecError as error:
            issues.extend(error.issues)
    if issues:
        raise SpecError(issues)
    return specs


def _resolve(name: str, args: Mapping[str, Any], base_dir: Path) -> QueueSpec:
    consumer_args = args["consumer"]

    def pick(key: str, source: Mapping[str, Any], prefix: str = "") -> Any:
        return source.get(key, DEFAULTS[prefix + key])

    consumer = ConsumerSpec(
        code_path=(base_dir / consumer_args["code_path"]).resolve(),
        handler=consumer_args["handler"],
        **{
            key: pick(key, consumer_args, "consumer.")
            for key in ("runtime", "memory_mb", "timeout_seconds", "batch_size", "max_batching_window_seconds", "max_concurrency", "environment", "tracing", "network")
        },
    )
    clouds = tuple(args["clouds"])
    alarms = args.get("alarms", {})
    # Default dead-letter retention: the longest every targeted cloud can store, so a failed
    # message stays inspectable for as long as possible (SQS keeps the original enqueue time).
    known = [MAX_RETENTION[c] for c in clouds if c in MAX_RETENTION and MAX_RETENTION[c] is not None]
    dead_letter_default = min(known) if known else MAX_RETENTION["aws"]
    return QueueSpec(
        name=name,
        clouds=clouds,
        fifo=pick("fifo", args),
        message_retention_seconds=pick("message_retention_seconds", args),
        visibility_timeout_seconds=args.get("visibility_timeout_seconds"),
        max_delivery_attempts=pick("max_delivery_attempts", args),
        dead_letter_retention_seconds=args.get("dead_letter_retention_seconds", dead_letter_default),
        encryption_keys=dict(pick("encryption_keys", args)),
        consumer=consumer,
        producers={cloud: tuple(ids) for cloud, ids in pick("producers", args).items()},
        tags=dict(pick("tags", args)),
        operators={cloud: tuple(ids) for cloud, ids in pick("operators", args).items()},
        max_message_bytes=pick("max_message_bytes", args),
        alarms=AlarmSpec(
            dead_letter=pick("dead_letter", alarms, "alarms."),
            notify={cloud: tuple(entries) for cloud, entries in pick("notify", alarms, "alarms.").items()},
        ),
    )


# --- The shape of the args ---------------------------------------------------------------------


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _type_word(hint: Any) -> str:
    return {bool: "boolean (true or false)", int: "whole number", str: "string"}[hint]


@functools.lru_cache(maxsize=None)
def _fields(typed_dict: type) -> dict[str, Any]:
    """A TypedDict's fields and their types, without Required/NotRequired.

    Read as written (`inspect.get_annotations`), not through `get_type_hints`: `pulumi.Input[str]`
    holds a forward reference to `Output[T]` that only resolves inside pulumi's own module.
    """
    fields = {}
    for key, hint in inspect.get_annotations(typed_dict).items():
        while get_origin(hint) in (Required, NotRequired):
            hint = get_args(hint)[0]
        fields[key] = hint
    return fields


def _is_typeddict(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__required_keys__")


def input_type(hint: Any) -> Optional[Any]:
    """T for a `pulumi.Input[T]` annotation (Union[T, Awaitable[T], Output[T]]), else None."""
    if get_origin(hint) is not Union:
        return None
    members = get_args(hint)
    if not any(get_origin(member) is collections.abc.Awaitable for member in members):
        return None
    plain = [m for m in members if get_origin(m) not in (collections.abc.Awaitable, pulumi.Output) and not isinstance(m, ForwardRef)]
    return plain[0] if len(plain) == 1 else None


def _check_shape(value: Any, hint: Any, path: str, issues: list[str]) -> None:
    """Type-check `value` against a TypedDict / list / dict / scalar annotation.

    An Output is accepted where the annotation is `pulumi.Input[...]` (args.py says which fields
    those are); its value is checked once known. Everywhere else it is refused: those values
    decide which resources exist.
    """
    plain = input_type(hint)
    if isinstance(value, pulumi.Output):
        if plain is None:
            issues.append(f"{path}: must be a plain value, not a pulumi Output, because cloudqueue validates it before deploying")
        return
    hint = plain if plain is not None else hint
    if _is_typeddict(hint):
        if not isinstance(value, Mapping):
            issues.append(f"{path}: {_describe(value)} is not a mapping")
            return
        fields = _fields(hint)
        for key in value:
            if key not in fields:
                close = difflib.get_close_matches(str(key), fields, n=1)
                hint_text = f"; did you mean {close[0]!r}?" if close else ""
                issues.append(f"{path}.{key}: unknown field (allowed: {', '.join(sorted(fields))}){hint_text}")
        for key in sorted(hint.__required_keys__):
            if key not in value:
                issues.append(f"{path}.{key}: required field is missing")
        for key, sub in fields.items():
            if key in value:
                _check_shape(value[key], sub, f"{path}.{key}", issues)
        return
    origin = get_origin(hint)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            issues.append(f"{path}: {_describe(value)} is not a list")
            return
        for index, item in enumerate(value):
            _check_shape(item, get_args(hint)[0], f"{path}[{index}]", issues)
        return
    if origin is dict:
        if not isinstance(value, Mapping):
            issues.append(f"{path}: {_describe(value)} is not a mapping")
            return
        for key, item in value.items():
            if not isinstance(key, str):
                issues.append(f"{path}: key {_describe(key)} is not a string")
            _check_shape(item, get_args(hint)[1], f"{path}.{key}", issues)
        return
    ok = isinstance(value, hint) and (hint is not int or not isinstance(value, bool))
    if not ok:
        issues.append(f"{path}: {_describe(value)} is not a {_type_word(hint)}")


# --- Values known only at deploy time ----------------------------------------------------------


def _checked_when_known(spec: QueueSpec, path: str) -> QueueSpec:
    """`spec` with every Output of an Input field wrapped in the check its plain value gets (inputs.py).

    A preview that cannot know the value skips the check; the deployment runs it as soon as the
    value is known, and a bad value fails the resource that uses it.
    """
    found = []

    def wrap(field: str, value: Any, check: Check) -> Any:
        if not isinstance(value, pulumi.Output):
            return value
        found.append(field)
        return _checked(field, value, check)

    fields = map_inputs(spec, path, wrap)
    if not found:
        return spec
    consumer = fields["consumer"]
    if "aws" in spec.clouds and any(isinstance(value, pulumi.Output) for value in consumer.environment.values()):
        consumer = replace(consumer, environment=_environment_checked_when_known(consumer.environment, f"{path}.consumer.environment"))
    return replace(spec, **{**fields, "consumer": consumer})


def _checked(field: str, value: pulumi.Output, check: Check) -> pulumi.Output:
    """`value`, once known, if `check` finds nothing wrong with it; else a SpecError (a secret value is not shown)."""

    def run(known: list[Any]) -> Any:
        resolved, secret = known
        issues = check(field, resolved) if isinstance(resolved, str) else [f"{field}: {_describe(resolved)} is not a string"]
        if issues:
            raise SpecError([issue.replace(repr(resolved), "[secret]") for issue in issues] if secret else issues)
        return resolved

    # One checked Output per Output and check in a program: a program that hands one Output (a key's
    # id) to several queues gets one checked Output back for all of them, so what the components
    # share by identity (a key's grants, a subnet's) stays shared; a bad value is named by the first
    # queue's field path. The cache holds `value`, so its id names no other Output meanwhile.
    kind = (id(value), *((check.func, check.args) if isinstance(check, functools.partial) else (check,)))
    cache = program.once("checked-outputs", dict) if pulumi.runtime.settings.SETTINGS.monitor is not None else {}
    if kind not in cache:
        cache[kind] = (value, pulumi.Output.all(value, pulumi.Output.from_input(value.is_secret())).apply(run))
    return cache[kind][1]


def _environment_checked_when_known(environment: Mapping[str, Any], field: str) -> dict[str, Any]:
    """Lambda's cap on the whole environment, checked once every value is known; each Output value waits for it."""

    def run(resolved: dict[str, Any]) -> bool:
        issues = aws_environment_size_issues(field, resolved)
        if issues:
            raise SpecError(issues)
        return True

    # Only a size comes out of the check: it takes none of the values' secrecy.
    checked = pulumi.Output.unsecret(pulumi.Output.all(**environment).apply(run))
    return {
        key: pulumi.Output.all(value, checked).apply(lambda known: known[0]) if isinstance(value, pulumi.Output) else value
        for key, value in environment.items()
    }

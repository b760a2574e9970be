"""Edit a kit config file in place, keeping its comments and layout, and never write an invalid one.

ruamel.yaml's round-trip mode keeps comments, key order, quotes and flow lists. The edited text is
validated with the kit's config loader from a temporary file beside the original, which then replaces
it atomically; when validation fails nothing is written.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from assembly.kit import KIT
from core.issues import ConfigError
from scripts.aws_session import ToolError


def _flow(items: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _insert_after(mapping: CommentedMap, after: str, key: str, value: Any) -> None:
    keys = list(mapping)
    mapping.insert(keys.index(after) + 1 if after in keys else len(keys), key, value)


def _mapping_indent(text: str) -> int:
    """The indent of the first nested mapping key: the file's own style, 2 when there is none."""
    match = re.search(r"^[A-Za-z_][\w-]*:[ \t]*(#.*)?\n(?:[ \t]*(?:#.*)?\n)*( +)[A-Za-z_]", text, re.MULTILINE)
    return len(match.group(2)) if match else 2


@dataclass
class ConfigDocument:
    path: Path
    data: CommentedMap
    yaml: YAML
    changes: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> ConfigDocument:
        try:
            text = path.read_text(encoding="utf-8")
            _, sequence_indent, offset = load_yaml_guess_indent(text)
        except OSError as exc:
            raise ToolError(f"cannot read {path}: {exc.strerror}; check the --config path") from exc
        except YAMLError as exc:
            raise ToolError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}); fix it first (`./kit synth` shows where)") from exc
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.width = 4096
        yaml.indent(mapping=_mapping_indent(text), sequence=sequence_indent or 2, offset=offset or 0)
        data = yaml.load(text)
        if not isinstance(data, CommentedMap):
            raise ToolError(f"{path} is not a YAML mapping; start from config/default.yaml")
        return cls(path, data, yaml)

    def _entry(self, section: str, name: str, flag: str) -> CommentedMap:
        entries = self.data.get(section) or []
        for entry in entries:
            if isinstance(entry, CommentedMap) and entry.get("name") == name:
                return entry
        names = ", ".join(str(e.get("name")) for e in entries if isinstance(e, CommentedMap)) or "none"
        raise ToolError(f"{self.path} has no {section} entry named {name!r} ({section}: {names}); pass one of them to {flag}")

    def pool(self, name: str) -> CommentedMap:
        return self._entry("node_pools", name, "--pool")

    def node_group(self, name: str) -> CommentedMap:
        return self._entry("capacity_block_node_groups", name, "--node-group")

    def add_pool_reservation(self, name: str, reservation_id: str) -> None:
        """Add the ID to node_pools[name].capacity_reservations.ids and 'reserved' to its capacity types.
        A pool that selects reservations by tags is left alone: the purchase tags the block instead."""
        pool = self.pool(name)
        types = pool.get("capacity_types")
        if types is None:
            _insert_after(pool, "instance_types", "capacity_types", _flow(["on-demand", "reserved"]))
            self.changes.append(f"node_pools[{name}].capacity_types: on-demand, reserved")
        elif "reserved" not in types:
            types.append("reserved")
            self.changes.append(f"node_pools[{name}].capacity_types: added reserved")
        selection = pool.get("capacity_reservations")
        if selection is None:
            _insert_after(pool, "capacity_types", "capacity_reservations", CommentedMap(ids=_flow([reservation_id])))
        elif selection.get("tags"):
            self.changes.append(f"node_pools[{name}] selects reservations by tags; the block carries them, so its ID is not listed")
            return
        elif selection.get("ids") is None:
            selection["ids"] = _flow([reservation_id])
        elif reservation_id not in selection["ids"]:
            selection["ids"].append(reservation_id)
        self.changes.append(f"node_pools[{name}].capacity_reservations.ids: added {reservation_id}")

    def set_pool_block(self, name: str, reservation_id: str, *, start: str, end: str, instances: int, gpus_per_instance: int) -> None:
        """Make node_pools[name] follow the block: reserved only, this reservation alone, its window and size."""
        pool = self.pool(name)
        pool["capacity_types"] = _flow(["reserved"])
        if "capacity_reservations" in pool:
            pool["capacity_reservations"] = CommentedMap(ids=_flow([reservation_id]))
        else:
            _insert_after(pool, "capacity_types", "capacity_reservations", CommentedMap(ids=_flow([reservation_id])))
        window = CommentedMap(start=start, end=end, instances=instances)
        if "capacity_block" in pool:
            pool["capacity_block"] = window
        else:
            _insert_after(pool, "capacity_reservations", "capacity_block", window)
        pool["gpu_limit"] = instances * gpus_per_instance
        if "weight" in pool:
            del pool["weight"]  # a static pool takes no weight; its standing nodes are used first
            self.changes.append(f"node_pools[{name}].weight: removed (a pool that follows a block is static)")
        self.changes.append(
            f"node_pools[{name}]: follows {reservation_id} from {start} to "
            f"{end} with {instances} nodes ({instances * gpus_per_instance} GPUs)"
        )

    def pool_selection_tags(self, name: str) -> dict[str, str]:
        selection = self.pool(name).get("capacity_reservations") or {}
        return {str(k): str(v) for k, v in (selection.get("tags") or {}).items()}

    def set_node_group_reservation(self, name: str, reservation_id: str, instances: int) -> None:
        group = self.node_group(name)
        group["reservation_id"] = reservation_id
        self.changes.append(f"capacity_block_node_groups[{name}].reservation_id: {reservation_id}")
        if group.get("size") != instances:
            self.changes.append(f"capacity_block_node_groups[{name}].size: {group.get('size')} -> {instances} (the block's instance count)")
            group["size"] = instances

    def set_zone(self, az_id: str) -> None:
        """Move placement.az_id to the block's zone: nodes, subnets and FSx all follow it."""
        placement = self.data.get("placement")
        if not isinstance(placement, CommentedMap):
            raise ToolError(f"{self.path} has no placement mapping; add placement.az_id and placement.control_plane_az_id")
        old = placement.get("az_id")
        if old == az_id:
            return
        placement["az_id"] = az_id
        self.changes.append(f"placement.az_id: {old} -> {az_id} (the whole data plane moves to the block's zone)")
        if placement.get("control_plane_az_id") == az_id and old:
            placement["control_plane_az_id"] = old
            self.changes.append(f"placement.control_plane_az_id: {az_id} -> {old} (it must differ from az_id)")

    def text(self) -> str:
        out = io.StringIO()
        self.yaml.dump(self.data, out)
        return out.getvalue()

    def validate(self) -> str:
        """The edited text after the kit's config loader accepted it; ToolError with every problem otherwise."""
        text = self.text()
        temp = self._temp_with(text)
        try:
            _check(temp, self.path)
        finally:
            temp.unlink(missing_ok=True)
        return text

    def save(self) -> None:
        """Validate, then replace the file atomically; on a validation error the file is untouched."""
        temp = self._temp_with(self.text())
        try:
            _check(temp, self.path)
            shutil.copymode(self.path, temp)
            os.replace(temp, self.path)
        finally:
            temp.unlink(missing_ok=True)

    def _temp_with(self, text: str) -> Path:
        # Beside the original, so the rename is atomic and relative paths in the config mean the same.
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return Path(name)


def _check(candidate: Path, original: Path) -> None:
    try:
        KIT.load(candidate)
    except ConfigError as err:
        body = "\n".join(f"  - {issue.render()}".replace("\n", "\n  ") for issue in err.issues)
        raise ToolError(f"{original}: the edited config would not be valid, so the file was not changed:\n{body}") from None

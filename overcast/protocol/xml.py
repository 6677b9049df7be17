"""Shared machinery of the XML protocol family (query, ec2, rest-xml).

A botocore shape is compiled once per "dialect" into a tree of small codec nodes that know, for their shape:

- how to read a value from a query-protocol form (`from_form`, over a dotted-key trie),
- how to read a value from an XML element of a request body (`from_xml`),
- how to write a value as XML text (`emit`, string pieces appended to a list: no DOM on the response path).

Dialects differ only in names: 'query' (botocore's QuerySerializer rules), 'ec2' (EC2Serializer rules:
queryName / capitalised locationName, lists as `Name.N`), 'xml' (rest-xml bodies) and 'sqs' (SQS's legacy
query form: every list and map flattened under its old singular name, maps as Name/Value pairs).

On output every dialect names elements as botocore's XML response parser expects (`_member_key_name`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element, ParseError, XMLParser

from overcast.protocol.common import (
    WireError,
    b64decode,
    b64encode,
    format_timestamp,
    parse_timestamp,
)

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import Shape

# ------------------------------------------------------------------------------------------- escaping

_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}
)


# Characters XML 1.0 cannot carry at all, even as references: a response holding one would be ill-formed for
# every client, so they are replaced (U+FFFD) rather than written.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    """Escape element text (`&`, `<`, `>`, and CR so it survives XML line-end normalisation)."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        text = text.translate(_TEXT_ESCAPES)
    if not text.isprintable() and _NOT_XML.search(text):
        text = _NOT_XML.sub("\ufffd", text)
    return text


def escape_attr(text: str) -> str:
    text = text.translate(_ATTR_ESCAPES)
    return _NOT_XML.sub("\ufffd", text) if not text.isprintable() else text


def element(tag: str, text: str) -> str:
    """`<tag>escaped text</tag>`."""
    return f"<{tag}>{escape(text)}</{tag}>"


XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


# ------------------------------------------------------------------------------------- reading XML


def local_name(tag: str) -> str:
    """The tag without its `{namespace}`."""
    if tag[:1] == "{":
        return tag[tag.index("}") + 1 :]
    return tag


def parse_xml(body: bytes | str) -> Element:
    """Parse a request body; refuses DTDs (and so entity declarations) outright. WireError if malformed."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise WireError("DTDs and entity declarations are not allowed")
    parser = XMLParser()
    try:
        parser.feed(body)
        root = parser.close()
    except ParseError as exc:
        raise WireError(f"The XML you provided was not well-formed: {exc}") from exc
    if body.count(b"<") > 2 * MAX_XML_DEPTH and _depth(root) > MAX_XML_DEPTH:
        raise WireError(f"The XML you provided was not well-formed: nested deeper than {MAX_XML_DEPTH}")
    return root


MAX_XML_DEPTH = 128  # refused before any recursive code sees it


def _depth(root: Element) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in element)
    return deepest


def _group_children(elem: Element) -> dict[str, Any]:
    """{local tag: element or [elements]} of `elem`'s children (repeated tags become lists)."""
    out: dict[str, Any] = {}
    for child in elem:
        tag = child.tag
        if tag[:1] == "{":
            tag = tag[tag.index("}") + 1 :]
        prev = out.get(tag)
        if prev is None:
            out[tag] = child
        elif type(prev) is list:
            prev.append(child)
        else:
            out[tag] = [prev, child]
    return out


# ------------------------------------------------------------------------------------------ dialects

# SQS's legacy query protocol: the names its lists and maps had in the 2012-11-05 query model.
SQS_LIST_NAMES = {
    "AWSAccountIdList": "AWSAccountId",
    "ActionNameList": "ActionName",
    "AttributeNameList": "AttributeName",
    "BatchResultErrorEntryList": "BatchResultErrorEntry",
    "BinaryList": "BinaryListValue",
    "ChangeMessageVisibilityBatchRequestEntryList": "ChangeMessageVisibilityBatchRequestEntry",
    "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
    "DeleteMessageBatchRequestEntryList": "DeleteMessageBatchRequestEntry",
    "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
    "ListMessageMoveTasksResultEntryList": "ListMessageMoveTasksResultEntry",
    "MessageAttributeNameList": "MessageAttributeName",
    "MessageList": "Message",
    "MessageSystemAttributeList": "MessageSystemAttributeName",
    "QueueUrlList": "QueueUrl",
    "SendMessageBatchRequestEntryList": "SendMessageBatchRequestEntry",
    "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
    "StringList": "StringListValue",
    "TagKeyList": "TagKey",
}
# map shape -> (element name, key name, value name)
SQS_MAP_NAMES = {
    "QueueAttributeMap": ("Attribute", "Name", "Value"),
    "MessageSystemAttributeMap": ("Attribute", "Name", "Value"),
    "MessageBodyAttributeMap": ("MessageAttribute", "Name", "Value"),
    "MessageBodySystemAttributeMap": ("MessageSystemAttribute", "Name", "Value"),
    "TagMap": ("Tag", "Key", "Value"),
}

DIALECTS = ("query", "ec2", "xml", "sqs")


def _ec2_name(shape: Shape, default: str) -> str:
    ser = shape.serialization
    if "queryName" in ser:
        return ser["queryName"]
    name = ser.get("name")
    if name:
        return name[0].upper() + name[1:]
    return default


def _member_names(dialect: str, member_name: str, member: Shape) -> tuple[str, str]:
    """(input name, output name) of a structure member in `dialect`.

    Input: the form key segment (query/ec2/sqs) or request element tag (xml). Output: the response element
    tag, as botocore's XML parser looks it up.
    """
    ser = member.serialization
    t = member.type_name
    if dialect == "sqs":
        if t == "list" and member.name in SQS_LIST_NAMES:
            name = SQS_LIST_NAMES[member.name]
            return name, name
        if t == "map" and member.name in SQS_MAP_NAMES:
            name = SQS_MAP_NAMES[member.name][0]
            return name, name
        name = ser.get("name", member_name)
        return name, name
    out_name = ser.get("name", member_name)
    flat = bool(ser.get("flattened"))
    if t == "list" and flat:
        item_name = member.member.serialization.get("name")
        if item_name:
            out_name = item_name
    if dialect == "ec2":
        return _ec2_name(member, member_name), out_name
    in_name = ser.get("name", member_name)
    if dialect == "query" and t == "list" and flat:
        item_name = member.member.serialization.get("name")
        if item_name:
            in_name = item_name
    return in_name, out_name


# --------------------------------------------------------------------------------------------- nodes


class Node:
    """A compiled shape. Subclasses implement from_form / from_xml / emit."""

    __slots__ = ("shape_name",)
    kind = "scalar"

    def from_form(self, node: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def from_xml(self, elem: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def emit(self, out: list, tag: str, value: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def _text(node: Any) -> str:
    """The text of a form-trie leaf or an XML element ('' for an empty element)."""
    if type(node) is str:
        return node
    if type(node) is dict:
        node = node.get("")
        return node if type(node) is str else ""
    if type(node) is list:  # repeated element where a scalar is expected: the first one
        node = node[0]
    return node.text or ""


class StringNode(Node):
    __slots__ = ()

    def from_form(self, node):
        return _text(node)

    def from_xml(self, elem):
        return _text(elem)

    def emit(self, out, tag, value):
        if type(value) is not str:
            value = str(value)
        if "&" in value or "<" in value or ">" in value or "\r" in value or not value.isprintable():
            value = escape(value)  # the same rules as element text (characters XML 1.0 cannot carry)
        out.append(f"<{tag}>{value}</{tag}>")


class IntegerNode(Node):
    __slots__ = ()

    def from_form(self, node):
        text = _text(node)
        try:
            return int(text)
        except ValueError:
            raise WireError(f"Invalid integer value: {text!r}") from None

    from_xml = from_form

    def emit(self, out, tag, value):
        out.append(f"<{tag}>{int(value)}</{tag}>")


class FloatNode(Node):
    __slots__ = ()

    def from_form(self, node):
        text = _text(node)
        try:
            return float(text)
        except ValueError:
            raise WireError(f"Invalid number value: {text!r}") from None

    from_xml = from_form

    def emit(self, out, tag, value):
        value = float(value)
        if math.isfinite(value):
            text = repr(value)
        elif value != value:
            text = "NaN"
        else:
            text = "Infinity" if value > 0 else "-Infinity"
        out.append(f"<{tag}>{text}</{tag}>")


class BooleanNode(Node):
    __slots__ = ()

    def from_form(self, node):
        text = _text(node).strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
        raise WireError(f"Invalid boolean value: {_text(node)!r}")

    from_xml = from_form

    def emit(self, out, tag, value):
        if type(value) is str:  # tolerate 'true'/'false' from a handler
            value = value.strip().lower() == "true"
        out.append(f"<{tag}>true</{tag}>" if value else f"<{tag}>false</{tag}>")


class BlobNode(Node):
    __slots__ = ()

    def from_form(self, node):
        return b64decode(_text(node))

    from_xml = from_form

    def emit(self, out, tag, value):
        out.append(f"<{tag}>{b64encode(value)}</{tag}>")


class TimestampNode(Node):
    __slots__ = ("fmt", "millis")

    def __init__(self, fmt: str | None, millis: bool = False) -> None:
        self.fmt = fmt or "iso8601"
        self.millis = millis  # always .mmmZ (REST-XML services: S3's 2009-10-12T17:50:30.000Z)

    def from_form(self, node):
        return parse_timestamp(_text(node), self.fmt)

    from_xml = from_form

    def emit(self, out, tag, value):
        if self.fmt == "iso8601" and type(value) is datetime and value.tzinfo is UTC:
            # the common case, without strftime: 2021-03-04T05:06:07Z / 2021-03-04T05:06:07.123Z
            exact = value.microsecond or self.millis
            text = value.isoformat(timespec="milliseconds" if exact else "seconds")[:-6] + "Z"
        else:
            text = format_timestamp(value, self.fmt)
        out.append(f"<{tag}>{text}</{tag}>")


class StructureNode(Node):
    # members: py name -> (input name, output name, node, attribute name or None)
    __slots__ = ("members", "by_input", "attrs", "ns_attr", "empty_alts", "emitters")
    kind = "structure"

    def __init__(self) -> None:
        self.members: dict[str, tuple[str, str, Node, str | None]] = {}
        # element members: py name -> (type, text, text, node, tag): see add_member
        self.emitters: dict[str, tuple[type | None, str, str, Node, str]] = {}
        self.by_input: list[tuple[str, str, Node, str | None]] = []  # (py name, input name, node, attr)
        self.attrs: list[tuple[str, str]] = []  # (py name, attribute name)
        self.ns_attr = ""
        # query: an empty flattened list is sent under the member's own name, not its items' name
        self.empty_alts: list[tuple[str, str]] = []

    def from_form(self, node):
        out = {}
        if type(node) is not dict:
            return out
        for name, key, child, _attr in self.by_input:
            sub = node.get(key)
            if sub is not None:
                out[name] = child.from_form(sub)
        for name, key in self.empty_alts:
            if name not in out and node.get(key) == "":
                out[name] = []
        return out

    def from_xml(self, elem):
        if type(elem) is list:
            elem = elem[0]
        groups = _group_children(elem)
        out = {}
        for name, key, child, attr in self.by_input:
            if attr is not None:
                value = _find_attr(elem, attr)
                if value is not None:
                    out[name] = value
                continue
            sub = groups.get(key)
            if sub is not None:
                out[name] = child.from_xml(sub)
        return out

    def emit(self, out, tag, value):
        attrs = self.attrs
        if attrs:
            parts = [f"<{tag}{self.ns_attr}"]
            for name, attr in attrs:
                v = value.get(name)
                if v is not None:
                    parts.append(f' {attr}="{escape_attr(str(v))}"')
            parts.append(">")
            out.append("".join(parts))
        else:
            out.append(f"<{tag}{self.ns_attr}>")
        self.emit_members(out, value)
        out.append(f"</{tag}>")

    def emit_root(self, out, tag, value, ns_attr):
        """Emit as a document element: with the model's own namespace, else `ns_attr`."""
        ns_attr = self.ns_attr or ns_attr
        parts = [f"<{tag}{ns_attr}"]
        for name, attr in self.attrs:
            v = value.get(name)
            if v is not None:
                parts.append(f' {attr}="{escape_attr(str(v))}"')
        parts.append(">")
        out.append("".join(parts))
        self.emit_members(out, value)
        out.append(f"</{tag}>")

    def emit_members(self, out, value):
        # Plain strings, booleans and integers are written here rather than through their node's emit (the
        # same text, without a method call per member); anything else goes to the node. See add_member.
        emitters = self.emitters
        append = out.append
        for k, v in value.items():
            entry = emitters.get(k)
            if entry is None or v is None:
                continue
            t = entry[0]
            if type(v) is t:
                if t is str:
                    if v.isprintable() and not ("&" in v or "<" in v or ">" in v):
                        append(f"{entry[1]}{v}{entry[2]}")
                        continue
                elif t is bool:
                    append(entry[1] if v else entry[2])
                    continue
                else:
                    append(f"{entry[1]}{v}{entry[2]}")
                    continue
            entry[3].emit(out, entry[4], v)

    def add_member(self, name: str, in_name: str, out_name: str, child: Node, attr: str | None) -> None:
        self.members[name] = (in_name, out_name, child, attr)
        self.by_input.append((name, in_name, child, attr))
        if attr is not None:
            self.attrs.append((name, attr))
            return
        # emit_members' entry: (the value type it writes itself, or None; then for a str or int the element's
        # opening and closing tags, for a bool its whole true and false elements; the node; the tag)
        t = _FAST_TYPES.get(type(child))
        if t is bool:
            texts = (f"<{out_name}>true</{out_name}>", f"<{out_name}>false</{out_name}>")
        else:
            texts = (f"<{out_name}>", f"</{out_name}>")
        self.emitters[name] = (t, *texts, child, out_name)


def _find_attr(elem: Element, name: str) -> str | None:
    attrib = elem.attrib
    if name in attrib:
        return attrib[name]
    local = name.rpartition(":")[2]
    for k, v in attrib.items():
        if k == local or k.endswith("}" + local):
            return v
    return None


class ListNode(Node):
    __slots__ = ("member", "flattened", "in_item", "out_item")
    kind = "list"

    def __init__(self, member: Node, flattened: bool, in_item: str | None, out_item: str) -> None:
        self.member = member
        self.flattened = flattened
        self.in_item = in_item  # form: the segment before the index ('member'), None when flattened/ec2
        self.out_item = out_item  # response: the element name of each item when not flattened

    def from_form(self, node):
        if type(node) is not dict:
            return []  # `Name=` : the query protocol's empty list
        if self.in_item is not None:
            node = node.get(self.in_item)
            if type(node) is not dict:
                return []
        member = self.member
        items = []
        for k, v in node.items():
            if k.isdigit():
                items.append((int(k), v))
        items.sort(key=_first)
        return [member.from_form(v) for _, v in items]

    def from_xml(self, elem):
        member = self.member
        if self.flattened:
            if type(elem) is not list:
                elem = [elem]
            return [member.from_xml(e) for e in elem]
        if type(elem) is list:
            elem = elem[0]
        return [member.from_xml(e) for e in elem]

    def emit(self, out, tag, value):
        member = self.member
        if self.flattened:
            for item in value:
                if item is not None:
                    member.emit(out, tag, item)
            return
        item_tag = self.out_item
        out.append(f"<{tag}>")
        for item in value:
            if item is not None:
                member.emit(out, item_tag, item)
        out.append(f"</{tag}>")


def _first(pair):
    return pair[0]


class MapNode(Node):
    __slots__ = ("key", "value", "key_name", "value_name", "flattened", "in_entry")
    kind = "map"

    def __init__(
        self, key: Node, value: Node, key_name: str, value_name: str, flattened: bool, in_entry: str | None
    ) -> None:
        self.key = key
        self.value = value
        self.key_name = key_name
        self.value_name = value_name
        self.flattened = flattened
        self.in_entry = in_entry

    def from_form(self, node):
        if type(node) is not dict:
            return {}
        if self.in_entry is not None:
            node = node.get(self.in_entry)
            if type(node) is not dict:
                return {}
        items = sorted(((int(k), v) for k, v in node.items() if k.isdigit()), key=_first)
        out = {}
        kname, vname = self.key_name, self.value_name
        for _, entry in items:
            if type(entry) is not dict or kname not in entry:
                continue
            v = entry.get(vname)
            out[self.key.from_form(entry[kname])] = self.value.from_form(v) if v is not None else None
        return out

    def from_xml(self, elem):
        if self.flattened:
            entries = elem if type(elem) is list else [elem]
        else:
            if type(elem) is list:
                elem = elem[0]
            entries = list(elem)
        out = {}
        kname, vname = self.key_name, self.value_name
        for entry in entries:
            k = v = None
            for child in entry:
                tag = local_name(child.tag)
                if tag == kname:
                    k = self.key.from_xml(child)
                elif tag == vname:
                    v = self.value.from_xml(child)
            if k is not None:
                out[k] = v
        return out

    def emit(self, out, tag, value):
        kname, vname = self.key_name, self.value_name
        knode, vnode = self.key, self.value
        if self.flattened:
            for k, v in value.items():
                out.append(f"<{tag}>")
                knode.emit(out, kname, k)
                if v is not None:
                    vnode.emit(out, vname, v)
                out.append(f"</{tag}>")
            return
        out.append(f"<{tag}>")
        for k, v in value.items():
            out.append("<entry>")
            knode.emit(out, kname, k)
            if v is not None:
                vnode.emit(out, vname, v)
            out.append("</entry>")
        out.append(f"</{tag}>")


# StructureNode.emit_members writes these values itself
_FAST_TYPES: dict[type, type] = {StringNode: str, BooleanNode: bool, IntegerNode: int}

_SCALARS: dict[str, Callable[[], Node]] = {
    "string": StringNode,
    "character": StringNode,
    "integer": IntegerNode,
    "long": IntegerNode,
    "short": IntegerNode,
    "byte": IntegerNode,
    "biginteger": IntegerNode,
    "float": FloatNode,
    "double": FloatNode,
    "bigdecimal": FloatNode,
    "boolean": BooleanNode,
    "blob": BlobNode,
}


def namespace_attr(ns: Any) -> str:
    """` xmlns="..."` (or ` xmlns:prefix="..."`) for a model xmlNamespace trait ('' if none)."""
    if not ns:
        return ""
    if isinstance(ns, str):
        return f' xmlns="{escape_attr(ns)}"'
    uri = ns.get("uri")
    if not uri:
        return ""
    prefix = ns.get("prefix")
    return f' xmlns:{prefix}="{escape_attr(uri)}"' if prefix else f' xmlns="{escape_attr(uri)}"'


# ---------------------------------------------------------------------------------------- compiling

_CACHE: dict[tuple, tuple[Any, Node]] = {}


def compile_shape(shape: Shape, dialect: str) -> Node:
    """The codec node of `shape` in `dialect` (cached; recursion-safe)."""
    resolver = getattr(shape, "_shape_resolver", None)
    key = _node_key(shape, dialect, resolver)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit[1]
    return _compile(shape, dialect, resolver)


def _node_key(shape: Shape, dialect: str, resolver: Any) -> tuple:
    ser = shape.serialization
    ns = ser.get("xmlNamespace")
    return (
        id(resolver),
        dialect,
        shape.name,
        bool(ser.get("flattened")),
        ser.get("timestampFormat"),
        repr(ns) if ns else None,
    )


def _compile(shape: Shape, dialect: str, resolver: Any) -> Node:
    key = _node_key(shape, dialect, resolver)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit[1]
    t = shape.type_name
    ser = shape.serialization
    if t == "structure":
        node = StructureNode()
        node.shape_name = shape.name
        node.ns_attr = namespace_attr(ser.get("xmlNamespace"))
        _CACHE[key] = (resolver, node)  # before the members: recursive shapes
        for name, member in shape.members.items():
            mser = member.serialization
            if mser.get("location"):
                continue  # a rest member carried outside the body (label, query, header, status code)
            in_name, out_name = _member_names(dialect, name, member)
            child = _compile(member, dialect, resolver)
            attr = mser.get("name") if mser.get("xmlAttribute") else None
            node.add_member(name, in_name, out_name, child, attr)
            own = mser.get("name", name)
            if member.type_name == "list" and in_name != own and dialect in ("query", "sqs"):
                node.empty_alts.append((name, own))
        return node
    if t == "list":
        member_shape = shape.member
        item_ser = member_shape.serialization
        member = _compile(member_shape, dialect, resolver)
        if dialect == "sqs":
            node = ListNode(member, True, None, item_ser.get("name", "member"))
        else:
            flattened = bool(ser.get("flattened"))
            if dialect == "ec2" or flattened:
                in_item = None
            else:
                in_item = item_ser.get("name", "member")
            node = ListNode(member, flattened, in_item, item_ser.get("name", "member"))
        node.shape_name = shape.name
        _CACHE[key] = (resolver, node)
        return node
    if t == "map":
        kser = shape.key.serialization
        vser = shape.value.serialization
        knode = _compile(shape.key, dialect, resolver)
        vnode = _compile(shape.value, dialect, resolver)
        if dialect == "sqs":
            names = SQS_MAP_NAMES.get(shape.name)
            kname, vname = (names[1], names[2]) if names else ("Name", "Value")
            node = MapNode(knode, vnode, kname, vname, True, None)
        else:
            flattened = bool(ser.get("flattened"))
            node = MapNode(
                knode,
                vnode,
                kser.get("name") or "key",
                vser.get("name") or "value",
                flattened,
                None if flattened else "entry",
            )
        node.shape_name = shape.name
        _CACHE[key] = (resolver, node)
        return node
    if t == "timestamp":
        node = TimestampNode(ser.get("timestampFormat"), millis=dialect == "xml")
    else:
        factory = _SCALARS.get(t, StringNode)
        node = factory()
    node.shape_name = shape.name
    _CACHE[key] = (resolver, node)
    return node


# -------------------------------------------------------------------------------------- form tries


def form_trie(pairs) -> dict:
    """A nested dict of dotted form keys: [('A.member.1.B', 'x')] -> {'A': {'member': {'1': {'B': 'x'}}}}.

    A key that is both a value and a prefix keeps its value under ''.
    """
    root: dict = {}
    for key, value in pairs:
        node = root
        parts = key.split(".")
        last = len(parts) - 1
        for i, part in enumerate(parts):
            if i == last:
                prev = node.get(part)
                if type(prev) is dict:
                    prev[""] = value
                else:
                    node[part] = value
            else:
                nxt = node.get(part)
                if nxt is None:
                    nxt = node[part] = {}
                elif type(nxt) is not dict:
                    nxt = node[part] = {"": nxt}
                node = nxt
    return root

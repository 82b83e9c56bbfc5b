"""Screenshots and photos of screens: online conversations (a97), e-mail content (a92), from the layout
of the text the text detector read.

- A conversation is a column of short messages with their times ("09:41", "3:12 PM", "Yesterday"), chat
  furniture ("typing…", "online", "last seen", "delivered", "Type a message") and messages aligned to
  the two sides of the screen (sent on the right, received on the left). Its regions are the message
  lines (times and furniture left out).
- E-mail content is a message under its header fields (From:/To:/Subject:/Cc:/Date:, "Von:", "Objet :",
  "Asunto:", ...): two header fields and an address or a subject. Its regions are the lines under the
  header (the body) and the subject line; the addresses themselves are the text detector's e-mail findings.
Usernames (a85) are the text detector's (@handles and "Username:" fields).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from privscan.detectors.base import DetectorResult, Finding, Region
from privscan.detectors.pii.lines import Line, span_region
from privscan.detectors.spec import DetectorSpec
from privscan.detectors.textlayout import cues, found_cues, line_box, lines_of, regions_of, words_of
from privscan.io.decode import DecodedImage

VERSION = "screens-2"
CONVERSATION, EMAIL_CONTENT = "a97_online_conversation", "a92_email_content"

_TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):[0-5]\d(\s?[ap]\.?m\.?)?(?![\d:])|\b(yesterday|today|gestern|heute|"
                   r"hier|aujourd.hui|ayer|hoy|ieri|oggi)\b", re.I)
CHAT_CUES = cues((
    ("typing", r"\b(typing|tippt|écrit|escribiendo|sta\s*scrivendo|digitando)\b"),
    ("presence", r"\b(online|last\s*seen|zuletzt\s*online|en\s*ligne|en\s*l[íi]nea|active\s*now)\b"),
    ("receipt", r"\b(delivered|read|seen|zugestellt|gelesen|lu|visto|entregado)\b"),
    ("compose", r"\b(type\s*a\s*message|message|nachricht|send|senden|envoyer|enviar|reply|antworten|imessage|"
                r"text\s*message|sms|chat|whatsapp|telegram|messenger|signal)\b"),
))
MAIL_HEADERS = cues((
    ("from", r"^\s*(from|von|de|da|van|od)\s*:"),
    ("to", r"^\s*(to|an|à|a|para|aan|do)\s*:"),
    ("cc", r"^\s*(cc|bcc|kopie)\s*:"),
    ("subject", r"^\s*(subject|betreff|objet|asunto|oggetto|onderwerp|assunto|temat|re|fwd?)\s*:"),
    ("date", r"^\s*(date|sent|datum|gesendet|envoy[ée]|enviado|inviato|verzonden)\s*:"),
))
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
#: a mail client's action bar ("Reply  Forward  Archive"): furniture under the message, not its content
_MAIL_ACTION_WORDS = """reply all forward archive delete move print more send trash junk spam mark as read unread flag
    report antworten allen weiterleiten archivieren löschen drucken répondre à tous transférer archiver supprimer
    imprimer responder todos reenviar reenvíar archivar eliminar imprimir rispondi a tutti inoltra archivia
    elimina stampa beantwoorden iedereen doorsturen archiveren verwijderen afdrukken"""
_MAIL_ACTIONS = frozenset(_MAIL_ACTION_WORDS.split())
#: a short field label opening a line ("Subject:", "Mobile:", "Tel.:"): the line's content starts after it
_LABEL = re.compile(r"^\s*[^\W\d][\w .'-]{0,24}:\s*(?=\S)")


def _conversation(lines: list[Line], width: float) -> Finding | None:
    times = [ln.index for ln in lines if _TIME.search(ln.text)]
    chat = found_cues(lines, CHAT_CUES)
    furniture = set(times) | {i for v in chat.values() for i in v}
    messages = [ln for ln in lines if ln.index not in furniture and sum(c.isalpha() for c in ln.text) >= 2]
    if len(messages) < 2:
        return None
    # two-sided layout: messages that start in the left third and messages that end in the right third
    left = sum(1 for ln in messages if line_box(ln).x0 < width / 3 and line_box(ln).x1 < 0.8 * width)
    right = sum(1 for ln in messages if line_box(ln).x1 > 2 * width / 3 and line_box(ln).x0 > 0.2 * width)
    two_sided = left >= 1 and right >= 1
    evidence = (len(times) >= 3) + (len(chat) >= 1) + (len(chat) >= 2) + two_sided
    if len(times) < 2 or evidence < 3:
        return None
    score = min(0.9, 0.45 + 0.1 * evidence + 0.02 * min(len(times), 5))
    detail: dict[str, object] = {"times": len(times), "cues": sorted(chat), "two_sided": two_sided}
    return Finding(CONVERSATION, round(score, 3), "ocr+screens:chat", regions_of(lines, [m.index for m in messages]),
                   kind="conversation", value=f"conversation ({len(messages)} message lines)", detail=detail)


def _email(lines: list[Line]) -> Finding | None:
    headers = found_cues(lines, MAIL_HEADERS)
    if len(headers) < 2 or not ("subject" in headers or any(_EMAIL.search(ln.text) for ln in lines)):
        return None
    last_header = max(i for v in headers.values() for i in v)
    body = [ln.index for ln in lines[last_header + 1 :] if sum(c.isalpha() for c in ln.text) >= 2 and not _actions(ln)]
    indices = sorted(set(body + headers.get("subject", [])))
    regions = [r for i in indices if (r := _content_region(lines[i])) is not None]
    if not regions:
        return None
    score = min(0.9, 0.5 + 0.1 * len(headers))
    return Finding(EMAIL_CONTENT, round(score, 3), "ocr+screens:email", regions,
                   kind="email_content", value=f"e-mail ({len(body)} body lines)",
                   detail={"headers": sorted(headers)})


def _actions(line: Line) -> bool:
    """Whether a line is only a mail client's action buttons."""
    words = re.findall(r"[^\W\d_]+", line.text.lower())
    return bool(words) and all(w in _MAIL_ACTIONS for w in words)


def _content_region(line: Line) -> Region | None:
    """A content line's region without its field label ("Subject:", "Mobile:"): the label is layout, and
    redacting it only hides what kind of value stood there (measured: 0.3 points of an e-mail
    screenshot's background)."""
    label = _LABEL.match(line.text)
    return span_region(line, label.end() if label else 0, len(line.text))


def find_screens(lines: list[Line], width: float) -> list[Finding]:
    """Conversation and e-mail findings in these OCR lines of an image `width` pixels wide."""
    return [f for f in (_conversation(lines, width), _email(lines)) if f is not None] if lines else []


class ScreenDetector:
    """Chats and e-mails on screens from the text detector's words. Stateless; thread-safe."""

    name = "screens"
    kind = "screen"
    version = VERSION

    def detect(self, image: DecodedImage, prior: Mapping[str, DetectorResult]) -> DetectorResult:
        start = time.perf_counter()
        result = DetectorResult(detector=self.name, findings=find_screens(lines_of(words_of(prior)), image.width))
        result.seconds = time.perf_counter() - start
        return result


SPEC = DetectorSpec(
    name=ScreenDetector.name,
    kind=ScreenDetector.kind,
    version=VERSION,
    build=lambda context: ScreenDetector(),
    order=52,
    requires=("text",),
    locates=frozenset({CONVERSATION, EMAIL_CONTENT}),
)

"""Is a word spelled like Vietnamese? The test that tells legacy-encoded text from real text.

TCVN3 and VNI text read as Unicode is still made of Latin letters, so no single character
gives it away. What does: its words are not well-formed Vietnamese syllables (onset + rhyme,
at most one tone, the tone on the vowel the spelling rules put it on). ``badness`` counts the
words that fail; ``transforms.legacy_text`` converts a cell only when that makes it better.
"""

from __future__ import annotations

import re
import unicodedata

# Vietnamese letters that Latin-1 does have (and both legacy encodings reuse for other letters).
VIET_LATIN1 = "àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ"
# Latin-1 characters that never occur in Vietnamese text (NBSP aside: it is whitespace).
RESIDUE = "".join(chr(c) for c in range(0x80, 0x100) if chr(c) not in VIET_LATIN1 and c != 0xA0)

# Vietnamese rhymes (vần) without tone: nucleus + coda, after the onset consonants.
_RHYMES_STD = """
a ac ach ai am an ang anh ao ap at au ay ăc ăm ăn ăng ăp ăt âc âm ân âng âp ât âu ây
e ec em en eng eo ep et ê êch êm ên ênh êp êt êu
i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu
o oc oi om on ong op ot oo ooc oong oa oac oach oai oam oan oang oanh oao oap oat oay
oăc oăm oăn oăng oăt oe oec oem oen oeo oet
ô ôc ôi ôm ôn ông ôp ôt ơ ơi ơm ơn ơp ơt
u ua uc ui um un ung up ut uân uâng uât uây uê uêch uênh uơ uôc uôi uôm uôn uông uôt
uy uya uych uyên uyêt uynh uyp uyt uyu ư ưa ưc ưi ưm ưn ưng ưt ưu ươc ươi ươm ươn ương ươp
ươt ươu y yêm yên yêng yêt yêu
""".split()  # noqa: SIM905 - a table reads better as text
# Place and person names of the Central Highlands (Jrai, Bahnar, Ê Đê) end syllables in h, k,
# l, r, s and leave ă, â open: "Ia Mláh", "Tóh", "Púk", "Kpă". Accept them, or every commune
# name there would look like mojibake.
_SINGLE = "aăâeêioôơuưy"
RHYMES = (
    frozenset(_RHYMES_STD)
    | {v + c for v in _SINGLE for c in ("h", "k", "l", "r", "s", "")}
    | {v + c for v in ("ia", "ua", "ưa", "oa", "iê", "uô", "ươ") for c in ("h", "k", "l", "r")}
)
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
# đ stands alone; other consonants may cluster ("ngh", and "kr", "hdr" in minority names).
_ONSET = re.compile(r"^(?:đ|[bcdfghjklmnpqrstvwxz]*)")
_TOKEN = re.compile(r"[A-Za-z\xa1-\xff\u0100-\u024f\u1e00-\u1eff\u0300-\u036f]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_RESIDUE_SET = frozenset(RESIDUE)


_VOWEL_SET = frozenset(_SINGLE)
_HATS = frozenset("ăâêôơư")


def _letters(token: str) -> list[tuple[str, bool]]:
    """(letter without tone, carries the tone) for each letter of a lower-case NFC token."""
    out = []
    for c in token:
        parts = unicodedata.normalize("NFD", c)
        bare = unicodedata.normalize("NFC", "".join(p for p in parts if p not in _TONE_MARKS))
        out.append((bare, any(p in _TONE_MARKS for p in parts)))
    return out


def _tone_ok(onset: str, rhyme: list[tuple[str, bool]]) -> bool:
    """Whether the tone sits on the vowel Vietnamese spelling puts it on.

    The vowel with a hat (ă â ê ô ơ ư) takes it, the last one when there are two (ươ → ơ);
    otherwise the last vowel of a closed syllable ("toán"), either vowel of open oa/oe/uy
    (old "hóa" and new "hoá" placement both occur), the middle one of a three-vowel cluster
    ("ngoài", "khuya"), the first of other open pairs ("mái", "múa"). Qu and gi lend their u/i
    to the onset ("quá", "giá"). Mojibake breaks this rule often: VNI "Maõ" reads as m-a-õ.
    """
    vowels = []
    for letter, toned in rhyme:
        if letter not in _VOWEL_SET:
            break
        vowels.append((letter, toned))
    coda = rhyme[len(vowels) :]
    if any(toned for _, toned in coda):
        return False
    if (
        onset[-1:] in ("q", "g")
        and len(vowels) > 1
        and vowels[0][0] == ("u" if onset[-1] == "q" else "i")
    ):
        vowels = vowels[1:]
    marks = [i for i, (_, toned) in enumerate(vowels) if toned]
    if not marks or len(vowels) == 1:
        return True
    at = marks[0]
    letters = "".join(v for v, _ in vowels)
    hats = [i for i, v in enumerate(letters) if v in _HATS]
    if hats:
        return at == hats[-1]
    if coda:
        return at == len(letters) - 1
    if letters in ("oa", "oe", "uy"):
        return True
    if len(letters) == 3:
        return at == 1
    return at == 0


def _syllable_ok(token: str) -> bool:
    """Whether a token (one syllable, Unicode) is spelled like Vietnamese."""
    if any(c in _RESIDUE_SET for c in token):
        return False
    # Case: upper-case letters may only lead ("Uar", "UAR", "RSươm"), never follow lower case.
    seen_lower = False
    for c in token:
        if c.islower():
            seen_lower = True
        elif c.isupper() and seen_lower:
            return False
    letters = _letters(unicodedata.normalize("NFC", token.lower()))
    if sum(toned for _, toned in letters) > 1:
        return False
    bare = "".join(b for b, _ in letters)
    onset = _ONSET.match(bare).group()  # type: ignore[union-attr]
    rhyme = bare[len(onset) :]
    if rhyme not in RHYMES and not (
        # "gi" and "qu" lend their vowel to the onset: giữa = gi + ưa, quốc = qu + ốc.
        onset and onset[-1] in "gq" and rhyme[:1] in "iu" and rhyme[1:] in RHYMES
    ):
        return False
    return _tone_ok(onset, letters[len(onset) :])


def badness(text: str) -> int:
    """How many non-ASCII words of ``text`` are not well-formed Vietnamese syllables."""
    bad = 0
    for token in _TOKEN.findall(text):
        if token.isascii():
            continue
        for part in _CAMEL.split(token):
            if not part.isascii() and not _syllable_ok(part):
                bad += 1
    return bad


def words(text: str) -> list[str]:
    """The non-ASCII word tokens of ``text`` (the only ones an encoding can have garbled)."""
    return [t for t in _TOKEN.findall(text) if not t.isascii()]


def vowel_count(text: str) -> int:
    """How many vowel letters ``text`` has, tones ignored."""
    return sum(1 for b, _ in _letters(text.lower()) if b in _VOWEL_SET)

"""English word lists for search: stop words and irregular word forms.

These describe the English language, not any field of knowledge, so they live in
code beside the Porter stemmer they complete (which is English too). Words that
mean the same in one field (legs/thighs, running/jogging) are not here: they come
from the knowledge base's own ``kb.yaml`` (``synonyms:``).
"""

from __future__ import annotations

# Question words, pronouns, articles, auxiliaries and prepositions: dropped from a
# search so that a question ("does running make thighs bigger?") searches for the words
# that carry its meaning. Negations go too: a bag of words cannot search for them.
# Words of time and comparison (before, after, more, less, than) are kept: in claims
# they carry meaning ("run before breakfast", "eat less protein"). Light verbs and words that
# only grade a question go too ("does X make legs bigger?", "is walking enough?", "is HIIT
# good?"): claims rarely use them, so they would rank a claim that does above the ones asked for.
STOP_WORDS = frozenset(
    """
    a an the and or but nor if then so as of to in on at by for with from into onto about over
    i me my mine myself we us our ours you your yours he him his she her hers it its they them their
    theirs this that these those there here what which who whom whose why how when where whether
    is am are was were be been being do does did doing done have has had having
    can could shall should will would may might must ought
    not no don doesn didn isn aren wasn weren won wouldn shouldn couldn cannot t s ll re ve d m
    much many any some just really very please tell know want get getting got thing things way
    make makes made making enough good bad ok okay best worst actually also even still too like
    """.split()
)

# Irregular forms of common English verbs and nouns that the Porter stemmer cannot
# join to their base form (it maps "running" to "run", but not "ran"). One group a
# line, base form first. Left out on purpose: forms that are also another common word
# ("left", "saw", "found", "lay", "rose", "fell", "ground", "bit", "drunk", "lives",
# "won"), which would make searches match the wrong sense.
IRREGULAR_FORMS: tuple[tuple[str, ...], ...] = tuple(
    tuple(line.split())
    for line in """
    arise arose arisen
    awake awoke awoken
    become became
    begin began begun
    bend bent
    bleed bled
    break broke broken
    breed bred
    bring brought
    build built
    burn burnt
    buy bought
    catch caught
    choose chose chosen
    come came
    creep crept
    deal dealt
    dig dug
    do did done
    draw drew drawn
    drink drank
    drive drove driven
    eat ate eaten
    feed fed
    feel felt
    fight fought
    flee fled
    fly flew flown
    forget forgot forgotten
    freeze froze frozen
    get got gotten
    give gave given
    go went gone
    grow grew grown
    hang hung
    hide hid hidden
    hold held
    keep kept
    know knew known
    lead led
    lose lost
    make made
    mean meant
    meet met
    pay paid
    ride rode ridden
    run ran
    say said
    see seen
    seek sought
    sell sold
    send sent
    shake shook shaken
    shrink shrank shrunk shrunken
    sing sang sung
    sink sank sunk
    sit sat
    sleep slept
    slide slid
    speak spoke spoken
    speed sped
    spend spent
    stand stood
    steal stole stolen
    stick stuck
    stride strode
    strike struck
    swear swore sworn
    sweep swept
    swim swam swum
    swing swung
    take took taken
    teach taught
    think thought
    throw threw thrown
    tell told
    understand understood
    wake woke woken
    wear wore worn
    weep wept
    write wrote written
    calf calves
    child children
    foot feet
    goose geese
    half halves
    knife knives
    man men
    mouse mice
    person people
    tooth teeth
    woman women
    """.strip().splitlines()
)

MIN_BASE_LENGTH = 3


def comparative_bases(word: str) -> list[str]:
    """The base forms ``word`` may be a comparative or superlative of: bigger -> big, heavier -> heavy.

    Porter leaves "bigger" and "big" apart. These are only candidates: search keeps
    those that occur in the knowledge base and are not stop words.
    """
    out: list[str] = []
    for suffix in ("est", "er"):
        if not word.endswith(suffix):
            continue
        stem = word[: -len(suffix)]
        candidates = [stem, stem + "e"]  # long -> longer; large -> larger
        if len(stem) >= 2 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
            candidates.append(stem[:-1])  # big -> bigger, slim -> slimmer
        if stem.endswith("i"):
            candidates.append(stem[:-1] + "y")  # heavy -> heavier
        out.extend(c for c in candidates if len(c) >= MIN_BASE_LENGTH and c not in STOP_WORDS)
    return list(dict.fromkeys(out))


def comparative_forms(word: str) -> list[str]:
    """The comparative and superlative forms ``word`` may have: big -> bigger, biggest."""
    if len(word) < MIN_BASE_LENGTH or word in STOP_WORDS or not word.isalpha():
        return []
    stems = [word]
    if word.endswith("e"):
        stems = [word[:-1]]
    elif word.endswith("y"):
        stems = [word[:-1] + "i"]
    elif len(word) >= 3 and word[-1] not in "aeiouwxy" and word[-2] in "aeiou" and word[-3] not in "aeiou":
        stems = [word, word + word[-1]]  # big -> bigger; but long -> longer
    return [stem + suffix for stem in stems for suffix in ("er", "est")]


# Words of size and amount, in either direction: a question about "bigger" is answered by
# the claims that say "shrinks" as much as by those that say "builds", so search treats
# them as one word (the knowledge base's own ``synonyms:`` groups that share a word with
# this one join it). More and less, gain and lose are amounts too ("eat less protein").
SIZE_AND_AMOUNT: tuple[str, ...] = tuple(
    """
    size sized big bigger biggest large larger largest small smaller smallest grow growth grown
    shrink shrinking enlarge enlarged bulk bulky bulkier thin thinner slim slimmer slimming
    build builds building increase increased decrease decreased reduce reduced reduction
    more less gain gains gained lose losing loss
    """.split()
)
SIZE_AND_AMOUNT_NAME = "size"

# How long something takes: a question that asks "how long", "how soon" or "when" is answered by
# claims that give days, weeks or months, so those words are one concept too, and the question
# words that ask for it are read as that concept (``QUESTION_PHRASES``).
DURATION: tuple[str, ...] = tuple(
    """
    duration minute minutes hour hours day days week weeks month months year years soon until
    """.split()
)
DURATION_NAME = "duration"
# How often: a question that asks "how often" is answered by claims that give times a week.
FREQUENCY: tuple[str, ...] = tuple("frequency often times daily weekly regularly regular".split())
FREQUENCY_NAME = "frequency"
# Question words that ask for a concept: (words, the concept's first member); matched before
# stop words are dropped, in questions only.
QUESTION_PHRASES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("how", "long"), "duration"),
    (("how", "soon"), "duration"),
    (("how", "quickly"), "duration"),
    (("how", "often"), "frequency"),
    (("when",), "duration"),
)

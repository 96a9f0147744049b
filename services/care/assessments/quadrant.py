"""Team-leader aids from the seeds (seed 001, "呼叫中心团队管理"): the agent quadrant by ability x
cooperation, and personality-colour tips. Pure functions, no I/O.

Ability and cooperation are scored 1 to 5; 3 and above is "high". The four quadrants and what to
do about them:

- core (骨干, able and cooperative): delegate — higher goals, a share of the management work;
- learner (特派员, cooperative, not yet able): guide — moderate goals, plenty of learning tasks;
- maverick (able, not cooperative): win over — talk more, earn their understanding and support;
- drifter (neither yet): encourage — encourage often, and firmer, special measures when needed.

They are aids to a conversation, never a label for the agent: that is why agents never see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HIGH = 3
COLOURS = ("red", "blue", "yellow", "green")

QuadrantName = Literal["core", "learner", "maverick", "drifter"]
Approach = Literal["delegate", "guide", "win over", "encourage"]


@dataclass(frozen=True, slots=True)
class Quadrant:
    name: QuadrantName
    approach: Approach
    advice: str


CORE = Quadrant(
    "core",
    "delegate",
    "Able and willing: delegate. Set higher, stretching goals and hand over a real share of "
    "the management work — mentoring a new hire, running a stand-up, owning a procedure — then "
    "give them room. Recognise what they carry and talk about where they are heading: core "
    "people leave when they stop growing, not when they are busy.",
)
LEARNER = Quadrant(
    "learner",
    "guide",
    "Willing but not yet able: guide. Set moderate goals they can reach, give plenty of "
    "learning tasks, pair them with a mentor and review calls together. Give frequent, "
    "specific feedback on facts, and celebrate progress — their goodwill is the asset to "
    "protect while the skills catch up.",
)
MAVERICK = Quadrant(
    "maverick",
    "win over",
    "Able but not cooperating: win them over. Talk more, one to one, to understand what they "
    "want and why they resist; explain the reasons behind the rules; describe facts, not "
    "judgements. Involve them in decisions and give their skill a visible outlet. Aim for "
    "their understanding and support, not mere compliance.",
)
DRIFTER = Quadrant(
    "drifter",
    "encourage",
    "Neither able nor cooperating yet: encourage. Look for small wins and praise them, set "
    "short, concrete goals and check in often. Find out what is in the way — skills, "
    "motivation or something outside work. If repeated conversations change nothing, use "
    "firmer, special measures such as a written improvement plan, always after talking first.",
)


def quadrant(ability: int, cooperation: int) -> Quadrant:
    if not (1 <= ability <= 5 and 1 <= cooperation <= 5):
        raise ValueError("ability and cooperation are scored 1 to 5")
    if ability >= HIGH:
        return CORE if cooperation >= HIGH else MAVERICK
    return LEARNER if cooperation >= HIGH else DRIFTER


COLOUR_TIPS: dict[str, tuple[str, ...]] = {
    "red": (
        "Red, the energiser: outgoing and warm, driven by fun and freedom; quick and flexible, "
        "but changeable.",
        "Praise often and openly: they work to be liked and appreciated.",
        "Under pressure they tend to dodge, deflect or forget the problem: turn the work into "
        "a plan with check-points and follow up.",
        "Help them plan and persist, and gently hold them to what they promise: they tend to "
        "promise more than they deliver.",
    ),
    "blue": (
        "Blue, the perfectionist executor: driven by value and getting things right; focused "
        "and persistent, but critical and sensitive.",
        "Give clear rules, structure and standards, explain the why and keep your word: they "
        "need order and mutual understanding.",
        "Strong on tasks, fragile in feelings: criticise facts, never the person, and in private.",
        "Invite them to talk about what weighs on them and to let small things go; encourage "
        "them to say 'great!' more often.",
        "Loyalty is earned slowly through a steady, sincere relationship: invest in it.",
    ),
    "yellow": (
        "Yellow, the commander: driven by challenge, goals and control; decisive, responsible "
        "and confident, but can overlook other people's feelings.",
        "Give goals, challenges and the authority to reach them; respect their time — be brief "
        "and efficient.",
        "They treat every worry as a problem to solve and rarely give up: use them on hard "
        "cases and improvement work.",
        "Coach them to relax and to ask 'what do you think?' before deciding for others.",
    ),
    "green": (
        "Green, the peacemaker: seeks harmony, security and stability; calm, kind, adaptable "
        "and a good listener, but timid and slow to act.",
        "Offer a stable, predictable setting and make them feel part of the group.",
        "They avoid conflict and challenges: set clear deadlines and small, concrete next "
        "steps, and ask directly for their opinion — they rarely volunteer disagreement.",
        "Build their pace of execution: praise them when they act at once ('I'm on it!').",
    ),
}


def colour_tips(colour: str | None) -> list[str]:
    """Tips for a personality colour; no colour, no tips."""
    if colour is None:
        return []
    if colour not in COLOUR_TIPS:
        raise ValueError(f"unknown colour {colour!r}; expected one of {', '.join(COLOURS)}")
    return list(COLOUR_TIPS[colour])

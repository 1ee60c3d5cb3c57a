"""Function words of the four languages (and of transliterated Ukrainian and Russian) that
say nothing about a topic; they are dropped before matching."""

from __future__ import annotations

from typing import Final

from bot.knowledge.normalise import stems

_WORDS: Final = """
jak gdzie co czy w we na do z ze i a o u po od dla to jest sa mam moge mozna sie nie mi mnie
moj moja moje ja ty ile kiedy jaki jaka jakie prosze dzien dobry czesc potrzebuje chce musze
trzeba tak ten ta te przez bez albo lub oraz juz jeszcze tylko bardzo by zeby gdy jesli ktory
ktora czego jestem mamy moze jakis jakie sobie nam was pan pani
how where what when which who why do does did can could i me my the a an to for of in on at is
are was be it and or with need want have has please hello hi there should would will from
about any some if this that you your we our much many im i'm its get
як де що чи в у на до з із і й а о по від для це є мені мене мій моя моє я ти скільки коли
який яка яке будь ласка привіт потрібно треба хочу можна маю так той та ті через без або вже
ще тільки дуже щоб якщо мої нам вас ви
как где что ли в во на до с из и а о по от для это есть мне меня мой моя моё я ты сколько
когда какой какая какое пожалуйста привет нужно надо хочу можно так тот та те через без или
уже еще ещё только очень чтобы если мои нам вас вы
yak de shcho chy meni mene potribno treba khochu mozhna kak gde chto mne menya menia nuzhno
nado hochu mozhno pozhaluysta pozhalujsta eto dlya dlia
"""

# Chat fillers people type in every topic ("шо робить короче", "any1 know lol"): as content
# words they would pull a question towards whichever topic's examples happen to use them.
_FILLERS: Final = """
lol pls plz any1 anyone smth guys ok okay hey ya yeah like just really
шо че чё ну короче типа блин плиз пліз ребят ребята народ люди слухайте слушайте підкажіть
подскажите
szybko hej siema
"""

STOP_STEMS: Final = frozenset(stems(_WORDS + _FILLERS))

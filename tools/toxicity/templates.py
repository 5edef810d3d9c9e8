"""Template families that add variety (subject x predicate) to the hand-written seed comments.

Each family is one group for the train/held-out split, so a family never leaks across it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """Comments made by pairing every subject with every predicate."""

    lang: str
    category: str
    subjects: tuple[str, ...]
    predicates: tuple[str, ...]

    def texts(self) -> list[str]:
        return [f"{s} {p}" for s in self.subjects for p in self.predicates]


FAMILIES: list[Family] = [
    # English
    Family("en", "heated",
           ("The minister", "This government", "The mayor", "The central bank"),
           ("has failed ordinary families completely and should resign.",
            "is lying about the inflation numbers again, and I am fed up.",
            "wasted millions on this useless project, an utter scandal.")),
    Family("en", "insult",
           ("You are a", "The author is a", "Whoever wrote this is a"),
           ("pathetic brainless moron.", "clueless worthless idiot.", "disgusting lying creep.")),
    Family("en", "conspiracy",
           ("The globalists", "Big Pharma", "The deep state"),
           ("planned this crisis years ago, wake up people.",
            "are hiding the truth about what is in the water.",
            "want to control what we eat and where we travel.")),
    Family("en", "spam",
           ("Tired of your 9 to 5?", "Want financial freedom?", "Ladies and gents, listen up!"),
           ("I earn $7,000 a week with crypto signals, join at t.me/richsignals",
            "Claim your free bonus at www.lucky-casino.example today only")),
    # German
    Family("de", "heated",
           ("Der Minister", "Diese Regierung", "Der Bürgermeister", "Die Zentralbank"),
           ("hat die Familien komplett im Stich gelassen und sollte zurücktreten.",
            "lügt uns bei der Inflation schon wieder an, ich habe es satt.",
            "hat Millionen für dieses sinnlose Projekt verschwendet, ein Skandal.")),
    Family("de", "insult",
           ("Du bist ein", "Der Autor ist ein", "Wer das geschrieben hat, ist ein"),
           ("erbärmlicher hirnloser Trottel.", "ahnungsloser nutzloser Idiot.",
            "widerlicher verlogener Dreckskerl.")),
    Family("de", "conspiracy",
           ("Die Globalisten", "Die Pharmalobby", "Der tiefe Staat"),
           ("haben diese Krise schon vor Jahren geplant, wacht endlich auf.",
            "verschweigen uns, was wirklich im Trinkwasser ist.",
            "wollen kontrollieren, was wir essen und wohin wir reisen.")),
    Family("de", "spam",
           ("Keine Lust mehr auf den Bürojob?", "Finanzielle Freiheit gefällig?", "Aufgepasst, Leute!"),
           ("Ich verdiene 7.000 Euro pro Woche mit Krypto-Signalen, komm zu t.me/reichsignale",
            "Hol dir heute deinen Gratis-Bonus auf www.gluecks-casino.example")),
    # Slovak
    Family("sk", "heated",
           ("Minister", "Táto vláda", "Primátor", "Národná banka"),
           ("úplne zlyhal voči obyčajným rodinám a mal by odstúpiť.",
            "nám zase klame o inflácii, už ma to nebaví.",
            "vyhodil milióny na tento zbytočný projekt, je to škandál.")),
    Family("sk", "insult",
           ("Si", "Autor je", "Kto toto napísal, je"),
           ("úbohý bezmozgový idiot.", "nevzdelaný zbytočný debil.", "odporný prolhaný hajzel.")),
    Family("sk", "conspiracy",
           ("Globalisti", "Farmaceutická loby", "Hlboký štát"),
           ("naplánovali túto krízu pred rokmi, preberte sa, ľudia.",
            "tajia pravdu o tom, čo je vo vode z vodovodu.",
            "chcú kontrolovať, čo jeme a kam cestujeme.")),
    Family("sk", "spam",
           ("Nebaví ťa robota od ôsmej do štvrtej?", "Chceš finančnú slobodu?", "Pozor, ľudia!"),
           ("Zarábam 7000 eur týždenne na kryptosignáloch, pridaj sa na t.me/bohatesignaly",
            "Vyzdvihni si bonus zadarmo na www.stastne-kasino.example ešte dnes")),
    # Russian
    Family("ru", "heated",
           ("Министр", "Это правительство", "Мэр", "Центробанк"),
           ("полностью подвёл простые семьи и должен уйти в отставку.",
            "опять врёт нам про инфляцию, надоело.",
            "потратил миллионы на этот бесполезный проект, это скандал.")),
    Family("ru", "insult",
           ("Ты", "Автор —", "Тот, кто это написал, —"),
           ("жалкий безмозглый идиот.", "бестолковый никчёмный дебил.", "мерзкий лживый подонок.")),
    Family("ru", "conspiracy",
           ("Глобалисты", "Фармацевтическое лобби", "Тайное правительство"),
           ("спланировали этот кризис много лет назад, проснитесь, люди.",
            "скрывают правду о том, что в водопроводной воде.",
            "хотят контролировать, что мы едим и куда ездим.")),
    Family("ru", "spam",
           ("Устал от работы с девяти до шести?", "Хочешь финансовой свободы?", "Внимание, друзья!"),
           ("Зарабатываю 7000 долларов в неделю на крипто-сигналах, вступай в t.me/bogatye",
            "Забери бесплатный бонус на www.udacha-kazino.example только сегодня")),
    # Polish
    Family("pl", "heated",
           ("Minister", "Ten rząd", "Prezydent miasta", "Bank centralny"),
           ("całkowicie zawiódł zwykłe rodziny i powinien odejść.",
            "znowu kłamie w sprawie inflacji, mam tego dość.",
            "zmarnował miliony na ten bezsensowny projekt, skandal.")),
    Family("pl", "insult",
           ("Jesteś", "Autor to", "Ten, kto to napisał, to"),
           ("żałosny bezmózgi idiota.", "niedouczony bezużyteczny debil.", "obrzydliwy zakłamany gnój.")),
    Family("pl", "conspiracy",
           ("Globaliści", "Koncerny farmaceutyczne", "Głębokie państwo"),
           ("zaplanowali ten kryzys lata temu, obudźcie się, ludzie.",
            "ukrywają prawdę o tym, co jest w wodzie z kranu.",
            "chcą kontrolować, co jemy i dokąd podróżujemy.")),
    Family("pl", "spam",
           ("Masz dość pracy od dziewiątej do piątej?", "Chcesz wolności finansowej?", "Uwaga, ludzie!"),
           ("Zarabiam 7000 zł tygodniowo na sygnałach krypto, dołącz na t.me/bogatesygnaly",
            "Odbierz darmowy bonus na www.szczesliwe-kasyno.example tylko dziś")),
]

"""Deterministic sample records for the demo CRM (``random.Random(42)``).

Everything goes through the record store -- one write session for the whole load,
``bulk_create`` in chunks -- like an import would, so the demo exercises the same
validation, codes, history and search index as real data, and a failure leaves no half
demo behind. Dates are relative to ``today`` so the pipeline and tasks look current.
"""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Callable, Sequence

import phonenumbers

from cardbase.platform.composition import build_engine
from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.store.records import RecordStore
from cardbase.schema_engine.store.session import Session

DEFAULT_RECORDS = 300
CHUNK = 500  # rows per bulk_create call (the store allows up to 1000)

# Share of the records each object gets (sums to 300: the default demo).
WEIGHTS = {
    "organisation": 30, "contact_person": 60, "product": 20, "deal": 40,
    "order": 25, "order_line": 60, "task": 35, "interaction": 30,
}


@dataclass(frozen=True)
class City:
    name: str
    country: str
    code: str  # country calling code
    area: str
    local: Callable[[random.Random], str]  # subscriber number


def _digits(n: int, first: str = "23456789") -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def _fixed(prefix: str, n: int) -> Callable[[random.Random], str]:
    """Numbers reserved for drama/fiction (UK 7946 0xxx / 496 0xxx, US 555-01xx)."""
    return lambda rng: prefix + "".join(rng.choice("0123456789") for _ in range(n))


GERMAN_CITIES = [
    City("Berlin", "Germany", "49", "30", _digits(7)), City("Hamburg", "Germany", "49", "40", _digits(7)),
    City("München", "Germany", "49", "89", _digits(7)), City("Köln", "Germany", "49", "221", _digits(7)),
    City("Frankfurt am Main", "Germany", "49", "69", _digits(7)), City("Stuttgart", "Germany", "49", "711", _digits(7)),
    City("Düsseldorf", "Germany", "49", "211", _digits(7)), City("Leipzig", "Germany", "49", "341", _digits(7)),
    City("Wien", "Austria", "43", "1", _digits(7)),
]
ENGLISH_CITIES = [
    City("London", "United Kingdom", "44", "20", _fixed("79460", 3)),
    City("Manchester", "United Kingdom", "44", "161", _fixed("4960", 3)),
    City("Bristol", "United Kingdom", "44", "117", _fixed("4960", 3)),
    City("New York", "United States", "1", "212", _fixed("55501", 2)),
    City("Boston", "United States", "1", "617", _fixed("55501", 2)),
    City("San Francisco", "United States", "1", "415", _fixed("55501", 2)),
]
CURRENCY = {"Germany": "EUR", "Austria": "EUR", "United Kingdom": "GBP", "United States": "USD"}

GERMAN_SURNAMES = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
                   "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Braun",
                   "Zimmermann", "Krüger", "Hartmann", "Lange", "Krause", "Weiß"]
GERMAN_FIRST = ["Anna", "Lukas", "Julia", "Felix", "Laura", "Jonas", "Sophie", "Maximilian", "Katharina",
                "Tobias", "Lena", "Stefan", "Jürgen", "Sabine", "Andreas", "Petra"]
GERMAN_COMPANY = [("{} Maschinenbau GmbH", "manufacturing"), ("{} Logistik AG", "logistics"),
                  ("{} & Söhne KG", "retail"), ("{} Software GmbH", "software"), ("{} Handels GmbH", "retail"),
                  ("{} Medizintechnik GmbH", "healthcare"), ("{} Unternehmensberatung", "consulting"),
                  ("{} Finanzdienste AG", "finance")]
GERMAN_POSITIONS = ["Geschäftsführerin", "Geschäftsführer", "Leitung Einkauf", "Vertriebsleitung", "IT-Leitung",
                    "Buchhaltung", "Projektleiterin", "Assistenz der Geschäftsführung"]
ENGLISH_SURNAMES = ["Smith", "Johnson", "Williams", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas",
                    "Roberts", "Walker", "Wright", "Thompson", "Harris", "Clarke", "Lewis", "Hughes", "Green"]
ENGLISH_FIRST = ["Emma", "Oliver", "Olivia", "George", "Amelia", "Harry", "Jessica", "Jack", "Emily", "James",
                 "Sarah", "Michael", "Grace", "Daniel"]
ENGLISH_COMPANY = [("{} Engineering Ltd", "manufacturing"), ("{} Consulting LLC", "consulting"),
                   ("{} Retail Ltd", "retail"), ("{} Logistics Inc.", "logistics"), ("{} Software Ltd", "software"),
                   ("{} Health Partners", "healthcare"), ("{} Capital LLP", "finance")]
ENGLISH_POSITIONS = ["CEO", "Head of Purchasing", "Sales Manager", "IT Manager", "Accountant", "Office Manager",
                     "Operations Director"]

PRODUCT_FAMILIES = [("Consulting day", "1200", True), ("Installation service", "450", True),
                    ("Support contract (1 year)", "2400", True), ("Training workshop", "890", True),
                    ("Software licence", "299", False), ("Server", "3499", False), ("Laptop", "1399", False),
                    ("Monitor 27 inch", "329", False), ("Docking station", "189", False),
                    ("Network switch", "649", False), ("Firewall appliance", "1899", False),
                    ("Backup storage", "999", False)]
EDITIONS = [("", 1.0), (" Plus", 1.4), (" Pro", 2.0), (" Enterprise", 3.5)]

STAGES = [("lead", 10, 5), ("qualified", 25, 4), ("proposal", 50, 4), ("negotiation", 75, 3), ("won", 100, 3),
          ("lost", 0, 2)]  # (stage, probability %, weight)
ORDER_STATUS = [("draft", 1), ("confirmed", 2), ("shipped", 2), ("invoiced", 2), ("paid", 4), ("cancelled", 1)]
TASK_TITLES = ["Call back about the offer", "Send the quote", "Prepare the contract", "Schedule a product demo",
               "Follow up on the invoice", "Check the delivery date", "Update the contact details",
               "Angebot nachfassen", "Rückruf vereinbaren", "Vertrag vorbereiten"]
NOTES = {
    "call": ["Discussed the current offer; decision expected next week.", "Asked for a discount on larger volumes.",
             "Telefonat: Interesse an einer Erweiterung, Angebot folgt."],
    "email": ["Sent the updated price list.", "Confirmed the delivery date by e-mail.",
              "Unterlagen per E-Mail verschickt."],
    "meeting": ["On-site meeting with the project team.\nNext step: technical workshop.",
                "Quarterly review; satisfied with support.", "Termin vor Ort: Anforderungen aufgenommen."],
    "note": ["Prefers to be contacted in the morning.", "Budget for next year is being planned.",
             "Ansprechpartnerin wechselt im Sommer die Abteilung."],
}


def counts_for(total: int) -> dict[str, int]:
    """How many records of each object a demo of about ``total`` records gets."""
    scale = total / sum(WEIGHTS.values())
    counts = {name: max(1, round(weight * scale)) for name, weight in WEIGHTS.items()}
    counts["order_line"] = max(counts["order_line"], counts["order"])  # every order has a line
    return counts


def _slug(text: str) -> str:
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = text.replace("Ä", "Ae").replace("Ö", "Oe").replace("Ü", "Ue")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _weighted(rng: random.Random, items: Sequence[tuple]) -> tuple:
    return rng.choices(items, weights=[i[-1] for i in items])[0]


def _phone(rng: random.Random, city: City) -> str:
    """A valid number, written in one of the ways people write them."""
    for _ in range(100):
        local = city.local(rng)
        if phonenumbers.is_valid_number(phonenumbers.parse(f"+{city.code}{city.area}{local}", None)):
            break
    style = rng.randrange(4)
    if style == 0:
        return f"+{city.code} {city.area} {local}"
    if style == 1:
        return f"+{city.code}-{city.area}-{local}"
    if style == 2:
        return f"+{city.code} ({city.area}) {local[:3]} {local[3:]}"
    return f"+{city.code}{city.area}{local}"


def _money(amount: float, currency: str = "EUR") -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currency": currency}


class _Generator:
    def __init__(self, session: Session, rng: random.Random, today: date):
        self.session, self.rng, self.today = session, rng, today

    def create(self, obj: str, rows: list[dict[str, Any]]) -> list[int]:
        ids: list[int] = []
        for start in range(0, len(rows), CHUNK):
            ids += self.session.bulk_create(obj, rows[start:start + CHUNK])
        return ids

    def organisations(self, n: int) -> list[tuple[int, dict[str, Any]]]:
        rows, used = [], set()
        while len(rows) < n:
            german = self.rng.random() < 0.6
            surname = self.rng.choice(GERMAN_SURNAMES if german else ENGLISH_SURNAMES)
            pattern, industry = self.rng.choice(GERMAN_COMPANY if german else ENGLISH_COMPANY)
            name = pattern.format(surname)
            if name in used:
                name = pattern.format(f"{surname}-{self.rng.choice(GERMAN_SURNAMES if german else ENGLISH_SURNAMES)}")
                if name in used:
                    name = f"{name} {len(rows) + 1}"
            used.add(name)
            city = self.rng.choice(GERMAN_CITIES if german else ENGLISH_CITIES)
            domain = _slug(name.replace("&", " ").rsplit(" ", 1)[0]) + ".example"
            rows.append({"name": name, "city": city.name, "country": city.country, "phone": _phone(self.rng, city),
                         "email": f"{'info' if german or self.rng.random() < .5 else 'hello'}@{domain}",
                         "website": self.rng.choice([f"www.{domain}", f"https://www.{domain}", f"https://{domain}/"]),
                         "industry": industry})
        cities = {c.name: c for c in GERMAN_CITIES + ENGLISH_CITIES}
        meta = [{"name": r["name"], "german": r["country"] in ("Germany", "Austria"),
                 "currency": CURRENCY[r["country"]], "domain": r["email"].split("@")[1], "city": cities[r["city"]]}
                for r in rows]
        return list(zip(self.create("organisation", rows), meta))

    def contacts(self, n: int, orgs: list[tuple[int, dict]]) -> list[int]:
        rows = []
        for i in range(n):
            org_id, org = orgs[i] if i < len(orgs) else self.rng.choice(orgs)  # every organisation gets one
            first = self.rng.choice(GERMAN_FIRST if org["german"] else ENGLISH_FIRST)
            last = self.rng.choice(GERMAN_SURNAMES if org["german"] else ENGLISH_SURNAMES)
            rows.append({"first_name": first, "last_name": last, "organisation": org_id,
                         "email": f"{_slug(first)}.{_slug(last)}@{org['domain']}",
                         "phone": _phone(self.rng, org["city"]) if self.rng.random() < 0.8 else None,
                         "position": self.rng.choice(GERMAN_POSITIONS if org["german"] else ENGLISH_POSITIONS)})
        return self.create("contact_person", rows)

    def products(self, n: int) -> list[tuple[int, float, bool]]:
        rows, meta = [], []
        for i in range(n):
            family, base, service = PRODUCT_FAMILIES[i % len(PRODUCT_FAMILIES)]
            edition, factor = EDITIONS[(i // len(PRODUCT_FAMILIES)) % len(EDITIONS)]
            batch = i // (len(PRODUCT_FAMILIES) * len(EDITIONS))
            name = family + edition + (f" (series {batch + 1})" if batch else "")
            price = round(float(base) * factor, 2)
            rows.append({"name": name, "sku": f"SKU-{1001 + i}", "price": _money(price),
                         "active": self.rng.random() < 0.9})
            meta.append((price, service))
        ids = self.create("product", rows)
        return [(pid, price, service) for pid, (price, service) in zip(ids, meta)]

    def deals(self, n: int, orgs: list[tuple[int, dict]], products: list[tuple[int, float, bool]]) -> list[int]:
        rows = []
        families = [f[0] for f in PRODUCT_FAMILIES]
        picker = random.Random(7919 + n)  # its own stream: the rest of the demo stays as it was
        for _ in range(n):
            org_id, org = self.rng.choice(orgs)
            stage, probability, _w = _weighted(self.rng, STAGES)
            family = self.rng.choice(PRODUCT_FAMILIES)[0]
            offered = [pid for j, (pid, _p, _s) in enumerate(products) if j % len(families) == families.index(family)]
            amount = self.rng.randrange(20, 5000) * 50
            close = self.today + timedelta(days=self.rng.randint(-90, -1) if stage in ("won", "lost")
                                           else self.rng.randint(1, 180))
            rows.append({"title": f"{family} for {org['name']}",
                         "organisation": org_id, "stage": stage, "amount": _money(amount, org["currency"]),
                         "expected_close": close.isoformat(), "probability": probability,
                         "products": picker.sample(offered, min(len(offered), picker.randint(1, 2)))})
        return self.create("deal", rows)

    def orders(self, n: int, lines: int, orgs: list[tuple[int, dict]],
               products: list[tuple[int, float, bool]]) -> tuple[list[int], list[int]]:
        rows = []
        for _ in range(n):
            age = self.rng.randint(0, 365)
            status = _weighted(self.rng, ORDER_STATUS)[0]
            if age < 14 and status == "paid":
                status = "confirmed"
            rows.append({"organisation": self.rng.choice(orgs)[0], "status": status,
                         "order_date": (self.today - timedelta(days=age)).isoformat()})
        order_ids = self.create("order", rows)
        line_rows = []
        for i in range(lines):
            order_id = order_ids[i] if i < len(order_ids) else self.rng.choice(order_ids)
            product_id, price, service = self.rng.choice(products)
            quantity = self.rng.randint(1, 20) / 2 if service else self.rng.randint(1, 25)
            discount = self.rng.choice([1.0, 1.0, 1.0, 0.95, 0.9])
            line_rows.append({"order": order_id, "product": product_id, "price": _money(price * discount),
                              "quantity": f"{quantity:.2f}"})
        return order_ids, self.create("order_line", line_rows)

    def tasks(self, n: int, orgs: list[tuple[int, dict]], assignee: int | None) -> list[int]:
        rows = []
        for _ in range(n):
            due = self.today + timedelta(days=self.rng.randint(-20, 40))
            rows.append({"title": self.rng.choice(TASK_TITLES),
                         "organisation": self.rng.choice(orgs)[0] if self.rng.random() < 0.85 else None,
                         "due_date": due.isoformat(), "assignee": assignee,
                         "done": due < self.today and self.rng.random() < 0.7})
        return self.create("task", rows)

    def interactions(self, n: int, contacts: list[int]) -> list[int]:
        rows = []
        for _ in range(n):
            kind = self.rng.choice(list(NOTES))
            day = self.today - timedelta(days=self.rng.randint(0, 180))
            moment = datetime.combine(day, time(self.rng.randint(7, 17), self.rng.choice([0, 15, 30, 45])))
            rows.append({"contact_person": self.rng.choice(contacts), "kind": kind,
                         "date": moment.isoformat() + "Z", "note": self.rng.choice(NOTES[kind])})
        return self.create("interaction", rows)


def generate_records(store: RecordStore | Database, actor: Actor, total: int = DEFAULT_RECORDS, *, seed: int = 42,
                     today: date | None = None, assignee: int | None = None,
                     then: Callable[[Any], Any] | None = None) -> dict[str, int]:
    """Create about ``total`` demo records as ``actor`` (the demo solution must be loaded),
    all in one write session: all or nothing. Returns the number created per object.
    ``store``: the command's record store (a Database gets one built for it);
    ``assignee`` is the user tasks are assigned to; ``then(session)`` runs in the same
    session after the records (the demo's reports and dashboard)."""
    if isinstance(store, Database):
        store = build_engine(store).store
    # one transaction for the whole load; a failure rolls all of it back, so no savepoints
    with store.session(actor, write=True, savepoints=False) as session:
        counts = _generate(_Generator(session, random.Random(seed), today or date.today()), counts_for(total), assignee)
        if then is not None:
            then(session)
        return counts


def _generate(gen: _Generator, counts: dict[str, int], assignee: int | None) -> dict[str, int]:
    orgs = gen.organisations(counts["organisation"])
    contacts = gen.contacts(counts["contact_person"], orgs)
    products = gen.products(counts["product"])
    deals = gen.deals(counts["deal"], orgs, products)
    orders, lines = gen.orders(counts["order"], counts["order_line"], orgs, products)
    tasks = gen.tasks(counts["task"], orgs, assignee)
    interactions = gen.interactions(counts["interaction"], contacts)
    return {"organisation": len(orgs), "contact_person": len(contacts), "product": len(products),
            "deal": len(deals), "order": len(orders), "order_line": len(lines), "task": len(tasks),
            "interaction": len(interactions)}

"""Invented personal data in the formats of several countries, for generated documents.

Every value is made up; the numbers carry valid check digits (python-stdnum computes them) so validators
accept them, and phone numbers are libphonenumber's example ranges with the last digits varied until valid.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Locale:
    country: str  # ISO 3166 alpha-2 (phone region)
    iso3: str  # MRZ nationality code
    names: tuple[str, ...]
    streets: tuple[str, ...]  # "{n}" = a house number
    places: tuple[str, ...]
    labels: dict[str, str]  # name, surname, given, birth, id, address, phone, nationality, card title
    months: tuple[str, ...]  # month names for written dates ("" = numeric dates only)
    date_format: str  # "dmy." | "dmy/" | "mdy/" | "ymd-"


_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")
LOCALES: dict[str, Locale] = {
    "DE": Locale("DE", "D", ("Lukas Hoffmann", "Anna Schreiber", "Jonas Weidemann", "Lena Brückner"),
                 ("Lindenstraße {n}", "Hauptstraße {n}", "Am Mühlbach {n}a"),
                 ("10115 Berlin", "50667 Köln", "80331 München"),
                 {"name": "Name", "surname": "Nachname", "given": "Vornamen", "birth": "Geburtsdatum",
                  "id": "Ausweisnummer", "address": "Anschrift", "phone": "Telefon", "nationality":
                  "Staatsangehörigkeit", "title": "BUNDESREPUBLIK DEUTSCHLAND PERSONALAUSWEIS"},
                 ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
                  "November", "Dezember"), "dmy."),
    "FR": Locale("FR", "FRA", ("Camille Lefèvre", "Julien Moreau", "Claire Dubois", "Mathieu Girard"),
                 ("{n} rue des Lilas", "{n} avenue Victor Hugo", "{n} boulevard Voltaire"),
                 ("69003 Lyon", "75011 Paris", "33000 Bordeaux"),
                 {"name": "Nom complet", "surname": "Nom", "given": "Prénoms", "birth": "Date de naissance",
                  "id": "N° du document", "address": "Adresse", "phone": "Téléphone", "nationality": "Nationalité",
                  "title": "RÉPUBLIQUE FRANÇAISE CARTE NATIONALE D'IDENTITÉ"},
                 ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                  "novembre", "décembre"), "dmy/"),
    "ES": Locale("ES", "ESP", ("Lucía Martínez", "Javier Navarro", "Carmen Ortega", "Diego Romero"),
                 ("Calle de Alcalá {n}", "Avenida de América {n}", "Calle Mayor {n}"),
                 ("28009 Madrid", "08013 Barcelona", "41001 Sevilla"),
                 {"name": "Nombre completo", "surname": "Apellidos", "given": "Nombre", "birth":
                  "Fecha de nacimiento", "id": "DNI", "address": "Domicilio", "phone": "Teléfono", "nationality":
                  "Nacionalidad", "title": "REINO DE ESPAÑA DOCUMENTO NACIONAL DE IDENTIDAD"}, (), "dmy/"),
    "IT": Locale("IT", "ITA", ("Giulia Romano", "Marco Bianchi", "Francesca Colombo", "Luca Ferrari"),
                 ("Via Garibaldi {n}", "Corso Vittorio Emanuele {n}", "Viale Europa {n}"),
                 ("10122 Torino", "20121 Milano", "00184 Roma"),
                 {"name": "Nome completo", "surname": "Cognome", "given": "Nome", "birth": "Data di nascita",
                  "id": "Codice fiscale", "address": "Indirizzo", "phone": "Telefono", "nationality":
                  "Cittadinanza", "title": "REPUBBLICA ITALIANA CARTA D'IDENTITÀ"}, (), "dmy/"),
    "GB": Locale("GB", "GBR", ("Oliver Pemberton", "Charlotte Ashworth", "Harry Whitmore", "Emily Thornton"),
                 ("{n} Kingsley Road", "{n} Elm Grove", "Flat 2, {n} Hartley Street"),
                 ("Leeds LS6 2AB", "Bristol BS8 1TH", "London SW1A 2AA"),
                 {"name": "Name", "surname": "Surname", "given": "Given names", "birth": "Date of birth",
                  "id": "NI number", "address": "Address", "phone": "Tel", "nationality": "Nationality",
                  "title": "UNITED KINGDOM RESIDENCE PERMIT"}, _EN_MONTHS, "dmy/"),
    "IN": Locale("IN", "IND", ("Priya Raghunathan", "Arjun Mehta", "Kavya Iyer", "Rohan Deshpande"),
                 ("{n}, MG Road, Indiranagar", "{n}, Park Street", "{n}, Nehru Nagar"),
                 ("Bengaluru 560038", "Kolkata 700016", "Pune 411005"),
                 {"name": "Name", "surname": "Surname", "given": "Given name", "birth": "DOB", "id": "Aadhaar No",
                  "address": "Address", "phone": "Mobile", "nationality": "Nationality",
                  "title": "GOVERNMENT OF INDIA AADHAAR IDENTITY CARD"}, _EN_MONTHS, "dmy/"),
    "BR": Locale("BR", "BRA", ("João Carvalho", "Mariana Azevedo", "Rafael Moreira", "Beatriz Fonseca"),
                 ("Rua das Flores, {n}", "Avenida Paulista, {n}", "Rua Augusta, {n}"),
                 ("01310-100 São Paulo", "20040-002 Rio de Janeiro", "30130-010 Belo Horizonte"),
                 {"name": "Nome completo", "surname": "Sobrenome", "given": "Nome", "birth": "Data de nascimento",
                  "id": "CPF", "address": "Endereço", "phone": "Telefone", "nationality": "Nacionalidade",
                  "title": "REPÚBLICA FEDERATIVA DO BRASIL CARTEIRA DE IDENTIDADE"}, (), "dmy/"),
    "NL": Locale("NL", "NLD", ("Sanne de Vries", "Daan Bakker", "Femke Visser", "Thijs Mulder"),
                 ("Keizersgracht {n}", "Damstraat {n}", "Prinsenlaan {n}"),
                 ("1016 DV Amsterdam", "3511 LX Utrecht", "2511 CV Den Haag"),
                 {"name": "Naam", "surname": "Achternaam", "given": "Voornamen", "birth": "Geboortedatum",
                  "id": "Documentnummer", "address": "Adres", "phone": "Telefoon", "nationality": "Nationaliteit",
                  "title": "KONINKRIJK DER NEDERLANDEN IDENTITEITSKAART"}, (), "dmy."),
    "US": Locale("US", "USA", ("Johanna Whitfield", "Marcus Oyelaran", "Amelia Hartigan", "Tobias Brennecke"),
                 ("{n} Larkspur Lane", "{n} Quarry Hill Road", "{n} Maple Avenue"),
                 ("Springfield, IL 62704", "Burlington, VT 05401", "Austin, TX 78701"),
                 {"name": "Name", "surname": "Last name", "given": "First name", "birth": "Date of birth",
                  "id": "ID No", "address": "Address", "phone": "Phone", "nationality": "Nationality",
                  "title": "STATE OF NOWHERE IDENTIFICATION CARD"}, _EN_MONTHS, "mdy/"),
}  # fmt: skip


def phone(rng: random.Random, country: str, *, international: bool) -> str:
    """A valid phone number of `country` (libphonenumber's example range, last digits varied)."""
    import phonenumbers

    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    base = str(example.national_number)
    for _ in range(50):
        digits = base[:-3] + f"{rng.randint(0, 999):03d}"
        number = phonenumbers.parse(digits, country) if country != "US" else phonenumbers.parse("415555" +
                                                                                                digits[-4:], "US")
        if phonenumbers.is_valid_number(number):
            style = phonenumbers.PhoneNumberFormat
            return phonenumbers.format_number(number, style.INTERNATIONAL if international else style.NATIONAL)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _cpf(rng: random.Random) -> str:
    d = [rng.randint(0, 9) for _ in range(9)]
    for n in (10, 11):
        s = sum(x * w for x, w in zip(d, range(n, 1, -1), strict=False)) % 11
        d.append(0 if s < 2 else 11 - s)
    t = "".join(map(str, d))
    return f"{t[:3]}.{t[3:6]}.{t[6:9]}-{t[9:]}"


def id_number(rng: random.Random, country: str) -> str:
    """A national ID number of `country` with valid check digits where the scheme has them."""
    if country == "ES":
        from stdnum.es import dni

        body = f"{rng.randint(10_000_000, 99_999_999)}"
        return body + dni.calc_check_digit(body)
    if country == "IT":
        from stdnum.it import codicefiscale

        body = "".join(rng.choice("BCDFGLMNPRSTVZ") for _ in range(6)) + f"{rng.randint(50, 99)}" + rng.choice(
            "ABCDEHLMPRST") + f"{rng.randint(10, 28)}" + rng.choice("ABCDEFGHL") + f"{rng.randint(100, 999)}"
        return body + codicefiscale.calc_check_digit(body)
    if country == "IN":
        from stdnum import verhoeff

        body = f"{rng.randint(2, 9)}{rng.randint(0, 10**10 - 1):010d}"
        full = body + verhoeff.calc_check_digit(body)
        return f"{full[:4]} {full[4:8]} {full[8:]}"
    if country == "BR":
        return _cpf(rng)
    if country == "GB":
        return f"{rng.choice('ABCEHJKLMNPRSTWXYZ')}{rng.choice('ABCEHJKLMNPRSTWXYZ')} {rng.randint(10, 99)} " \
               f"{rng.randint(10, 99)} {rng.randint(10, 99)} {rng.choice('ABCD')}"
    if country == "US":
        return f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
    letters = "CFGHJKLMNPRTVWXYZ"
    return "".join(rng.choice(letters) for _ in range(2)) + f"{rng.randint(1000000, 9999999)}"


def iban(rng: random.Random, country: str) -> str:
    """An IBAN of `country`'s length with valid ISO 13616 check digits (and a valid national account number
    where python-stdnum checks one, as for the Netherlands), printed in groups of four."""
    from stdnum import iban as iban_check

    for _ in range(200):
        value = _iban_once(rng, country)
        if iban_check.is_valid(value):
            return value
    raise AssertionError(f"no valid IBAN drawn for {country}")


def _iban_once(rng: random.Random, country: str) -> str:
    lengths = {"DE": 18, "FR": 23, "ES": 20, "IT": 23, "GB": 18, "NL": 14, "BR": 25, "PT": 21, "IN": 18, "US": 18}
    country = country if country in lengths else "DE"
    n = lengths[country]
    if country == "GB":
        bban = "NWBK" + "".join(str(rng.randint(0, 9)) for _ in range(n - 4))
    elif country == "NL":
        bban = "ABNA" + "".join(str(rng.randint(0, 9)) for _ in range(n - 4))
    elif country == "IT":
        bban = "X" + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))
    elif country == "BR":
        bban = "".join(str(rng.randint(0, 9)) for _ in range(n - 2)) + "C1"
    else:
        bban = "".join(str(rng.randint(0, 9)) for _ in range(n))
    code = country if country not in ("IN", "US") else "DE"
    numeric = int("".join(str(int(c, 36)) for c in bban + code + "00"))
    full = f"{code}{98 - numeric % 97:02d}{bban}"
    return " ".join(full[i : i + 4] for i in range(0, len(full), 4))


def written_date(rng: random.Random, loc: Locale, *, birth: bool) -> str:
    y = rng.randint(1950, 2002) if birth else rng.randint(2019, 2025)
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    if loc.months and rng.random() < 0.5:
        return f"{loc.months[m - 1]} {d}, {y}" if loc.date_format == "mdy/" else f"{d}. {loc.months[m - 1]} {y}" \
            if loc.country == "DE" else f"{d} {loc.months[m - 1]} {y}"
    if loc.date_format == "mdy/":
        return f"{m:02d}/{d:02d}/{y}"
    sep = loc.date_format[-1]
    return f"{d:02d}{sep}{m:02d}{sep}{y}"

"""Generate the synthetic customer data drop of "Acme Mercat S.L." into ``examples/drop/``.

Acme Mercat is a fictional online shop with a call centre and customers in Spain (Spanish
and Catalan speakers), Poland, Greece, the UK and Ireland.  The drop mimics what a
data-governance team receives from nine different systems: each file has the encoding,
delimiter, header language and quirks of the tool that exported it, and the same person
appears in several files under different keys (CRM id, e-mail in another letter case,
phone number in another format, a misspelt or transliterated name).

Everything is synthetic: names are random combinations of common first names and surnames,
e-mail addresses use reserved ``example.*`` domains, identity numbers, IBANs and card numbers
are random but carry valid check digits (python-stdnum), IP addresses come from documentation
and carrier-grade-NAT ranges.

The output is fully deterministic (seed 20261123, reference date 2026-11-01, no wall clock):
running the script twice produces byte-identical files.

    python examples/generate.py              # writes examples/drop/
    python examples/generate.py --out /tmp/x # writes somewhere else
"""

from __future__ import annotations

import argparse
import csv
import io
import ipaddress
import json
import random
import re
import string
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import duckdb
import phonenumbers
from openpyxl import Workbook
from openpyxl.styles import Font
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.es import ccc, dni, nie
from stdnum.gr import amka
from stdnum.gr import vat as gr_vat
from stdnum.ie import pps
from stdnum.ie import vat as ie_vat
from stdnum.pl import pesel

SEED = 20261123
REF_DATE = date(2026, 11, 1)
FIXED_STAMP = datetime(2026, 11, 1, 0, 0, 0)
DEFAULT_OUT = Path(__file__).resolve().parent / "drop"
ANNA_WITHDRAWAL = datetime(2025, 6, 3, 11, 47, 5)  # profiling consent withdrawn by phone

# --------------------------------------------------------------------------------------------
# Name lists (invented combinations of common names; no real persons)
# --------------------------------------------------------------------------------------------

ES_FIRST = {
    "M": [
        "Antonio", "José", "Manuel", "Francisco", "David", "Javier", "Daniel", "Carlos",
        "Alejandro", "Miguel", "Rafael", "Pablo", "Sergio", "Fernando", "Jorge", "Alberto",
        "Álvaro", "Adrián", "Iván", "Rubén", "Raúl", "Andrés", "Ignacio", "Joaquín", "Gonzalo",
        "José Luis", "Juan Carlos", "Francisco Javier",
    ],
    "F": [
        "María", "Carmen", "Ana", "Laura", "Isabel", "Lucía", "Cristina", "Marta", "Elena",
        "Sara", "Paula", "Raquel", "Beatriz", "Rocío", "Pilar", "Sofía", "Inmaculada", "Begoña",
        "Ainhoa", "Nerea", "Alicia", "Verónica", "Silvia", "Mercedes", "Concepción",
        "María José", "María del Mar", "Ana Belén",
    ],
}
ES_SURNAMES = [
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
    "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez",
    "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil",
    "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega", "Delgado", "Castro",
    "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina", "Garrido", "Cortés",
    "Castillo", "Peña", "Ibáñez", "Castaño",
]
CA_FIRST = {
    "M": [
        "Jordi", "Pere", "Arnau", "Oriol", "Pau", "Marc", "Joan", "Josep", "Xavier", "Albert",
        "Martí", "Roger", "Bernat", "Guillem", "Quim", "Enric", "Lluís", "Ferran", "Àlex",
        "Sergi", "Biel", "Jaume", "Nil", "Eudald", "Gerard", "Pol", "Ramon", "Narcís", "Adrià",
        "Agustí",
    ],
    "F": [
        "Núria", "Montserrat", "Laia", "Mireia", "Anna", "Marta", "Gemma", "Meritxell", "Carme",
        "Roser", "Neus", "Berta", "Aina", "Clara", "Júlia", "Mercè", "Glòria", "Èlia", "Queralt",
        "Ariadna", "Jana", "Judit", "Ona", "Txell", "Assumpta", "Dolors", "Rut", "Sílvia",
        "Elisabet", "Maria",
    ],
}
CA_SURNAMES = [
    "Puig", "Soler", "Ferrer", "Vila", "Serra", "Font", "Riera", "Roca", "Pujol", "Casals",
    "Vidal", "Bosch", "Sala", "Mas", "Coll", "Prat", "Camps", "Batlle", "Solé", "Torrent",
    "Rovira", "Fàbregas", "Carbonell", "Comas", "Vallverdú", "Bertran", "Castells", "Farré",
    "Pagès", "Planas", "Sabaté", "Figueras", "Grau", "Llobet", "Masó", "Ribas", "Canals",
    "Cuixart", "Escolà", "Tarrés",
]
PL_FIRST = {
    "M": [
        "Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Michał", "Marcin", "Łukasz", "Jakub",
        "Grzegorz", "Wojciech", "Mateusz", "Adam", "Marek", "Kamil", "Maciej", "Rafał", "Szymon",
        "Bartłomiej", "Przemysław", "Zbigniew", "Jerzy", "Sławomir", "Mirosław", "Dariusz",
        "Jarosław", "Władysław", "Stanisław", "Mikołaj", "Józef",
    ],
    "F": [
        "Anna", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Magdalena", "Joanna",
        "Aleksandra", "Monika", "Zofia", "Elżbieta", "Dorota", "Beata", "Jadwiga", "Bożena",
        "Grażyna", "Urszula", "Iwona", "Justyna", "Weronika", "Łucja", "Halina", "Teresa",
        "Krystyna", "Jolanta", "Renata", "Wiesława", "Gabriela", "Żaneta",
    ],
}
PL_SURNAMES = [
    "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Zieliński",
    "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Wojciechowski",
    "Kwiatkowski", "Krawczyk", "Kaczmarek", "Piotrowski", "Grabowski", "Zając", "Pawłowski",
    "Michalski", "Król", "Wieczorek", "Jabłoński", "Wróbel", "Nowakowski", "Majewski",
    "Olszewski", "Stępień", "Jaworski", "Malinowski", "Dudek", "Adamczyk", "Górski", "Nowicki",
    "Sikora", "Walczak", "Baran", "Rutkowski", "Szewczyk", "Ostrowski", "Tomaszewski",
    "Pietrzak", "Kołodziej", "Bąk", "Gołębiowski", "Żak", "Ścibor", "Chmielewski",
]
GR_FIRST = {
    "M": [
        "Γιώργος", "Δημήτρης", "Νίκος", "Κώστας", "Γιάννης", "Παναγιώτης", "Βασίλης", "Χρήστος",
        "Θανάσης", "Μιχάλης", "Βαγγέλης", "Σπύρος", "Αντώνης", "Ηλίας", "Στέλιος", "Άγγελος",
        "Παύλος", "Μανώλης", "Λευτέρης", "Θοδωρής", "Αλέξανδρος", "Στάθης", "Αριστείδης",
        "Πέτρος", "Φώτης", "Σωτήρης", "Τάσος", "Χαράλαμπος", "Μάρκος", "Ορέστης",
    ],
    "F": [
        "Μαρία", "Ελένη", "Κατερίνα", "Βασιλική", "Σοφία", "Αγγελική", "Γεωργία", "Δήμητρα",
        "Κωνσταντίνα", "Ευαγγελία", "Ιωάννα", "Παρασκευή", "Χριστίνα", "Αναστασία", "Θεοδώρα",
        "Δέσποινα", "Ειρήνη", "Φωτεινή", "Αθηνά", "Σταυρούλα", "Χρυσούλα", "Ευτυχία", "Νίκη",
        "Αλεξάνδρα", "Ζωή", "Ευδοκία", "Μαργαρίτα", "Όλγα", "Ραλλού", "Στέλλα",
    ],
}
GR_SURNAMES: list[tuple[str, str]] = [  # (male, female)
    ("Παπαδόπουλος", "Παπαδοπούλου"), ("Παπαδάκης", "Παπαδάκη"), ("Γεωργίου", "Γεωργίου"),
    ("Οικονόμου", "Οικονόμου"), ("Νικολάου", "Νικολάου"), ("Ιωάννου", "Ιωάννου"),
    ("Παπαγεωργίου", "Παπαγεωργίου"), ("Βασιλείου", "Βασιλείου"), ("Καραγιάννης", "Καραγιάννη"),
    ("Δημητρίου", "Δημητρίου"), ("Αθανασίου", "Αθανασίου"), ("Κωνσταντίνου", "Κωνσταντίνου"),
    ("Μακρής", "Μακρή"), ("Αλεξίου", "Αλεξίου"), ("Παππάς", "Παππά"),
    ("Λαμπρόπουλος", "Λαμπροπούλου"), ("Σταματόπουλος", "Σταματοπούλου"),
    ("Χριστοδούλου", "Χριστοδούλου"), ("Ζαχαρίου", "Ζαχαρίου"), ("Μιχαηλίδης", "Μιχαηλίδου"),
    ("Αντωνίου", "Αντωνίου"), ("Πετρίδης", "Πετρίδου"), ("Κυριακίδης", "Κυριακίδου"),
    ("Θεοδωρίδης", "Θεοδωρίδου"), ("Αναστασίου", "Αναστασίου"), ("Σωτηρίου", "Σωτηρίου"),
    ("Μαυρίδης", "Μαυρίδου"), ("Καλογεράκης", "Καλογεράκη"), ("Τσακίρης", "Τσακίρη"),
    ("Φραγκιαδάκης", "Φραγκιαδάκη"), ("Ραφαηλίδης", "Ραφαηλίδου"), ("Μπακάλης", "Μπακάλη"),
    ("Ντόκος", "Ντόκου"), ("Ευαγγέλου", "Ευαγγέλου"),
]
EN_FIRST_GB = {
    "M": [
        "Oliver", "Jack", "Harry", "George", "Thomas", "James", "William", "Charlie", "Daniel",
        "Samuel", "Matthew", "Callum", "Rhys", "Owen", "Joseph", "Edward", "Henry", "Alfie",
        "Lewis", "Benjamin", "Ethan", "Toby", "Nathan", "Adam", "Luke", "Ryan", "Jamie", "Ben",
        "Max", "Dylan",
    ],
    "F": [
        "Emily", "Sophie", "Charlotte", "Amelia", "Olivia", "Jessica", "Hannah", "Chloe",
        "Grace", "Lucy", "Ellie", "Megan", "Rebecca", "Katie", "Eleanor", "Isabel", "Harriet",
        "Abigail", "Holly", "Freya", "Imogen", "Zoe", "Bethany", "Laura", "Rachel", "Amy",
        "Georgia", "Poppy", "Phoebe", "Alice",
    ],
}
EN_FIRST_IE = {
    "M": [
        "Liam", "Seán", "Conor", "Ciarán", "Patrick", "Declan", "Cian", "Oisín", "Darragh",
        "Eoin", "Niall", "Colm", "Fionn", "Cathal", "Donal", "Ronan", "Padraig", "Kevin", "Brian",
        "Shane", "Aidan", "Diarmuid", "Tadhg", "Killian", "Barry", "Dermot", "Eamon", "Fergal",
        "Gearóid", "Rory",
    ],
    "F": [
        "Aoife", "Siobhán", "Niamh", "Saoirse", "Róisín", "Ciara", "Sinéad", "Aisling", "Orla",
        "Caoimhe", "Clodagh", "Gráinne", "Sorcha", "Eimear", "Méabh", "Áine", "Deirdre", "Nuala",
        "Mairéad", "Bríd", "Fiona", "Sarah", "Emma", "Ailbhe", "Muireann", "Éabha", "Laoise",
        "Úna", "Treasa", "Orlaith",
    ],
}
EN_SURNAMES_GB = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Roberts", "Walker",
    "Wright", "Robinson", "Thompson", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris",
    "Clarke", "Cooper", "Turner", "Hill", "Ward", "Morris", "Baker", "Parker", "Bennett",
    "Shaw", "Price", "Marshall",
]
EN_SURNAMES_IE = [
    "Murphy", "Kelly", "O'Brien", "O'Sullivan", "Byrne", "Ryan", "Walsh", "O'Connor",
    "McCarthy", "Doyle", "Gallagher", "Fitzgerald", "Kavanagh", "Nolan", "Kennedy", "Lynch",
    "Quinn", "Brennan", "Daly", "Dunne", "Higgins", "Keane", "Moloney", "Ní Bhriain",
    "Ó Súilleabháin", "Mac Giolla", "Hegarty", "Flanagan", "Connolly", "Whelan",
]

# --------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    name: str
    postal: tuple[str, ...]
    lat: float
    lon: float
    weight: int = 1


CITIES: dict[str, list[City]] = {
    "es": [
        City("Madrid", ("280",), 40.4168, -3.7038, 8),
        City("Sevilla", ("410",), 37.3891, -5.9845, 3),
        City("Valencia", ("460",), 39.4699, -0.3763, 3),
        City("Zaragoza", ("500",), 41.6488, -0.8891, 2),
        City("Málaga", ("290",), 36.7213, -4.4214, 2),
        City("Bilbao", ("480",), 43.2630, -2.9350, 2),
        City("Murcia", ("300",), 37.9922, -1.1307, 1),
        City("Valladolid", ("470",), 41.6523, -4.7245, 1),
        City("A Coruña", ("150",), 43.3623, -8.4115, 1),
        City("Alicante", ("030",), 38.3452, -0.4810, 2),
        City("Granada", ("180",), 37.1773, -3.5986, 1),
        City("Salamanca", ("370",), 40.9701, -5.6635, 1),
    ],
    "ca": [
        City("Barcelona", ("080",), 41.3874, 2.1686, 8),
        City("Girona", ("170",), 41.9794, 2.8214, 2),
        City("Lleida", ("250",), 41.6176, 0.6200, 1),
        City("Tarragona", ("430",), 41.1189, 1.2445, 1),
        City("Sabadell", ("082",), 41.5463, 2.1086, 2),
        City("Terrassa", ("082",), 41.5610, 2.0089, 1),
        City("Reus", ("432",), 41.1560, 1.1069, 1),
        City("Vic", ("085",), 41.9301, 2.2549, 1),
        City("Manresa", ("082",), 41.7251, 1.8266, 1),
        City("Palma", ("070",), 39.5696, 2.6502, 2),
        City("Mataró", ("083",), 41.5381, 2.4447, 1),
    ],
    "pl": [
        City("Warszawa", ("00", "01", "02", "03", "04"), 52.2297, 21.0122, 8),
        City("Kraków", ("30", "31"), 50.0647, 19.9450, 4),
        City("Łódź", ("90", "91"), 51.7592, 19.4560, 3),
        City("Wrocław", ("50", "51"), 51.1079, 17.0385, 3),
        City("Poznań", ("60", "61"), 52.4064, 16.9252, 3),
        City("Gdańsk", ("80",), 54.3520, 18.6466, 2),
        City("Szczecin", ("70", "71"), 53.4285, 14.5528, 1),
        City("Bydgoszcz", ("85",), 53.1235, 18.0084, 1),
        City("Lublin", ("20",), 51.2465, 22.5684, 1),
        City("Katowice", ("40",), 50.2649, 19.0238, 2),
        City("Białystok", ("15",), 53.1325, 23.1688, 1),
        City("Gdynia", ("81",), 54.5189, 18.5305, 1),
        City("Częstochowa", ("42",), 50.8118, 19.1203, 1),
        City("Rzeszów", ("35",), 50.0412, 21.9991, 1),
        City("Toruń", ("87",), 53.0138, 18.5984, 1),
    ],
    "el": [
        City("Αθήνα", ("104", "105", "106", "112", "113", "114", "115", "117"),
             37.9838, 23.7275, 8),
        City("Θεσσαλονίκη", ("544", "546", "551"), 40.6401, 22.9444, 4),
        City("Πάτρα", ("262", "263"), 38.2466, 21.7346, 2),
        City("Ηράκλειο", ("712", "713"), 35.3387, 25.1442, 2),
        City("Λάρισα", ("412", "413"), 39.6390, 22.4191, 1),
        City("Βόλος", ("382", "383"), 39.3666, 22.9507, 1),
        City("Ιωάννινα", ("452", "453"), 39.6650, 20.8537, 1),
        City("Χανιά", ("731",), 35.5138, 24.0180, 1),
        City("Πειραιάς", ("185",), 37.9429, 23.6470, 2),
        City("Καλαμάτα", ("241",), 37.0389, 22.1142, 1),
    ],
    "gb": [
        City("London", ("N1", "N7", "E8", "SE15", "SW9", "NW3", "W12"), 51.5072, -0.1276, 8),
        City("Manchester", ("M14", "M20", "M4"), 53.4808, -2.2426, 3),
        City("Leeds", ("LS6", "LS8"), 53.8008, -1.5491, 2),
        City("Bristol", ("BS6", "BS8"), 51.4545, -2.5879, 2),
        City("Birmingham", ("B15", "B29"), 52.4862, -1.8904, 2),
        City("Edinburgh", ("EH3", "EH9"), 55.9533, -3.1883, 2),
        City("Glasgow", ("G12", "G41"), 55.8642, -4.2518, 1),
        City("Cardiff", ("CF10", "CF24"), 51.4816, -3.1791, 1),
        City("Liverpool", ("L17", "L8"), 53.4084, -2.9916, 1),
        City("Sheffield", ("S10", "S11"), 53.3811, -1.4701, 1),
    ],
    "ie": [
        City("Dublin", ("D02", "D04", "D06", "D07", "D08", "D6W"), 53.3498, -6.2603, 6),
        City("Cork", ("T12", "T23"), 51.8985, -8.4756, 2),
        City("Galway", ("H91",), 53.2707, -9.0568, 1),
        City("Limerick", ("V94",), 52.6638, -8.6267, 1),
        City("Waterford", ("X91",), 52.2593, -7.1101, 1),
    ],
}

STREETS: dict[str, list[str]] = {
    "es": [
        "Calle Mayor", "C. de Pelayo", "Av. de la Constitución", "Calle Real", "C. de Alcalá",
        "Av. de Andalucía", "Calle San Fernando", "Pl. de España", "Calle del Carmen",
        "Calle Nueva", "P.º de la Castellana", "C. de Toledo", "Gran Vía", "Av. de América",
        "Calle de la Paz", "C. del Pilar", "Av. de la Libertad", "Calle Sol", "C. de Goya",
        "Ronda de Segovia",
    ],
    "ca": [
        "Carrer Major", "C/ de Balmes", "Carrer de Sant Pere", "Rambla de Catalunya",
        "Pg. de Sant Joan", "Carrer de la Riera", "Av. Diagonal", "Carrer del Carme",
        "Carrer de Mallorca", "Travessera de Gràcia", "Carrer de l'Església", "Pl. de la Vila",
        "Carrer de Verdi", "Carrer de les Flors", "Carrer Nou", "Carrer del Mar",
        "Carrer de Sant Antoni", "Rambla Nova",
    ],
    "pl": [
        "ul. Długa", "ul. Marszałkowska", "al. Jerozolimskie", "ul. Piłsudskiego",
        "ul. Mickiewicza", "ul. Słowackiego", "ul. Kościuszki", "ul. Sienkiewicza",
        "ul. Żeromskiego", "ul. Kwiatowa", "ul. Leśna", "ul. Ogrodowa", "os. Słoneczne",
        "pl. Wolności", "ul. Źródlana", "ul. Grunwaldzka", "ul. Świętokrzyska", "ul. Polna",
        "ul. Różana", "ul. Wąska",
    ],
    "el": [
        "Οδός Ερμού", "Λεωφ. Κηφισίας", "Πατησίων", "Εγνατία", "Ακαδημίας", "Σταδίου",
        "Τσιμισκή", "Αγίου Δημητρίου", "Παπαναστασίου", "Μαιζώνος", "Κορίνθου",
        "Ελευθερίου Βενιζέλου", "28ης Οκτωβρίου", "Λεωφ. Αλεξάνδρας", "Οδός Αιόλου",
        "Ηρώων Πολυτεχνείου",
    ],
    "gb": [
        "High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue",
        "Mill Lane", "Queen Street", "Albert Road", "King's Road", "The Crescent", "Green Lane",
        "Manor Way", "Orchard Close", "Grove Road", "Springfield Road",
    ],
    "ie": [
        "Main Street", "Parnell Street", "O'Connell Street", "Patrick Street", "Shop Street",
        "Church Road", "Strand Road", "Castle Street", "Bridge Street", "Sandymount Avenue",
        "Griffith Avenue", "Mary Street",
    ],
}

# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

COUNTRY = {"es": "ES", "ca": "ES", "pl": "PL", "el": "GR", "gb": "GB", "ie": "IE"}
LANGUAGE = {"es": "es", "ca": "ca", "pl": "pl", "el": "el", "gb": "en", "ie": "en"}
DIAL = {"ES": "34", "PL": "48", "GR": "30", "GB": "44", "IE": "353"}
DOC_LABEL = {"DNI": "DNI", "NIE": "NIE", "PESEL": "PESEL", "AMKA": "ΑΜΚΑ",
             "NINO": "NI number", "PPS": "PPS number"}


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def rand_date(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randint(0, (end - start).days))


def rand_dt(rng: random.Random, day: date, first_hour: int = 0, last_hour: int = 23) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randint(first_hour, last_hour),
                    rng.randint(0, 59), rng.randint(0, 59))


def skewed_date(rng: random.Random, start: date, end: date, power: float) -> date:
    """A date in [start, end]; power < 1 skews towards ``end`` (a growing customer base)."""
    span = (end - start).days
    return start + timedelta(days=int(span * rng.random() ** power))


def rng_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed
                                                if not unicodedata.combining(c)))


def ascii_fold(text: str) -> str:
    table = str.maketrans({"ł": "l", "Ł": "L", "ß": "ss", "'": "", "·": "", " ": ""})
    return strip_accents(text).translate(table).lower()


_GREEK_DIGRAPHS = [("ου", "ou"), ("αι", "ai"), ("ει", "ei"), ("οι", "oi"), ("αυ", "av"),
                   ("ευ", "ev"), ("ντ", "nt"), ("γκ", "gk"), ("γγ", "ng"), ("τσ", "ts"),
                   ("τζ", "tz")]
_GREEK_LETTERS = {"α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i",
                  "θ": "th", "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x",
                  "ο": "o", "π": "p", "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "y",
                  "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o"}


def greek_to_latin(text: str, variant: bool = False) -> str:
    """Transliterate Greek script roughly the way people type their names in Latin letters."""
    words = []
    for word in strip_accents(text).lower().split():
        if word.startswith("μπ"):
            word = "b" + word[2:]
        word = word.replace("μπ", "mb")
        for greek, latin in _GREEK_DIGRAPHS:
            word = word.replace(greek, latin)
        latin_word = "".join(_GREEK_LETTERS.get(c, c) for c in word)
        if variant:  # informal spellings: Yiorgos, Hristos, Vasilis -> Vassilis
            latin_word = re.sub(r"^gi", "yi", latin_word)
            latin_word = latin_word.replace("ch", "h").replace("y", "i")
        words.append(latin_word.capitalize())
    return " ".join(words)


def cp_safe(text: str, encoding: str) -> str:
    """Replace characters the legacy code page cannot hold, like Windows 'best fit' does."""
    out = []
    for ch in text:
        try:
            ch.encode(encoding)
            out.append(ch)
        except UnicodeEncodeError:
            base = strip_accents(ch)
            try:
                base.encode(encoding)
                out.append(base)
            except UnicodeEncodeError:
                out.append("?")
    return "".join(out)


def case_variant(rng: random.Random, email: str) -> str:
    """The same address as typed into another system: different letter case."""
    local, _, domain = email.partition("@")
    kind = rng.choice(["title", "domain", "upper", "first"])
    if kind == "title":
        parts = re.split(r"([._-])", local)
        return "".join(p.capitalize() for p in parts) + "@" + domain.capitalize()
    if kind == "domain":
        return local + "@" + domain.upper()
    if kind == "upper":
        return email.upper()
    return local.capitalize() + "@" + domain


def misspell(rng: random.Random, name: str) -> str:
    """Introduce a plausible typo: dropped accent, swapped letters, doubled letter, dropped word."""
    for _ in range(10):
        kind = rng.choice(["accent", "accent", "swap", "double", "drop"])
        words = name.split(" ")
        if kind == "accent":
            positions = [i for i, c in enumerate(name) if strip_accents(c) != c]
            if positions:
                i = rng.choice(positions)
                return name[:i] + strip_accents(name[i]) + name[i + 1:]
        elif kind in ("swap", "double"):
            candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
            if candidates:
                wi = rng.choice(candidates)
                w = words[wi]
                ci = rng.randint(1, len(w) - 2)
                if kind == "swap" and w[ci] != w[ci + 1]:
                    words[wi] = w[:ci] + w[ci + 1] + w[ci] + w[ci + 2:]
                else:
                    words[wi] = w[:ci] + w[ci] + w[ci:]
                return " ".join(words)
        elif len(words) >= 3:
            kept = words[:-1]
            if kept[-1] == "i":
                kept = kept[:-1]
            return " ".join(kept)
    return name


def cet_offset(moment: datetime) -> str:
    """UTC offset of Europe/Madrid (EU summer-time rule) for a naive local time."""

    def last_sunday(year: int, month: int) -> date:
        d = date(year, month, 31)
        return d - timedelta(days=(d.weekday() + 1) % 7)

    start = datetime.combine(last_sunday(moment.year, 3), datetime.min.time()).replace(hour=2)
    end = datetime.combine(last_sunday(moment.year, 10), datetime.min.time()).replace(hour=3)
    return "+02:00" if start <= moment < end else "+01:00"


# --------------------------------------------------------------------------------------------
# Identifiers with valid check digits
# --------------------------------------------------------------------------------------------


class Registry:
    """Keeps generated identifiers unique across the whole drop."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def claim(self, value: str) -> bool:
        if value in self.used:
            return False
        self.used.add(value)
        return True


def make_phone(rng: random.Random, reg: Registry, country: str) -> str:
    """A mobile national significant number (no trunk prefix) that libphonenumber accepts."""
    while True:
        if country == "ES":
            nsn = rng.choice("666667") + digits(rng, 8)
        elif country == "PL":
            nsn = rng.choice(["50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79",
                              "88"]) + digits(rng, 7)
        elif country == "GR":
            nsn = rng.choice(["693", "694", "695", "697", "698", "699"]) + digits(rng, 7)
        elif country == "GB":
            nsn = "7" + rng.choice("45789") + digits(rng, 8)
        else:
            nsn = "8" + rng.choice("35679") + digits(rng, 7)
        parsed = phonenumbers.parse("+" + DIAL[country] + nsn)
        if phonenumbers.is_valid_number(parsed) and reg.claim("tel:" + nsn):
            return nsn


def national_phone(country: str, nsn: str, sep: str = " ") -> str:
    if country in ("ES", "PL"):
        return sep.join([nsn[0:3], nsn[3:6], nsn[6:9]])
    if country == "GR":
        return sep.join([nsn[0:3], nsn[3:6], nsn[6:10]])
    if country == "GB":
        return sep.join(["0" + nsn[0:4], nsn[4:10]])
    return sep.join(["0" + nsn[0:2], nsn[2:5], nsn[5:9]])


PHONE_STYLES = ["national", "national_compact", "e164", "e164_spaced", "intl00", "dashed"]


def format_phone(country: str, nsn: str, style: str) -> str:
    cc = DIAL[country]
    if style == "national":
        return national_phone(country, nsn)
    if style == "national_compact":
        return national_phone(country, nsn, "")
    if style == "dashed":
        return national_phone(country, nsn, "-")
    if style == "e164":
        return f"+{cc}{nsn}"
    if style == "e164_spaced":
        local = national_phone(country, nsn)
        return f"+{cc} {local[1:] if local.startswith('0') else local}"
    return f"00{cc} {nsn}"


def make_dni(rng: random.Random) -> str:
    body = f"{rng.randint(1_000_000, 79_999_999):08d}"
    return dni.validate(body + dni.calc_check_digit(body))


def make_nie(rng: random.Random) -> str:
    body = rng.choice("XYZ") + digits(rng, 7)
    return nie.validate(body + nie.calc_check_digit(body))


def make_pesel(rng: random.Random, birth: date, gender: str) -> str:
    month = birth.month + (20 if birth.year >= 2000 else 0)
    sex = rng.choice("13579" if gender == "M" else "02468")
    body = f"{birth.year % 100:02d}{month:02d}{birth.day:02d}{digits(rng, 3)}{sex}"
    return pesel.validate(body + pesel.calc_check_digit(body))


def make_amka(rng: random.Random, birth: date, gender: str) -> str:
    sex = rng.choice("13579" if gender == "M" else "02468")
    body = f"{birth.day:02d}{birth.month:02d}{birth.year % 100:02d}{digits(rng, 3)}{sex}"
    return amka.validate(body + luhn.calc_check_digit(body))


def make_afm(rng: random.Random) -> str:
    body = rng.choice("01") + digits(rng, 7)
    return gr_vat.validate(body + gr_vat.calc_check_digit(body))


def make_nino(rng: random.Random) -> str:
    """UK National Insurance number: no check digit, but the prefix/suffix rules apply."""
    while True:
        prefix = rng.choice("ABCEGHJKLMNOPRSTWXYZ") + rng.choice("ABCEGHJKLMNPRSTWXYZ")
        if prefix not in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
            return prefix + digits(rng, 6) + rng.choice("ABCD")


def make_pps(rng: random.Random) -> str:
    body = digits(rng, 7)
    return pps.validate(body + ie_vat.calc_check_digit(body + "A") + "A")


ES_BANKS = ["2100", "0049", "0182", "0081", "2038", "0075", "1465", "0128", "2085", "3058"]
PL_BANKS = ["102", "105", "109", "114", "116", "124", "132", "154", "175", "187"]
GR_BANKS = ["011", "014", "017", "026"]
GB_BANKS = ["NWBK", "BARC", "LOYD", "HBUK", "MIDL", "NAIA"]
IE_BANKS = ["AIBK", "BOFI", "IPBS", "ULSB"]


def make_iban(rng: random.Random, reg: Registry, country: str) -> str:
    while True:
        if country == "ES":
            number = rng.choice(ES_BANKS) + digits(rng, 4) + "00" + digits(rng, 10)
            number = number[:8] + ccc.calc_check_digits(number) + number[10:]
            bban = ccc.validate(number)
        elif country == "PL":
            branch = rng.choice(PL_BANKS) + digits(rng, 4)
            check = (10 - sum(w * int(d) for w, d in zip((3, 9, 7, 1, 3, 9, 7), branch,
                                                         strict=True)) % 10) % 10
            bban = f"{branch}{check}" + digits(rng, 16)
        elif country == "GR":
            bban = rng.choice(GR_BANKS) + digits(rng, 4) + digits(rng, 16)
        elif country == "GB":
            bban = rng.choice(GB_BANKS) + digits(rng, 6) + digits(rng, 8)
        else:
            bban = rng.choice(IE_BANKS) + digits(rng, 6) + digits(rng, 8)
        value = country + std_iban.calc_check_digits(country + "00" + bban) + bban
        if reg.claim(value):
            return std_iban.validate(value)


CARD_PREFIXES = ["411111", "400000", "424242", "455673", "510510", "555555", "520082", "545454"]


def make_card(rng: random.Random, reg: Registry) -> str:
    while True:
        body = rng.choice(CARD_PREFIXES) + digits(rng, 9)
        card = luhn.validate(body + luhn.calc_check_digit(body))
        if reg.claim(card):
            return card


def spaced_card(card: str) -> str:
    return " ".join(card[i:i + 4] for i in range(0, 16, 4))


# --------------------------------------------------------------------------------------------
# People and customer records
# --------------------------------------------------------------------------------------------


@dataclass
class Person:
    locale: str
    gender: str
    first: str
    last1: str
    last2: str
    full_name: str
    birth: date
    email: str | None
    phone: str  # national significant number
    doc: str
    doc_kind: str
    street: str
    city: City
    postal: str
    iban: str | None
    card: str | None
    afm: str | None = None

    @property
    def country(self) -> str:
        return COUNTRY[self.locale]

    @property
    def language(self) -> str:
        return LANGUAGE[self.locale]

    def phone_as(self, style: str) -> str:
        return format_phone(self.country, self.phone, style)

    def address_line(self) -> str:
        return f"{self.street}, {self.postal} {self.city.name}"


@dataclass
class Customer:
    person: Person
    alta: date
    last_purchase: date | None
    dormant: bool
    cid: str = ""
    crm_name: str = ""
    crm_email: str = ""
    crm_phone: str = ""
    crm_phone_style: str = ""
    crm_doc: str = ""
    crm_birth: str = ""
    crm_address: str = ""
    balance: str = "0.00"
    segment: str = ""
    duplicate_of: Customer | None = None
    orders: list[Order] = field(default_factory=list)


@dataclass
class Order:
    customer: Customer | None
    order_date: date
    sku: str
    quantity: int
    amount: float
    card: str
    shipping: str
    order_id: str = ""
    invoice: str = ""


def pick_name(rng: random.Random, locale: str, gender: str) -> tuple[str, str, str, str]:
    """Return first name, first surname, second surname and the full name as a CRM shows it."""
    if locale == "es":
        first = rng.choice(ES_FIRST[gender])
        last1, last2 = rng.sample(ES_SURNAMES, 2)
        return first, last1, last2, f"{first} {last1} {last2}"
    if locale == "ca":
        first = rng.choice(CA_FIRST[gender])
        last1 = rng.choice(CA_SURNAMES)
        pool = ES_SURNAMES if rng.random() < 0.25 else CA_SURNAMES
        last2 = rng.choice([s for s in pool if s != last1])
        joiner = " i " if rng.random() < 0.7 else " "
        return first, last1, last2, f"{first} {last1}{joiner}{last2}"
    if locale == "pl":
        first = rng.choice(PL_FIRST[gender])
        last = rng.choice(PL_SURNAMES)
        if gender == "F" and last.endswith(("ski", "cki", "dzki")):
            last = last[:-1] + "a"
        return first, last, "", f"{first} {last}"
    if locale == "el":
        first = rng.choice(GR_FIRST[gender])
        male, female = rng.choice(GR_SURNAMES)
        last = female if gender == "F" else male
        return first, last, "", f"{first} {last}"
    if locale == "gb":
        first = rng.choice(EN_FIRST_GB[gender] if rng.random() < 0.85 else EN_FIRST_IE[gender])
        last = rng.choice(EN_SURNAMES_GB if rng.random() < 0.8 else EN_SURNAMES_IE)
        return first, last, "", f"{first} {last}"
    first = rng.choice(EN_FIRST_IE[gender] if rng.random() < 0.7 else EN_FIRST_GB[gender])
    last = rng.choice(EN_SURNAMES_IE if rng.random() < 0.85 else EN_SURNAMES_GB)
    return first, last, "", f"{first} {last}"


EMAIL_DOMAINS: dict[str, list[tuple[str, int]]] = {
    "es": [("example.com", 5), ("correo.example.com", 3), ("example.net", 2), ("example.org", 1)],
    "ca": [("example.com", 5), ("correu.example.com", 3), ("example.net", 2), ("example.org", 1)],
    "pl": [("poczta.example.com", 4), ("example.com", 3), ("example.net", 2), ("example.org", 1)],
    "el": [("example.com", 4), ("mail.example.org", 3), ("example.net", 2)],
    "gb": [("example.com", 4), ("example.org", 3), ("example.net", 3)],
    "ie": [("example.com", 4), ("example.org", 3), ("example.net", 3)],
}


def make_email(rng: random.Random, reg: Registry, locale: str, first: str, last1: str,
               last2: str, birth: date) -> str:
    def fold(text: str) -> str:
        return ascii_fold(greek_to_latin(text) if locale == "el" else text)

    f = fold(first.split(" ")[0])
    l1 = fold(last1)
    l2 = fold(last2) if last2 else ""
    patterns = [f"{f}.{l1}", f"{f}.{l1}{birth.year % 100:02d}", f"{f[0]}{l1}", f"{f}_{l1}",
                f"{f}{l1}{rng.randint(1, 99)}", f"{l1}.{f}", f"{f[0]}.{l1}"]
    if l2:
        patterns += [f"{f}.{l1}.{l2}", f"{f}{l1[0]}{l2}"]
    domains, weights = zip(*EMAIL_DOMAINS[locale], strict=True)
    local = rng.choice(patterns)
    domain = rng.choices(domains, weights)[0]
    email = f"{local}@{domain}"
    n = 2
    while not reg.claim("mail:" + email):
        email = f"{local}{n}@{domain}"
        n += 1
    return email


def make_street(rng: random.Random, locale: str) -> str:
    street = rng.choice(STREETS[locale])
    num = rng.randint(1, 240)
    if locale == "es":
        if rng.random() < 0.05:
            estate = rng.choice(["Los Olivos", "El Pinar", "Las Acacias"])
            return f'Urb. "{estate}", portal {num % 9 + 1}'
        if rng.random() < 0.6:
            return f"{street} {num}, {rng.randint(1, 9)}º {rng.choice('ABCDI')}"
        return f"{street} {num}"
    if locale == "ca":
        if rng.random() < 0.6:
            floor = rng.choice(["1r", "2n", "3r", "4t", "5è", "6è", "pral.", "àtic", "baixos"])
            door = rng.choice(["1a", "2a", "3a", "4a"])
            if floor == "baixos":
                return f"{street} {num}, baixos"
            return f"{street} {num}, {floor} {door}"
        return f"{street} {num}"
    if locale == "pl":
        r = rng.random()
        if r < 0.55:
            return f"{street} {num}/{rng.randint(1, 80)}"
        if r < 0.7:
            return f"{street} {num} m. {rng.randint(1, 120)}"
        return f"{street} {num}{rng.choice(['', '', 'A', 'B'])}"
    if locale == "el":
        return f"{street} {num}"
    if locale == "gb":
        if rng.random() < 0.3:
            return f"Flat {rng.randint(1, 24)}, {num} {street}"
        return f"{num} {street}"
    if rng.random() < 0.25:
        return f"Apartment {rng.randint(1, 60)}, {num} {street}"
    return f"{num} {street}"


def make_postal(rng: random.Random, locale: str, city: City) -> str:
    prefix = rng.choice(city.postal)
    if locale in ("es", "ca"):
        return f"{prefix}{rng.randint(1, 45):02d}"
    if locale == "pl":
        return f"{prefix}-{rng.randint(1, 999):03d}"
    if locale == "el":
        return f"{prefix} {rng.randint(10, 99)}"
    if locale == "gb":
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        return f"{prefix} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
    chars = "ACDEFHKNPRTVWXY0123456789"  # Eircode unique identifier alphabet
    return f"{prefix} {rng.choice(chars[:15])}" + "".join(rng.choice(chars) for _ in range(3))


def make_birth(rng: random.Random) -> date:
    age = int(rng.triangular(18.5, 86, 36))
    birth = date(REF_DATE.year - age, rng.randint(1, 12), rng.randint(1, 28))
    latest = date(REF_DATE.year - 18, REF_DATE.month, REF_DATE.day)
    return birth if birth <= latest else birth.replace(year=birth.year - 1)


def make_person(rng: random.Random, reg: Registry, locale: str) -> Person:
    gender = rng.choice("FM")
    first, last1, last2, full = pick_name(rng, locale, gender)
    birth = make_birth(rng)
    country = COUNTRY[locale]
    if country == "ES":
        if rng.random() < (0.12 if locale == "es" else 0.05):
            doc, kind = make_nie(rng), "NIE"
        else:
            doc, kind = make_dni(rng), "DNI"
    elif country == "PL":
        doc, kind = make_pesel(rng, birth, gender), "PESEL"
    elif country == "GR":
        doc, kind = make_amka(rng, birth, gender), "AMKA"
    elif country == "GB":
        doc, kind = make_nino(rng), "NINO"
    else:
        doc, kind = make_pps(rng), "PPS"
    city = rng.choices(CITIES[locale], [c.weight for c in CITIES[locale]])[0]
    email = None
    if rng.random() > 0.04:
        email = make_email(rng, reg, locale, first, last1, last2, birth)
    return Person(
        locale=locale, gender=gender, first=first, last1=last1, last2=last2, full_name=full,
        birth=birth, email=email, phone=make_phone(rng, reg, country), doc=doc, doc_kind=kind,
        street=make_street(rng, locale), city=city, postal=make_postal(rng, locale, city),
        iban=make_iban(rng, reg, country) if rng.random() < 0.7 else None,
        card=make_card(rng, reg) if rng.random() < 0.55 else None,
        afm=make_afm(rng) if country == "GR" else None,
    )


def make_anna(rng: random.Random, reg: Registry) -> Person:
    """The running example of the documentation: a Catalan customer present in every system."""
    barcelona = CITIES["ca"][0]
    reg.claim("mail:anna.puig@example.com")
    reg.claim("tel:612345678")
    return Person(
        locale="ca", gender="F", first="Anna", last1="Puig", last2="Ferrer",
        full_name="Anna Puig i Ferrer", birth=date(1987, 4, 12), email="anna.puig@example.com",
        phone="612345678", doc=make_dni(rng), doc_kind="DNI",
        street="Carrer de Mallorca 214, 3r 1a", city=barcelona, postal="08008",
        iban=make_iban(rng, reg, "ES"), card=make_card(rng, reg),
    )


def format_doc(rng: random.Random, person: Person) -> str:
    doc = person.doc
    if person.doc_kind == "DNI":
        r = rng.random()
        if r < 0.1:
            return f"{doc[:8]}-{doc[8]}"
    if person.doc_kind == "NINO" and rng.random() < 0.6:
        return f"{doc[:2]} {doc[2:4]} {doc[4:6]} {doc[6:8]} {doc[8]}"
    return doc


LOCALE_COUNTS = {"es": 175, "ca": 124, "pl": 130, "el": 90, "gb": 58, "ie": 18}  # + Anna
ANNA_INDEX = 122  # -> C000123
SEGMENTS = [("bronze", 34), ("silver", 25), ("gold", 12), ("vip", 3), ("", 26)]


def make_customers(rng: random.Random, reg: Registry) -> tuple[list[Customer], Customer]:
    locales = [loc for loc, n in LOCALE_COUNTS.items() for _ in range(n)]
    rng.shuffle(locales)
    customers: list[Customer] = []
    for locale in locales:
        person = make_person(rng, reg, locale)
        r = rng.random()
        if r < 0.14:  # dormant: last order more than six years before the reference date
            alta = rand_date(rng, date(2012, 1, 10), date(2019, 6, 30))
            last = rand_date(rng, alta, min(alta + timedelta(days=1100), date(2020, 9, 30)))
            customers.append(Customer(person, alta, last, dormant=True))
        else:
            alta = skewed_date(rng, date(2012, 1, 10), date(2026, 10, 20), 0.7)
            last = None if r > 0.94 else rand_date(rng, max(alta, date(2021, 1, 4)),
                                                   date(2026, 10, 31))
            customers.append(Customer(person, alta, last, dormant=False))

    # A few people registered twice (new account, same person): identity resolution fodder.
    for original in rng.sample([c for c in customers if not c.dormant and c.person.email], 4):
        alta = rand_date(rng, original.alta + timedelta(days=120), date(2026, 9, 30))
        last = rand_date(rng, alta, date(2026, 10, 31))
        customers.append(Customer(original.person, alta, last, dormant=False,
                                  duplicate_of=original))

    customers.sort(key=lambda c: c.alta)
    anna = make_anna(rng, reg)
    anna_customer = Customer(anna, customers[ANNA_INDEX - 1].alta, date(2026, 10, 18), False)
    customers.insert(ANNA_INDEX, anna_customer)

    number = 0
    for i, customer in enumerate(customers):
        number += 1 if i <= ANNA_INDEX else rng.choice([1, 1, 1, 1, 1, 2, 3])
        customer.cid = f"C{number:06d}"
        fill_crm_fields(rng, customer)
    anna_customer.crm_phone, anna_customer.crm_phone_style = "612 345 678", "national"
    anna_customer.crm_email, anna_customer.segment = "anna.puig@example.com", "gold"
    anna_customer.crm_name, anna_customer.crm_doc = anna.full_name, anna.doc
    anna_customer.crm_birth, anna_customer.crm_address = anna.birth.isoformat(), anna.street
    return customers, anna_customer


def fill_crm_fields(rng: random.Random, c: Customer) -> None:
    p = c.person
    c.crm_name = p.full_name
    if c.duplicate_of is not None and p.locale == "ca":
        c.crm_name = p.full_name.replace(" i ", " ") if " i " in p.full_name else \
            f"{p.first} {p.last1} i {p.last2}"
    if p.email:
        c.crm_email = p.email
        if c.duplicate_of is not None or rng.random() < 0.04:
            c.crm_email = case_variant(rng, p.email)
    if rng.random() < 0.06:
        c.crm_phone_style = ""
    else:
        c.crm_phone_style = rng.choices(["national", "e164_spaced", "e164", "national_compact"],
                                        [74, 11, 8, 7])[0]
        c.crm_phone = p.phone_as(c.crm_phone_style)
    c.crm_doc = format_doc(rng, p) if rng.random() > 0.10 else ""
    c.crm_birth = p.birth.isoformat() if rng.random() > 0.14 else ""
    c.crm_address = p.street if rng.random() > 0.03 else ""
    r = rng.random()
    if c.dormant or r < 0.55:
        c.balance = "0.00"
    elif r < 0.9:
        c.balance = f"{rng.uniform(1, 480):.2f}"
    elif r < 0.95:
        c.balance = f"{-rng.uniform(1, 90):.2f}"
    else:
        c.balance = f"{rng.uniform(480, 2600):.2f}"
    c.segment = rng.choices([s for s, _ in SEGMENTS], [w for _, w in SEGMENTS])[0]


# --------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------

PRODUCTS = [  # slug per language (es, ca, pl, en), price
    ({"es": "camiseta-lino", "ca": "samarreta-lli", "pl": "koszulka-lniana",
      "en": "linen-t-shirt"}, 24.90),
    ({"es": "zapatillas-running", "ca": "sabatilles-running", "pl": "buty-do-biegania",
      "en": "running-shoes"}, 79.95),
    ({"es": "mochila-urbana", "ca": "motxilla-urbana", "pl": "plecak-miejski",
      "en": "urban-backpack"}, 49.00),
    ({"es": "chaqueta-impermeable", "ca": "jaqueta-impermeable", "pl": "kurtka-przeciwdeszczowa",
      "en": "rain-jacket"}, 119.00),
    ({"es": "taza-ceramica", "ca": "tassa-ceramica", "pl": "kubek-ceramiczny",
      "en": "ceramic-mug"}, 12.50),
    ({"es": "manta-algodon", "ca": "manta-coto", "pl": "koc-bawelniany",
      "en": "cotton-blanket"}, 39.90),
    ({"es": "auriculares-bluetooth", "ca": "auriculars-bluetooth", "pl": "sluchawki-bluetooth",
      "en": "bluetooth-headphones"}, 59.99),
]
COLOURS = ["BL", "NG", "RJ", "VD", "GR", "AZ"]


@dataclass(frozen=True)
class Sku:
    code: str
    product: int
    price: float


def make_catalogue(rng: random.Random) -> list[Sku]:
    skus = []
    for pi, (_, price) in enumerate(PRODUCTS):
        base = rng.randint(10000, 99999)
        for colour in rng.sample(COLOURS, 4):
            skus.append(Sku(f"SKU-{base}-{colour}", pi, price))
    return skus


def shipping_line(p: Person, street: str, postal: str) -> str:
    return f"{street}, {postal} {p.city.name}, {p.country}"


def make_orders(rng: random.Random, reg: Registry, customers: list[Customer],
                catalogue: list[Sku]) -> list[Order]:
    orders: list[Order] = []

    def add(customer: Customer | None, person: Person, day: date) -> None:
        sku = rng.choice(catalogue)
        qty = rng.choices([1, 2, 3, 4], [78, 15, 5, 2])[0]
        discount = rng.choice([0, 0, 0, 0, 0.1, 0.15, 0.2])
        amount = round(sku.price * qty * (1 - discount), 2)
        card = ""
        if person.card and rng.random() < 0.88:
            card = person.card if rng.random() < 0.8 else spaced_card(person.card)
        if rng.random() < 0.07:  # gift or work address
            shipping = shipping_line(person, make_street(rng, person.locale),
                                     make_postal(rng, person.locale, person.city))
        else:
            shipping = shipping_line(person, person.street, person.postal)
        order = Order(customer, day, sku.code, qty, amount, card, shipping)
        orders.append(order)
        if customer is not None:
            customer.orders.append(order)

    for c in customers:
        if c.last_purchase is None:
            continue
        add(c, c.person, c.last_purchase)
        extras = rng.choices([0, 1, 2, 3, 4], [35, 30, 20, 10, 5])[0]
        if c.dormant:
            extras = min(extras, 2)
        if c.cid == "C000123":  # the running example gets a longer history
            extras = 4
        for _ in range(extras):
            add(c, c.person, rand_date(rng, c.alta, c.last_purchase))
    for _ in range(8):  # guest checkouts: no customer account
        guest = make_person(rng, reg, rng.choice(["es", "ca", "pl", "gb"]))
        add(None, guest, rand_date(rng, date(2022, 1, 1), date(2026, 10, 31)))

    orders.sort(key=lambda o: (o.order_date, o.customer.cid if o.customer else "", o.sku))
    seq = 0
    invoice_seq: dict[int, int] = {}
    for o in orders:
        seq += rng.choice([1, 1, 1, 2])
        year = o.order_date.year
        invoice_seq[year] = invoice_seq.get(year, 0) + 1
        o.order_id = f"ORD-{year}-{seq:06d}"
        o.invoice = f"F{year % 100:02d}-{invoice_seq[year]:05d}"
    return orders


RETURN_REASONS = ["wrong size", "damaged on arrival", "not as described", "changed mind",
                  "late delivery", "wrong item sent", "defective"]


def write_orders(path: Path, rng: random.Random, orders: list[Order]) -> tuple[int, int]:
    wb = Workbook()
    ws = wb.active
    ws.title = "orders"
    header = ["order_id", "customer_id", "order_date", "sku", "quantity", "amount_eur",
              "card_number", "shipping_address", "invoice_number"]
    ws.append(header)
    for o in orders:
        ws.append([o.order_id, o.customer.cid if o.customer else None, o.order_date, o.sku,
                   o.quantity, o.amount, o.card or None, o.shipping, o.invoice])
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=6):
        row[0].number_format = "yyyy-mm-dd"
        row[3].number_format = "0.00"
    returns = wb.create_sheet("returns")
    returns.append(["return_id", "order_id", "reason", "returned_at"])
    n_returns = 0
    for o in orders:
        if rng.random() < 0.08:
            returned = min(o.order_date + timedelta(days=rng.randint(4, 40)), date(2026, 10, 31))
            if returned <= o.order_date:
                continue
            n_returns += 1
            returns.append([f"RET-{n_returns:05d}", o.order_id, rng.choice(RETURN_REASONS),
                            returned])
            returns.cell(row=returns.max_row, column=4).number_format = "yyyy-mm-dd"
    for sheet in (ws, returns):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    wb.properties.creator = "Acme Mercat ERP"
    wb.properties.lastModifiedBy = "export"
    wb.properties.created = FIXED_STAMP
    wb.properties.modified = FIXED_STAMP
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(normalise_xlsx(buffer.getvalue()))
    return len(orders), n_returns


def normalise_xlsx(raw: bytes) -> bytes:
    """openpyxl stamps 'now' into docProps/core.xml and the zip entries; pin both."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>2026-11-01T00:00:00Z\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# CSV writing
# --------------------------------------------------------------------------------------------


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]], delimiter: str,
             lineterminator: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator,
                        quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_crm(path: Path, customers: list[Customer]) -> int:
    header = ["id_cliente", "nombre_completo", "email", "telefono", "documento_identidad",
              "fecha_nacimiento", "direccion", "codigo_postal", "ciudad", "pais", "iban",
              "fecha_alta", "ultima_compra", "saldo", "segmento"]
    rows = []
    for c in customers:
        p = c.person
        iban = ""
        if p.iban:
            iban = std_iban.format(p.iban) if int(c.cid[1:]) % 5 < 2 else p.iban
        rows.append([c.cid, c.crm_name, c.crm_email, c.crm_phone, c.crm_doc, c.crm_birth,
                     c.crm_address, p.postal, p.city.name, p.country, iban, c.alta.isoformat(),
                     c.last_purchase.isoformat() if c.last_purchase else "", c.balance,
                     c.segment])
    path.write_bytes(csv_text(header, rows, ";", "\r\n").encode("utf-8-sig"))
    return len(rows)


# --------------------------------------------------------------------------------------------
# Newsletter (Polish tool, cp1250) and consent ledger
# --------------------------------------------------------------------------------------------


@dataclass
class Subscriber:
    person: Person
    email: str
    first: str
    last: str
    consent: str
    subscribed: datetime
    unsubscribed: datetime | None
    language: str


def newsletter_names(rng: random.Random, p: Person) -> tuple[str, str]:
    first = p.first
    if p.locale == "es":
        last = f"{p.last1} {p.last2}" if rng.random() < 0.7 else p.last1
    elif p.locale == "ca":
        r = rng.random()
        last = f"{p.last1} i {p.last2}" if r < 0.4 else (
            f"{p.last1} {p.last2}" if r < 0.7 else p.last1)
    elif p.locale == "el":
        variant = rng.random() < 0.25
        first, last = greek_to_latin(p.first, variant), greek_to_latin(p.last1, variant)
    else:
        last = p.last1
    if rng.random() < 0.05:
        last = misspell(rng, last)
    return first, last


def make_newsletter(rng: random.Random, reg: Registry, customers: list[Customer],
                    anna: Customer) -> tuple[list[Subscriber], list[Person]]:
    subscribers: list[Subscriber] = []

    def subscribe(p: Person, email: str, earliest: date) -> Subscriber:
        first, last = newsletter_names(rng, p)
        start = rand_dt(rng, rand_date(rng, max(earliest, date(2017, 1, 9)), date(2026, 10, 25)))
        unsub = None
        if rng.random() < 0.15 and start.date() < date(2026, 10, 1):
            unsub = rand_dt(rng, rand_date(rng, start.date() + timedelta(days=10),
                                           date(2026, 10, 30)))
        consent = "nie" if unsub else ("tak" if rng.random() < 0.93 else "nie")
        lang = p.language if not (p.locale == "ca" and rng.random() < 0.1) else "es"
        return Subscriber(p, email, first, last, consent, start, unsub, lang)

    for c in customers:
        p = c.person
        if c.duplicate_of is not None or not p.email or c is anna:
            continue
        if rng.random() < (0.55 if p.locale == "pl" else 0.42):
            email = case_variant(rng, p.email) if rng.random() < 0.12 else p.email
            subscribers.append(subscribe(p, email, c.alta))

    anna_sub = Subscriber(anna.person, "Anna.Puig@Example.com", "Anna", "Puig i Ferrer", "tak",
                          datetime(2019, 3, 2, 18, 22, 10), None, "ca")
    subscribers.append(anna_sub)

    newsletter_only: list[Person] = []
    for _ in range(130):
        locale = rng.choices(["pl", "es", "ca", "el", "gb", "ie"], [45, 25, 15, 8, 5, 2])[0]
        p = make_person(rng, reg, locale)
        if p.email is None:
            continue
        newsletter_only.append(p)
        subscribers.append(subscribe(p, p.email, date(2017, 1, 9)))
    subscribers.sort(key=lambda s: (s.subscribed, s.email))
    return subscribers, newsletter_only


def write_newsletter(path: Path, subscribers: list[Subscriber]) -> int:
    header = ["adres_email", "imie", "nazwisko", "zgoda_marketing", "data_zapisu",
              "data_wypisania", "jezyk"]
    stamp = "%Y-%m-%d %H:%M:%S"
    rows = [[s.email, cp_safe(s.first, "cp1250"), cp_safe(s.last, "cp1250"), s.consent,
             s.subscribed.strftime(stamp), s.unsubscribed.strftime(stamp) if s.unsubscribed else "",
             s.language] for s in subscribers]
    path.write_bytes(csv_text(header, rows, ",", "\r\n").encode("cp1250"))
    return len(rows)


@dataclass
class ConsentEvent:
    email: str
    purpose: str
    status: str
    at: datetime
    source: str


def make_consents(rng: random.Random, customers: list[Customer], subscribers: list[Subscriber],
                  anna: Customer) -> tuple[list[ConsentEvent], list[tuple[Customer, datetime]]]:
    """Consent ledger plus the call-centre withdrawals (which also become tickets)."""
    events: list[ConsentEvent] = []
    phone_withdrawals: list[tuple[Customer, datetime]] = []
    for s in subscribers:
        if s.consent == "tak" or s.unsubscribed:
            events.append(ConsentEvent(s.email, "marketing_email", "granted", s.subscribed,
                                       "newsletter"))
        if s.unsubscribed:
            events.append(ConsentEvent(s.email, "marketing_email", "withdrawn", s.unsubscribed,
                                       "newsletter"))
    gdpr_campaign = (date(2018, 5, 14), date(2018, 7, 31))
    for c in customers:
        email = c.person.email
        if c.duplicate_of is not None or not email or c is anna:
            continue
        if rng.random() < 0.55:
            day = c.alta if c.alta >= gdpr_campaign[0] else rand_date(rng, *gdpr_campaign)
            granted = rand_dt(rng, day, 7, 23)
            events.append(ConsentEvent(email, "analytics", "granted", granted, "web_form"))
            if rng.random() < 0.1 and day < date(2026, 9, 1):
                when = rand_dt(rng, rand_date(rng, day + timedelta(days=30), date(2026, 10, 30)))
                events.append(ConsentEvent(email, "analytics", "withdrawn", when, "web_form"))
        if rng.random() < 0.18 and not c.dormant:
            day = rand_date(rng, max(c.alta, date(2019, 1, 7)), date(2026, 6, 30))
            events.append(ConsentEvent(email, "profiling", "granted", rand_dt(rng, day, 7, 23),
                                       "web_form"))
            if rng.random() < 0.3:
                later = rand_date(rng, max(day + timedelta(days=20), date(2023, 1, 9)),
                                  date(2026, 10, 30))
                when = rand_dt(rng, later, 9, 19)
                events.append(ConsentEvent(email, "profiling", "withdrawn", when, "call_centre"))
                phone_withdrawals.append((c, when))
    anna_email = "anna.puig@example.com"
    events += [
        ConsentEvent(anna_email, "analytics", "granted", rand_dt(rng, date(2018, 6, 11), 9, 22),
                     "web_form"),
        ConsentEvent(anna_email, "profiling", "granted", datetime(2021, 2, 14, 20, 5, 41),
                     "web_form"),
        ConsentEvent(anna_email, "profiling", "withdrawn", ANNA_WITHDRAWAL, "call_centre"),
    ]
    events.sort(key=lambda e: (e.at, e.email, e.purpose))
    return events, phone_withdrawals


def write_consents(path: Path, events: list[ConsentEvent]) -> int:
    header = ["subject_email", "purpose", "status", "recorded_at", "source"]
    rows = [[e.email, e.purpose, e.status, e.at.isoformat(), e.source] for e in events]
    path.write_bytes(csv_text(header, rows, ",", "\n").encode("utf-8"))
    return len(rows)


# --------------------------------------------------------------------------------------------
# Call-centre tickets
# --------------------------------------------------------------------------------------------

GENDERED: dict[str, dict[str, tuple[str, str]]] = {  # token -> (male, female)
    "es": {"art": ("el", "la"), "Art": ("El", "La"), "hon": ("Sr.", "Sra."), "o_a": ("o", "a")},
    "ca": {"art": ("el", "la"), "Art": ("El", "La"), "hon": ("Sr.", "Sra."),
           "ada": ("at", "ada"), "molest": ("molest", "molesta")},
    "pl": {"Pan": ("Pan", "Pani"), "zglosil": ("zgłosił", "zgłosiła"),
           "prosil": ("prosił", "prosiła"), "ka": ("", "ka"),
           "zdenerwowany": ("zdenerwowany", "zdenerwowana"), "wycofal": ("wycofał", "wycofała")},
    "el": {"art": ("ο", "η"), "Art": ("Ο", "Η"), "hon": ("κ.", "κα")},
    "en": {"Hon": ("Mr", "Ms"), "poss": ("his", "her")},
}

NOTES: dict[str, list[tuple[str, str]]] = {  # language -> [(category, template)]
    "es": [
        ("delivery", "Llama {art} {hon} {name} porque no le ha llegado el pedido {order}. Se "
                     "verifica la dirección ({addr}) y se abre incidencia con el transportista."),
        ("billing", "{Art} {hon} {name} solicita cambiar la cuenta de los reembolsos. Nuevo "
                    "IBAN: {iban}. Identificad{o_a} con {doc_label} {doc}."),
        ("billing", "Pide factura del pedido {order}. Se envía a {email}. Teléfono de contacto: "
                    "{phone}."),
        ("billing", "Cobro duplicado en la tarjeta {card}. {Art} {hon} {name} está muy "
                    "molest{o_a}. Se tramita el abono."),
        ("returns", "Devolución del pedido {order} por talla incorrecta. Etiqueta enviada a "
                    "{email}."),
        ("privacy", "{Art} {hon} {name} pide la baja de las comunicaciones comerciales y el "
                    "borrado de sus datos. Se deriva al DPO."),
        ("account", "Actualiza teléfono a {phone} y correo a {email}. Verificad{o_a} con "
                    "{doc_label} {doc}."),
        ("billing", "{Art} {hon} {name} pregunta por el reembolso del pedido {order}. Pagó con "
                    "tarjeta terminada en {last4}."),
        ("complaint", "Queja: {art} {hon} {name} dice que el repartidor dejó el paquete en la "
                      "portería ({addr}) sin avisar."),
        ("account", "{Art} {hon} {name} no puede entrar en su cuenta. Se envía enlace de "
                    "recuperación a {email}."),
    ],
    "ca": [
        ("delivery", "Truca {art} {hon} {name} perquè no li ha arribat la comanda {order}. Es "
                     "comprova l'adreça ({addr}) i s'obre incidència amb el transportista."),
        ("billing", "{Art} {hon} {name} vol canviar el compte per als reemborsaments: {iban}. "
                    "Identificat amb {doc_label} {doc}."),
        ("billing", "Demana la factura de la comanda {order}. S'envia a {email}. Telèfon de "
                    "contacte {phone}."),
        ("billing", "Càrrec duplicat a la targeta {card}. {Art} {hon} {name} en demana la "
                    "devolució; es tramita."),
        ("returns", "Canvi de talla de la comanda {order}. Etiqueta de devolució enviada a "
                    "{email}."),
        ("privacy", "{Art} {hon} {name} demana no rebre més publicitat i que s'esborrin les "
                    "seves dades. Es deriva al DPD."),
        ("account", "Actualitza el telèfon a {phone}. Identific{ada} amb {doc_label} {doc}."),
        ("complaint", "{Art} {hon} {name} es queixa del retard de la comanda {order}. Molt "
                      "{molest} amb el transportista."),
    ],
    "pl": [
        ("delivery", "{Pan} {name} {zglosil}, że paczka z zamówienia {order} nie dotarła. "
                     "Sprawdzono adres: {addr}. Reklamacja u kuriera."),
        ("billing", "{Pan} {name} {prosil} o zmianę numeru konta do zwrotu: {iban}. Tożsamość "
                    "potwierdzona numerem {doc_label} {doc}."),
        ("billing", "Klient{ka} prosi o fakturę do zamówienia {order}, wysłano na {email}. Tel. "
                    "kontaktowy {phone}."),
        ("billing", "Podwójne obciążenie karty {card}. {Pan} {name} bardzo {zdenerwowany}. "
                    "Zlecono zwrot środków."),
        ("privacy", "{Pan} {name} {prosil} o usunięcie danych osobowych i wypisanie z "
                    "newslettera. Przekazano do IOD."),
        ("returns", "Zwrot zamówienia {order} – zły rozmiar. Etykieta wysłana na {email}."),
        ("account", "Zmiana numeru telefonu na {phone}. Weryfikacja: {doc_label} {doc}."),
        ("billing", "{Pan} {name} pyta o zwrot za zamówienie {order}, płatność kartą "
                    "kończącą się na {last4}."),
    ],
    "el": [
        ("delivery", "Επικοινώνησε {art} {hon} {name} γιατί δεν παρέλαβε την παραγγελία "
                     "{order}. Επιβεβαιώθηκε η διεύθυνση ({addr}). Ανοίχτηκε αίτημα στην "
                     "courier."),
        ("billing", "{Art} {hon} {name} ζητά αλλαγή IBAN για την επιστροφή χρημάτων: {iban}. "
                    "Ταυτοποίηση με {doc_label} {doc}."),
        ("billing", "Ζητήθηκε τιμολόγιο για την παραγγελία {order}. Στάλθηκε στο {email}. "
                    "Τηλ. επικοινωνίας {phone}."),
        ("billing", "{Art} {hon} {name} αναφέρει διπλή χρέωση στην κάρτα {card}. Εγκρίθηκε "
                    "επιστροφή."),
        ("privacy", "{Art} {hon} {name} ζητά διαγραφή των προσωπικών δεδομένων. Προωθήθηκε "
                    "στον DPO."),
        ("returns", "Επιστροφή προϊόντος από την παραγγελία {order}, λάθος μέγεθος. Ετικέτα "
                    "στάλθηκε στο {email}."),
        ("account", "Αλλαγή κινητού σε {phone}. Ταυτοποίηση με {doc_label} {doc}."),
    ],
    "en": [
        ("delivery", "{Hon} {name} called, parcel for order {order} not delivered. Address "
                     "confirmed: {addr}. Claim raised with courier."),
        ("billing", "{Hon} {name} asked to update refund bank details to {iban}. ID checked "
                    "against {doc_label} {doc}."),
        ("billing", "Invoice for order {order} requested, sent to {email}. Callback number "
                    "{phone}."),
        ("billing", "Double charge on card {card}. {Hon} {name} very upset. Refund issued."),
        ("privacy", "{Hon} {name} asked us to delete all {poss} personal data and stop "
                    "marketing emails. Escalated to DPO."),
        ("returns", "Return for order {order}, wrong size. Label emailed to {email}."),
        ("account", "Customer updated phone to {phone}. Verified by date of birth {dob}."),
        ("billing", "{Hon} {name} chasing refund for {order}, paid with card ending {last4}."),
    ],
}

NEUTRAL_NOTES: dict[str, list[tuple[str, str]]] = {
    "es": [("delivery", "Paquete entregado, caso cerrado."),
           ("product_question", "Consulta sobre plazos de entrega a Canarias. Informado."),
           ("product_question", "Pregunta por disponibilidad de talla M. Sin stock, se ofrece "
                                "alternativa."),
           ("other", "Llamada cortada antes de identificar al cliente.")],
    "ca": [("delivery", "Paquet lliurat, cas tancat."),
           ("product_question", "Consulta sobre la disponibilitat de la talla L. Informat."),
           ("other", "Trucada tallada, no s'ha pogut identificar el client.")],
    "pl": [("delivery", "Paczka doręczona, sprawa zamknięta."),
           ("product_question", "Pytanie o czas dostawy do paczkomatu. Udzielono informacji."),
           ("other", "Rozmowa przerwana, brak identyfikacji klienta.")],
    "el": [("delivery", "Το δέμα παραδόθηκε, το αίτημα έκλεισε."),
           ("product_question", "Ερώτηση για χρόνους παράδοσης στα νησιά. Δόθηκαν "
                                "πληροφορίες.")],
    "en": [("delivery", "Parcel delivered, case closed."),
           ("product_question", "Question about delivery times to Northern Ireland. Informed."),
           ("other", "Call dropped before ID&V.")],
}

WITHDRAWAL_NOTES = {
    "es": "{Art} {hon} {name} retira el consentimiento para la elaboración de perfiles. "
          "Registrado en el gestor de consentimientos.",
    "ca": "{Art} {hon} {name} retira el consentiment per a l'elaboració de perfils. Registrat "
          "al gestor de consentiments.",
    "pl": "{Pan} {name} {wycofal} zgodę na profilowanie. Odnotowano w rejestrze zgód.",
    "el": "{Art} {hon} {name} ανακαλεί τη συγκατάθεση για δημιουργία προφίλ. Καταχωρήθηκε.",
    "en": "{Hon} {name} withdrew consent for profiling. Logged in the consent register.",
}


def template_fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def ticket_language(rng: random.Random, p: Person) -> str:
    if p.locale == "ca":
        return "ca" if rng.random() < 0.65 else "es"
    if p.locale == "el":
        return "el" if rng.random() < 0.92 else "en"
    return p.language


def note_context(rng: random.Random, reg: Registry, p: Person, language: str,
                 orders: list[Order], opened: datetime) -> dict[str, str]:
    g = 0 if p.gender == "M" else 1
    ctx = {token: forms[g] for token, forms in GENDERED[language].items()}
    if language == "en" and p.gender == "F" and rng.random() < 0.3:
        ctx["Hon"] = "Mrs"
    name_last = p.last1
    first, full = p.first, p.full_name
    if p.locale == "el" and language != "el":
        name_last, first, full = (greek_to_latin(p.last1), greek_to_latin(p.first),
                                  greek_to_latin(p.full_name))
    ctx["name"] = rng.choices([name_last, f"{first} {name_last}", full], [40, 35, 25])[0]
    if rng.random() < 0.1:
        ctx["name"] = misspell(rng, ctx["name"])
    ctx["addr"] = p.address_line()
    ctx["phone"] = p.phone_as(rng.choice(PHONE_STYLES))
    ctx["doc_label"] = DOC_LABEL[p.doc_kind]
    ctx["doc"] = p.doc
    ctx["iban"] = p.iban or make_iban(rng, reg, p.country)
    if rng.random() < 0.5:
        ctx["iban"] = std_iban.format(ctx["iban"])
    ctx["dob"] = p.birth.strftime("%d/%m/%Y")
    if p.email:
        ctx["email"] = p.email
    if p.card:
        ctx["card"] = spaced_card(p.card) if rng.random() < 0.6 else p.card
        ctx["last4"] = p.card[-4:]
    earlier = sorted((o for o in orders if o.order_date <= opened.date()),
                     key=lambda o: o.order_date)
    if earlier:  # the order the caller talks about: one of the latest before the call
        ctx["order"] = rng.choice(earlier[-2:]).order_id
    return ctx


CATEGORY_WEIGHT = {"delivery": 4.0, "billing": 2.0, "returns": 3.0, "account": 2.0,
                   "complaint": 2.0, "privacy": 0.6}


@dataclass
class Ticket:
    opened: datetime
    phone: str | None
    channel: str
    category: str
    agent: str
    language: str
    notes: str
    name: str | None
    ref: str | None
    ticket_id: str = ""


def caller_phone_for(rng: random.Random, c: Customer | None, p: Person) -> str:
    styles = [s for s in ["e164", "intl00", "national_compact", "dashed", "e164_spaced",
                          "national"] if c is None or s != c.crm_phone_style]
    if c is not None and c.crm_phone_style == "national":
        styles = ["e164", "e164", "e164", "intl00", "national_compact", "dashed"]
    return p.phone_as(rng.choice(styles))


def displayed_name(rng: random.Random, c: Customer, language: str) -> str:
    p = c.person
    name = c.crm_name
    if p.locale == "el" and (language != "el" or rng.random() < 0.2):
        name = greek_to_latin(name)
    r = rng.random()
    if r < 0.15:
        return misspell(rng, name)
    if r < 0.25 and p.locale != "el":
        return f"{p.first} {p.last1}"
    return name


def make_tickets(rng: random.Random, reg: Registry, customers: list[Customer],
                 newsletter_only: list[Person], withdrawals: list[tuple[Customer, datetime]],
                 anna: Customer) -> list[Ticket]:
    tickets: list[Ticket] = []
    agents = [f"AG-{n:02d}" for n in range(1, 29)]
    start = date(2023, 1, 9)

    def channel_and_phone(c: Customer | None, p: Person) -> tuple[str, str | None]:
        channel = rng.choices(["phone", "chat", "email"], [65, 20, 15])[0]
        if channel == "phone" or (channel == "chat" and rng.random() < 0.5):
            return channel, caller_phone_for(rng, c, p)
        return channel, None

    for c, when in withdrawals:
        p = c.person
        language = ticket_language(rng, p)
        ctx = note_context(rng, reg, p, language, c.orders, when)
        tickets.append(Ticket(when, caller_phone_for(rng, c, p), "phone", "privacy",
                              rng.choice(agents), language,
                              WITHDRAWAL_NOTES[language].format(**ctx),
                              displayed_name(rng, c, language),
                              c.cid if rng.random() < 0.6 else None))

    candidates = [c for c in customers if c is not anna]
    weights = [0.08 if c.dormant else 1.0 for c in candidates]
    while len(tickets) < 797:
        r = rng.random()
        c: Customer | None = None
        if r < 0.82:
            c = rng.choices(candidates, weights)[0]
            p = c.person
        elif r < 0.88:
            p = rng.choice(newsletter_only)
        else:
            p = make_person(rng, reg, rng.choices(list(LOCALE_COUNTS), [30, 20, 25, 12, 10, 3])[0])
        language = ticket_language(rng, p)
        earliest = max(start, c.alta) if c else start
        opened = rand_dt(rng, rand_date(rng, earliest, date(2026, 10, 31)), 8, 20)
        ctx = note_context(rng, reg, p, language, c.orders if c else [], opened)
        if rng.random() < 0.12:
            category, template = rng.choice(NEUTRAL_NOTES[language])
        else:
            usable = [t for t in NOTES[language]
                      if all(f in ctx for f in template_fields(t[1]))]
            category, template = rng.choices(usable, [CATEGORY_WEIGHT[c] for c, _ in usable])[0]
        channel, phone = channel_and_phone(c, p)
        if c is not None:
            name: str | None = displayed_name(rng, c, language)
            ref = c.cid if rng.random() < 0.62 else None
        else:
            name = None if rng.random() < 0.15 else p.full_name
            ref = None
        tickets.append(Ticket(opened, phone, channel, category, rng.choice(agents), language,
                              template.format(**ctx), name, ref))

    a = anna.person
    anna_orders = sorted(anna.orders, key=lambda o: o.order_date)
    delivery_order = next(o for o in anna_orders if o.order_date.year >= 2023)
    tickets += [
        Ticket(rand_dt(rng, delivery_order.order_date + timedelta(days=6), 10, 18),
               "+34612345678", "phone", "delivery", "AG-07", "ca",
               f"Truca la Sra. Anna Puig perquè no li ha arribat la comanda "
               f"{delivery_order.order_id}. Es comprova l'adreça ({a.address_line()}) i s'obre "
               f"incidència amb el transportista.", "Anna Puig i Ferrer", "C000123"),
        Ticket(ANNA_WITHDRAWAL, "+34 612345678", "phone", "privacy", "AG-12", "ca",
               "La Sra. Puig retira el consentiment per a l'elaboració de perfils. Registrat al "
               "gestor de consentiments. Confirma DNI " + a.doc + ".", "Ana Puig Ferrer", None),
        Ticket(datetime(2026, 9, 22, 16, 4, 37), "0034 612345678", "chat", "billing", "AG-03",
               "es", f"La Sra. Anna Puig pide que los reembolsos vayan a su nueva cuenta "
               f"{std_iban.format(a.iban or '')}. Confirma correo anna.puig@example.com.",
               "Anna Puig", None),
    ]
    tickets.sort(key=lambda t: t.opened)
    seq = 4000
    for t in tickets:
        seq += rng.choice([1, 1, 1, 2, 3])
        t.ticket_id = f"TCK-{t.opened.year}-{seq:06d}"
    return tickets


def write_tickets(path: Path, tickets: list[Ticket]) -> int:
    lines = []
    for t in tickets:
        record = {
            "ticket_id": t.ticket_id,
            "opened_at": t.opened.isoformat() + cet_offset(t.opened),
            "caller_phone": t.phone,
            "channel": t.channel,
            "category": t.category,
            "agent": t.agent,
            "language": t.language,
            "notes": t.notes,
            "customer": {"name": t.name, "customer_ref": t.ref},
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return len(lines)


# --------------------------------------------------------------------------------------------
# Web analytics events
# --------------------------------------------------------------------------------------------

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.6723.58 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.6668.100 Mobile Safari/537.36",
]
APP_AGENTS = [
    "AcmeMercat/5.12.0 (iPhone; iOS 17.6; Scale/3.00)",
    "AcmeMercat/5.12.1 (Linux; Android 14; SM-A546B)",
]
SITE_WORDS = {  # language -> (catalogue, search, account, cart)
    "es": ("productos", "buscar", "mi-cuenta", "carrito"),
    "ca": ("productes", "cercar", "el-meu-compte", "cistella"),
    "pl": ("produkty", "szukaj", "moje-konto", "koszyk"),
    "el": ("proionta", "anazitisi", "logariasmos", "kalathi"),
    "en": ("products", "search", "my-account", "basket"),
}
SEARCH_TERMS = {
    "es": ["zapatillas", "chaqueta+mujer", "mochila", "regalo+navidad"],
    "ca": ["sabatilles", "jaqueta", "motxilla", "regal"],
    "pl": ["buty+do+biegania", "kurtka", "plecak", "prezent"],
    "el": ["papoutsia", "tsanta", "boufan"],
    "en": ["running+shoes", "rain+jacket", "backpack", "gift"],
}


@dataclass
class Visitor:
    cookie: str
    ips: list[str]
    agent: str
    device: str | None
    customer: Customer | None
    language: str
    city: City
    geo: bool


def make_ip(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.5:
        return rng.choice(["192.0.2.", "198.51.100.", "203.0.113."]) + str(rng.randint(1, 254))
    if r < 0.8:
        return f"100.{rng.randint(64, 127)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return str(ipaddress.IPv6Address((0x20010DB8 << 96) | rng.getrandbits(96)))


def make_visitor(rng: random.Random, customer: Customer | None, locale: str, city: City,
                 app: bool | None = None) -> Visitor:
    is_app = rng.random() < 0.25 if app is None else app
    ips = [make_ip(rng)]
    if rng.random() < 0.12:
        ips.append(make_ip(rng))
    return Visitor(
        cookie=str(rng_uuid(rng)), ips=ips,
        agent=rng.choice(APP_AGENTS if is_app else USER_AGENTS),
        device=str(rng_uuid(rng)).upper() if is_app else None,
        customer=customer, language=LANGUAGE[locale], city=city,
        geo=rng.random() < (0.75 if is_app else 0.25),
    )


def session_pages(rng: random.Random, v: Visitor, catalogue: list[Sku],
                  logged_in: bool) -> list[tuple[str, bool]]:
    """Pages of one visit; the flag tells whether the visitor is logged in at that point."""
    lang = v.language
    cat, search, account, cart = SITE_WORDS[lang]
    slug_lang = lang if lang in ("es", "ca", "pl") else "en"

    def product() -> str:
        sku = rng.choice(catalogue)
        slug = PRODUCTS[sku.product][0][slug_lang]
        return f"/{lang}/{cat}/{slug}-{sku.code.split('-')[1]}"

    pages: list[tuple[str, bool]] = []
    entry = rng.choices(["/", f"/{lang}/", "product", "search"], [15, 30, 40, 15])[0]
    if entry == "product":
        entry = product()
    elif entry == "search":
        entry = f"/{lang}/{search}?q={rng.choice(SEARCH_TERMS[lang])}"
    pages.append((entry, False))
    in_session = False
    for _ in range(rng.choices([0, 1, 2, 3, 4, 5, 6, 7], [18, 18, 16, 14, 12, 9, 7, 6])[0]):
        if logged_in and not in_session and rng.random() < 0.5:
            pages.append((f"/{lang}/{account}/login", False))
            in_session = True
            continue
        page = rng.choices(["product", "search", "cart", "checkout", "orders", "leak"],
                           [50, 12, 14, 8, 14 if in_session else 0,
                            3 if in_session else 0])[0]
        if page == "product":
            pages.append((product(), in_session))
        elif page == "search":
            pages.append((f"/{lang}/{search}?q={rng.choice(SEARCH_TERMS[lang])}", in_session))
        elif page == "cart":
            pages.append((f"/{lang}/{cart}", in_session))
        elif page == "checkout":
            pages.append((f"/{lang}/checkout", in_session))
        elif page == "orders":
            pages.append((f"/{lang}/{account}/orders", in_session))
        elif v.customer is not None and v.customer.person.email:
            email = quote(v.customer.person.email, safe="")
            pages.append((f"/{lang}/newsletter/confirm?email={email}&utm_source=newsletter",
                          in_session))
    return pages


WebRow = tuple[str, datetime, str, str, str, str, str | None, str | None, float | None,
               float | None]


def make_web_events(rng: random.Random, customers: list[Customer], catalogue: list[Sku],
                    anna: Customer) -> list[WebRow]:
    visitors: list[Visitor] = []
    for c in customers:
        if c is anna or c.dormant or rng.random() >= 0.38:
            continue
        visitors.append(make_visitor(rng, c, c.person.locale, c.person.city))
    for _ in range(210):
        locale = rng.choices(list(CITIES), [30, 20, 25, 12, 10, 3])[0]
        city = rng.choices(CITIES[locale], [c.weight for c in CITIES[locale]])[0]
        visitors.append(make_visitor(rng, None, locale, city))
    anna_laptop = make_visitor(rng, anna, "ca", anna.person.city, app=False)
    anna_phone = make_visitor(rng, anna, "ca", anna.person.city, app=True)

    rows: list[WebRow] = []
    window_start = datetime(2026, 8, 1)
    window_seconds = int((datetime(2026, 10, 31, 23, 0) - window_start).total_seconds())

    def visit(v: Visitor, pages: list[tuple[str, bool]] | None = None) -> None:
        logged_in = v.customer is not None and rng.random() < 0.65
        if pages is None:
            pages = session_pages(rng, v, catalogue, logged_in)
        moment = window_start + timedelta(seconds=rng.randint(0, window_seconds))
        ip = rng.choice(v.ips)
        for page, authenticated in pages:
            lat = lon = None
            if v.geo and rng.random() < 0.85:
                lat = round(v.city.lat + rng.uniform(-0.04, 0.04), 4)
                lon = round(v.city.lon + rng.uniform(-0.05, 0.05), 4)
            rows.append((str(rng_uuid(rng)), moment, v.cookie, ip, v.agent, page,
                         v.customer.cid if (authenticated and v.customer) else None,
                         v.device, lat, lon))
            moment += timedelta(seconds=rng.randint(4, 240))

    visit(anna_laptop, [("/ca/", False), ("/ca/el-meu-compte/login", False),
                        ("/ca/el-meu-compte/orders", True),
                        ("/ca/productes/motxilla-urbana-" + catalogue[8].code.split("-")[1], True),
                        ("/ca/cistella", True), ("/ca/checkout", True)])
    visit(anna_laptop, [("/ca/el-meu-compte/login", False),
                        ("/ca/newsletter/confirm?email=anna.puig%40example.com", True)])
    visit(anna_phone, [("/ca/productes/tassa-ceramica-" + catalogue[16].code.split("-")[1],
                        False), ("/ca/el-meu-compte/login", False),
                       ("/ca/el-meu-compte/orders", True)])
    for v in visitors:
        visit(v)
    while len(rows) < 2000:
        visit(rng.choice(visitors))
    rows.sort(key=lambda r: (r[1], r[0]))
    return rows[:2000]


def write_web_events(path: Path, rows: list[WebRow]) -> int:
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("""
        CREATE TABLE web_events (
            event_id VARCHAR, event_time TIMESTAMP, cookie_id VARCHAR, ip_address VARCHAR,
            user_agent VARCHAR, page VARCHAR, customer_id VARCHAR, device_id VARCHAR,
            lat DOUBLE, lon DOUBLE)
    """)
    con.executemany("INSERT INTO web_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    target = str(path).replace("'", "''")
    con.execute(f"COPY (SELECT * FROM web_events ORDER BY event_time, event_id) "
                f"TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
    con.close()
    return len(rows)


# --------------------------------------------------------------------------------------------
# Greek legacy CRM (cp1253, TAB)
# --------------------------------------------------------------------------------------------


def write_greek_legacy(path: Path, rng: random.Random, reg: Registry,
                       customers: list[Customer]) -> int:
    rows: list[list[str]] = []
    greek = [c for c in customers if c.person.locale == "el" and c.duplicate_of is None]
    used_ids = {c.cid for c in customers}
    gaps = [f"C{n:06d}" for n in range(200, 700) if f"C{n:06d}" not in used_ids]
    orphans = [(gaps[i], make_person(rng, reg, "el")) for i in (3, 17)]
    entries = [(c.cid, c.person) for c in greek if rng.random() < 0.88] + orphans
    for cid, p in sorted(entries, key=lambda e: e[0]):
        name = f"{p.last1} {p.first}"
        city = p.city.name
        if rng.random() < 0.4:
            name, city = strip_accents(name).upper(), strip_accents(city).upper()
        r = rng.random()
        mobile = p.phone if r < 0.7 else (national_phone("GR", p.phone) if r < 0.9 else "")
        rows.append([cid, name, mobile, p.afm if rng.random() > 0.08 else "",
                     p.doc if rng.random() > 0.05 else "", city])
    header = ["κωδικός_πελάτη", "ονοματεπώνυμο", "κινητό", "ΑΦΜ", "ΑΜΚΑ", "πόλη"]
    path.write_bytes(csv_text(header, rows, "\t", "\r\n").encode("cp1253"))
    return len(rows)


# --------------------------------------------------------------------------------------------
# Support survey (UTF-16)
# --------------------------------------------------------------------------------------------

SURVEY_COMMENTS = {
    "en": {
        "good": ["Fast delivery, thanks!", "Great quality, will order again.",
                 "Agent sorted my refund in minutes.", "Good, but the \"express\" shipping "
                 "took 5 days", "Easy returns, very happy"],
        "bad": ["Return label never arrived.", "Website checkout kept failing, had to try "
                "three times.", "Too expensive shipping to Ireland",
                "Delivery was late.\nSecond time this year.", "Nobody answered the chat"],
    },
    "es": {"good": ["Muy contenta con el pedido.", "Entrega rápida, gracias.",
                    "Buena atención telefónica."],
           "bad": ["El repartidor dejó el paquete en la portería sin avisar.",
                   "Tardaron dos semanas en devolverme el dinero."]},
    "ca": {"good": ["Molt bon servei, gràcies!", "Tot perfecte."],
           "bad": ["La talla no corresponia i el canvi va trigar massa."]},
    "pl": {"good": ["Szybka dostawa, polecam!", "Miła obsługa na czacie."],
           "bad": ["Kurier się spóźnił dwa dni.", "Zwrot pieniędzy trwał za długo."]},
    "el": {"good": ["Πολύ καλή εξυπηρέτηση!", "Γρήγορη παράδοση."],
           "bad": ["Η παράδοση άργησε μία εβδομάδα."]},
}
SURVEY_PII = {
    "en": "My name is {name}, please call me on {phone} about my missing order.",
    "es": "Soy {name}, llamadme al {phone}, por favor. El pedido sigue sin llegar.",
    "ca": "Sóc {name}, si us plau truqueu-me al {phone}.",
    "pl": "Proszę o kontakt: {phone}, {name}.",
    "el": "Παρακαλώ καλέστε με στο {phone}. {name}",
}


def write_survey(path: Path, rng: random.Random, reg: Registry, customers: list[Customer],
                 newsletter_only: list[Person], anna: Customer) -> int:
    rows: list[tuple[datetime, str, str, str]] = []
    active = [c for c in customers if not c.dormant and c.person.email and c is not anna]
    for i in range(149):
        r = rng.random()
        email = ""
        if r < 0.7:
            p: Person = rng.choice(active).person
            email = p.email or ""
            if rng.random() < 0.1:
                email = case_variant(rng, email)
        elif r < 0.85:
            p = rng.choice(newsletter_only)
            email = p.email or ""
        else:
            p = make_person(rng, reg, rng.choice(["es", "pl", "gb", "ca"]))
            email = (p.email or "") if r < 0.95 else ""
        score = rng.choices(range(1, 11), [3, 2, 3, 3, 6, 7, 12, 20, 22, 22])[0]
        lang = p.language if rng.random() < 0.45 else "en"
        comment = ""
        if i % 19 == 7:
            name = greek_to_latin(p.full_name) if lang != "el" and p.locale == "el" else \
                p.full_name
            comment = SURVEY_PII[lang].format(name=name, phone=p.phone_as(rng.choice(
                ["national", "e164", "e164_spaced"])))
        elif rng.random() < 0.78:
            comment = rng.choice(SURVEY_COMMENTS[lang]["good" if score >= 7 else "bad"])
        day = rand_date(rng, date(2025, 1, 6), date(2026, 10, 31))
        rows.append((rand_dt(rng, day, 7, 23), email, str(score), comment))
    rows.append((datetime(2026, 10, 21, 21, 13, 2), "anna.puig@example.com", "9",
                 "Molt bon servei, però la comanda va arribar tard."))
    rows.sort()
    header = ["respondent_email", "score", "comment", "submitted_at"]
    body = [[email, score, comment, at.strftime("%Y-%m-%d %H:%M:%S")]
            for at, email, score, comment in rows]
    text = csv_text(header, body, ",", "\r\n")
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    return len(body)


# --------------------------------------------------------------------------------------------
# GDPR request batch
# --------------------------------------------------------------------------------------------


def write_requests(path: Path, rng: random.Random, customers: list[Customer],
                   newsletter_only: list[Person], anna: Customer) -> list[list[str]]:
    base = [c for c in customers if c.duplicate_of is None and c is not anna]

    def pick(pred: Callable[[Customer], object]) -> Customer:
        return rng.choice([c for c in base if pred(c)])

    pl = pick(lambda c: c.person.locale == "pl" and c.crm_phone_style == "national")
    es = pick(lambda c: c.person.locale == "es" and not c.dormant and c.orders and c.crm_email)
    gr = pick(lambda c: c.person.locale == "el" and c.person.email and c.crm_email)
    gb = pick(lambda c: c.person.locale == "gb" and c.crm_phone_style == "national")
    dormant = pick(lambda c: c.dormant and c.crm_email)
    duplicated = rng.choice([c for c in customers if c.duplicate_of is not None]).duplicate_of
    gr2 = pick(lambda c: c.person.locale == "el" and c is not gr and c.crm_phone)
    nl_only = rng.choice(newsletter_only)
    assert duplicated is not None
    rows = [
        ["access", "anna.puig@example.com", "", ""],
        ["erasure", "", pl.person.phone_as("e164_spaced"), ""],
        ["access", "", "", es.cid],
        ["erasure", case_variant(rng, gr.person.email or ""), "", ""],
        ["access", nl_only.email or "", "", ""],
        ["erasure", "", gb.person.phone_as("e164"), ""],
        ["access", dormant.crm_email, "", ""],
        ["erasure", "", "", duplicated.cid],
        ["access", "", gr2.person.phone_as("intl00"), ""],
        ["access", "jan.nieznany@example.net", "", ""],
        ["delete-me", es.crm_email, "", ""],
        ["access", "jordi.vila(at)example.com", "", ""],
    ]
    out = []
    for i, (kind, email, phone, cid) in enumerate(rows):
        received = rand_dt(rng, date(2026, 10, 1) + timedelta(days=2 * i), 8, 20)
        out.append([f"REQ-2026-{i + 41:04d}", kind, email, phone, cid,
                    received.isoformat(timespec="seconds")])
    header = ["request_id", "type", "email", "phone", "customer_id", "received_at"]
    path.write_bytes(csv_text(header, out, ",", "\n").encode("utf-8"))
    return out


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def generate(out_dir: Path) -> dict[str, int]:
    rng = random.Random(SEED)
    reg = Registry()
    reg.claim("mail:jan.nieznany@example.net")
    out_dir.mkdir(parents=True, exist_ok=True)

    customers, anna = make_customers(rng, reg)
    catalogue = make_catalogue(rng)
    orders = make_orders(rng, reg, customers, catalogue)
    subscribers, newsletter_only = make_newsletter(rng, reg, customers, anna)
    consents, withdrawals = make_consents(rng, customers, subscribers, anna)
    tickets = make_tickets(rng, reg, customers, newsletter_only, withdrawals, anna)
    web_rows = make_web_events(rng, customers, catalogue, anna)

    counts = {
        "crm_customers.csv": write_crm(out_dir / "crm_customers.csv", customers),
        "newsletter_subscribers.csv": write_newsletter(out_dir / "newsletter_subscribers.csv",
                                                       subscribers),
        "callcentre_tickets.jsonl": write_tickets(out_dir / "callcentre_tickets.jsonl", tickets),
        "web_events.parquet": write_web_events(out_dir / "web_events.parquet", web_rows),
    }
    n_orders, n_returns = write_orders(out_dir / "orders.xlsx", rng, orders)
    counts["orders.xlsx#orders"] = n_orders
    counts["orders.xlsx#returns"] = n_returns
    counts["crm_greece_legacy.csv"] = write_greek_legacy(out_dir / "crm_greece_legacy.csv", rng,
                                                         reg, customers)
    counts["support_survey_utf16.csv"] = write_survey(out_dir / "support_survey_utf16.csv", rng,
                                                      reg, customers, newsletter_only, anna)
    counts["consents.csv"] = write_consents(out_dir / "consents.csv", consents)
    counts["requests.csv"] = len(write_requests(out_dir / "requests.csv", rng, customers,
                                                newsletter_only, anna))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args()
    for name, count in generate(args.out).items():
        print(f"{name:32} {count:6d} rows")


if __name__ == "__main__":
    main()

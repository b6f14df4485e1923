"""Demo centers and slots for an empty database: real districts and PIN codes.

Loaded by ``vaxgate run`` when the database has no centers (``demo_data: true``), and by
``vaxgate demo-data`` on demand. Each center's PIN code lies in its district in India
Post's directory (gateway/geo), and the center stands at its PIN code's point, so distance
ordering can be seen at work: Patna, Lucknow, Kolkata and Raipur have several centers of
their own and neighbours in other districts within ``booking.near_km``. Slots are
generated for the next days in three time windows and both age groups, with
deterministic capacities so demos are repeatable.
"""
from __future__ import annotations

import datetime as dt
import zlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.geo import places
from gateway.storage import Center, Slot

# (state, district, center name, pincode)
DEMO_CENTERS: list[tuple[str, str, str, str]] = [
    ("Bihar", "Patna", "PMCH Patna", "800004"),
    ("Bihar", "Patna", "UPHC Kankarbagh", "800020"),
    ("Bihar", "Patna", "Sub-divisional Hospital Danapur", "801503"),
    ("Bihar", "Patna", "PHC Phulwari Sharif", "801505"),
    ("Bihar", "Gaya", "ANMMCH Gaya", "823001"),
    ("Bihar", "Gaya", "CHC Bodh Gaya", "824231"),
    ("Bihar", "Muzaffarpur", "SKMCH Muzaffarpur", "842004"),
    ("Bihar", "Darbhanga", "DMCH Darbhanga", "846003"),
    ("Bihar", "Bhagalpur", "Sadar Hospital Bhagalpur", "812001"),
    ("Bihar", "Nalanda", "PHC Bihar Sharif", "803101"),
    ("Uttar Pradesh", "Lucknow", "Balrampur Hospital", "226001"),
    ("Uttar Pradesh", "Lucknow", "UPHC Aliganj", "226024"),
    ("Uttar Pradesh", "Lucknow", "CHC Chinhat", "226028"),
    ("Uttar Pradesh", "Varanasi", "SSPG Divisional Hospital", "221002"),
    ("Uttar Pradesh", "Varanasi", "PHC Sarnath", "221007"),
    ("Uttar Pradesh", "Kanpur Nagar", "Ursula Horsman Hospital", "208001"),
    ("Uttar Pradesh", "Prayagraj", "Tej Bahadur Sapru Hospital", "211001"),
    ("Uttar Pradesh", "Gorakhpur", "District Hospital Gorakhpur", "273001"),
    ("Uttar Pradesh", "Agra", "District Hospital Agra", "282001"),
    ("Uttar Pradesh", "Sitapur", "CHC Biswan", "261201"),
    ("West Bengal", "Kolkata", "Medical College Kolkata", "700073"),
    ("West Bengal", "Kolkata", "UPHC Ward 85 Kalighat", "700026"),
    ("West Bengal", "Howrah", "Howrah District Hospital", "711101"),
    ("West Bengal", "Murshidabad", "Berhampore MCH", "742101"),
    ("West Bengal", "Nadia", "Shaktinagar Hospital", "741102"),
    ("West Bengal", "Bankura", "BSMCH Bankura", "722102"),
    ("West Bengal", "Purulia", "Deben Mahato Hospital", "723101"),
    ("West Bengal", "Darjeeling", "Darjeeling District Hospital", "734101"),
    ("Chhattisgarh", "Raipur", "Dr BRAM Hospital Raipur", "492001"),
    ("Chhattisgarh", "Raipur", "CHC Abhanpur", "493661"),
    ("Chhattisgarh", "Bilaspur", "CIMS Bilaspur", "495001"),
    ("Chhattisgarh", "Durg", "District Hospital Durg", "491001"),
    ("Chhattisgarh", "Bastar", "CHC Tokapal", "494442"),
    ("Chhattisgarh", "Surguja", "District Hospital Ambikapur", "497001"),
    ("Chhattisgarh", "Korba", "CHC Katghora", "495445"),
    ("Bihar", "Patna", "PHC Fatuha", "803201"),
    ("Bihar", "Patna", "CHC Masaurhi", "804452"),
    ("Bihar", "Patna", "Sub-divisional Hospital Barh", "803213"),
    ("Bihar", "Vaishali", "Sadar Hospital Hajipur", "844101"),
    ("Bihar", "Saran", "Sadar Hospital Chhapra", "841301"),
    ("Bihar", "Bhojpur", "Sadar Hospital Ara", "802301"),
    ("Uttar Pradesh", "Lucknow", "CHC Mohanlalganj", "226301"),
    ("Uttar Pradesh", "Barabanki", "District Hospital Barabanki", "225001"),
    ("Uttar Pradesh", "Unnao", "District Hospital Unnao", "209801"),
    ("West Bengal", "24 Paraganas North", "Barasat District Hospital", "700124"),
    ("West Bengal", "24 Paraganas South", "Baruipur Sub-divisional Hospital", "700144"),
    ("West Bengal", "Hooghly", "Imambara Hospital Chinsurah", "712101"),
    ("Chhattisgarh", "Raipur", "CHC Tilda", "493114"),
    ("Chhattisgarh", "Dhamtari", "District Hospital Dhamtari", "493773"),
]

TIME_WINDOWS = [(dt.time(9), dt.time(11)), (dt.time(11), dt.time(13)),
                (dt.time(14), dt.time(16))]
AGE_GROUPS = ["18-44", "45+"]
VACCINES = ["COVISHIELD", "COVAXIN"]


def has_centers(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Center)))


def load_demo_data(session: Session, today: dt.date, days: int = 7) -> dict[str, int]:
    """Insert the demo centers and their slots for ``days`` days from ``today``."""
    centers = [_center(session, i, row) for i, row in enumerate(DEMO_CENTERS, start=1)]
    session.add_all(centers)
    session.flush()
    slots = [_slot(center, today + dt.timedelta(days=d), window, group)
             for center in centers for d in range(days)
             for window in TIME_WINDOWS for group in AGE_GROUPS]
    session.add_all(slots)
    session.flush()
    return {"centers": len(centers), "slots": len(slots),
            "places": sum(s.capacity for s in slots)}


def _center(session: Session, index: int, row: tuple[str, str, str, str]) -> Center:
    state, district, name, pincode = row
    place = places.place_of(session, pincode)
    return Center(code=f"DEMO{index:03d}", name=name, state=state, district=district,
                  pincode=pincode, address=f"{name}, {district}, {state} {pincode}",
                  latitude=place.latitude if place else None,
                  longitude=place.longitude if place else None)


def _slot(center: Center, date: dt.date, window: tuple[dt.time, dt.time],
          group: str) -> Slot:
    seed = zlib.crc32(f"{center.code}{date.weekday()}{window[0]}{group}".encode())
    return Slot(center_id=center.id, date=date, start_time=window[0], end_time=window[1],
                age_group=group, vaccine=VACCINES[seed % 2], capacity=10 + seed % 41,
                booked=0)

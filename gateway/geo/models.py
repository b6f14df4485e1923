"""The directory's tables. Reference data: loaded from gateway/geo/data, never edited by
the gateway, and left alone when tests empty the other tables (``info['reference_data']``)."""
from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.storage.models import Base

REFERENCE = {"reference_data": True}


class GeoState(Base):
    """A state or union territory, with the id partner apps use (stable across data
    versions)."""

    __tablename__ = "geo_states"
    __table_args__ = {"info": REFERENCE}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(60), unique=True)


class GeoDistrict(Base):
    """A revenue district as India Post's directory names it, with its median point."""

    __tablename__ = "geo_districts"
    __table_args__ = (UniqueConstraint("state_id", "name", name="uq_geo_district"),
                      {"info": REFERENCE})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state_id: Mapped[int] = mapped_column(ForeignKey("geo_states.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class GeoPincode(Base):
    """A PIN code in a district (a few PIN codes span two or three; one is primary)."""

    __tablename__ = "geo_pincodes"
    __table_args__ = {"info": REFERENCE}

    pincode: Mapped[str] = mapped_column(String(6), primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("geo_districts.id"), primary_key=True,
                                             index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean)
    locality: Mapped[str] = mapped_column(String(60))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class GeoSource(Base):
    """What was loaded: one row per fact (data_version, source, licence, attribution)."""

    __tablename__ = "geo_source"
    __table_args__ = {"info": REFERENCE}

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(300))

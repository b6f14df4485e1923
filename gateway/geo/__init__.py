"""India's PIN-code directory: states, districts and PIN codes with a point each.

Derived from India Post's All India Pincode Directory (GODL-India; see data/source.json and
build_data.py), loaded into SQL by the migration that creates its tables and again by
``vaxgate geo load`` when the bundled data is newer. The registry asks it where a PIN code
is (``places``) and how far apart two places are (``distance``); nothing reads the files
on a caller's path.
"""

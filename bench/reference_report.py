#!/usr/bin/env python3
"""Reference for the benchmarks: the area report done the careful scripted way.

shapely (GEOS) + pyproj (geodesic areas, the same GeographicLib code as geod_*), from
Debian's python3-shapely and python3-pyproj. For each claimed unit: clip to the land
mask, intersect with and subtract the control snapshot, geodesic areas. No caching.

usage: reference_report.py DATA_DIR YYYYMMDD
"""
import json
import sys

from pyproj import Geod
from shapely.geometry import shape
from shapely.ops import unary_union

CLAIM = ["UA-43", "UA-40", "UA-14", "UA-09", "UA-65", "UA-23"]


def main():
    data, day = sys.argv[1], sys.argv[2]
    geod = Geod(ellps="WGS84")

    def area(g):
        return abs(geod.geometry_area_perimeter(g)[0])

    with open(f"{data}/boundaries/geoBoundaries-UKR-ADM1.geojson") as f:
        units = {ft["properties"]["shapeISO"]: shape(ft["geometry"]) for ft in json.load(f)["features"]}
    with open(f"{data}/land/ne_10m_land_ukraine_region.geojson") as f:
        land = unary_union([shape(ft["geometry"]) for ft in json.load(f)["features"]])
    with open(f"{data}/control/deepstate/deepstatemap_data_{day}.geojson") as f:
        snap = unary_union([shape(ft["geometry"]) for ft in json.load(f)["features"]])
    print("region_code,land_area_km2,controlled_km2,gap_km2")
    for code in CLAIM:
        u = units[code].intersection(land)
        ctl = u.intersection(snap)
        gap = u.difference(snap)
        print(f"{code},{area(u)/1e6:.3f},{area(ctl)/1e6:.3f},{area(gap)/1e6:.3f}")


if __name__ == "__main__":
    main()

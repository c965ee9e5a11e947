#!/usr/bin/python3
"""Write the seed corpus of the fuzz targets into tests/fuzz/corpus/.

Seeds are small excerpts of the real data in ../shared/data (simplified and rounded so that
each fits the targets' -max_len) plus hand-made edge cases. The output is deterministic and
committed; rerun after changing this script:  /usr/bin/python3 tests/fuzz/make_corpus.py
(Debian's python3 with python3-gdal; without osgeo or the data only the hand-made seeds are
written.) The cache seeds need a body printed by the fuzz target itself:
  TC_FUZZ_DUMP_CACHE=1 build-fuzz/tests/fuzz/fuzz_cache -runs=0 2>/dev/null >body.bin
  /usr/bin/python3 tests/fuzz/make_corpus.py --cache-body body.bin
and the tiles seeds likewise (TC_FUZZ_DUMP_TILES=1 ... fuzz_tiles; --tiles-body body.bin).
Files named regress_* that this script does not write are inputs the fuzzers found
(docs/reliability.md): they are kept by hand, never regenerated.
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'corpus')
DATA = os.environ.get('TCLAIMS_DATA_DIR') or os.path.join(HERE, '..', '..', '..', 'shared', 'data')
MAX_GEOJSON = 4000


def write(sub, name, content):
    d = os.path.join(OUT, sub)
    os.makedirs(d, exist_ok=True)
    if isinstance(content, str):
        content = content.encode('utf-8')
    with open(os.path.join(d, name), 'wb') as f:
        f.write(content)


def fc(*features, crs=None):
    doc = {'type': 'FeatureCollection'}
    if crs:
        doc['crs'] = {'type': 'name', 'properties': {'name': crs}}
    doc['features'] = list(features)
    return json.dumps(doc, ensure_ascii=False, separators=(',', ':'))


def feat(geom, code='UA-14', name='Donetsk Oblast', props=None):
    p = {'shapeISO': code, 'shapeName': name} if props is None else props
    return {'type': 'Feature', 'properties': p, 'geometry': geom}


def poly(*rings):
    return {'type': 'Polygon', 'coordinates': [list(r) for r in rings]}


def square(x, y, s=0.5):
    return [[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]


# ---------------------------------------------------------------- hand-made GeoJSON

def handmade_geojson():
    sq = square(30, 48)
    cases = {
        'square': fc(feat(poly(sq))),
        'square_cw': fc(feat(poly(sq[::-1]))),
        'with_hole': fc(feat(poly(square(30, 48, 1), square(30.25, 48.25, 0.5)))),
        'hole_outside': fc(feat(poly(sq, square(32, 48)))),
        'bowtie': fc(feat(poly([[30, 48], [31, 49], [31, 48], [30, 49], [30, 48]]))),
        'unclosed': fc(feat(poly(sq[:-1]))),
        'two_points': fc(feat(poly([[30, 48], [31, 48], [30, 48]]))),
        'empty_ring': fc(feat(poly([]))),
        'point': fc(feat({'type': 'Point', 'coordinates': [30, 48]})),
        'line': fc(feat({'type': 'LineString', 'coordinates': [[30, 48], [31, 49]]})),
        'geomcoll': fc(feat({'type': 'GeometryCollection', 'geometries': [
            {'type': 'Point', 'coordinates': [30, 48]}, poly(sq)]})),
        'geomcoll_nopoly': fc(feat({'type': 'GeometryCollection', 'geometries': [
            {'type': 'Point', 'coordinates': [30, 48]}]})),
        'multipolygon': fc(feat({'type': 'MultiPolygon', 'coordinates': [
            [square(30, 48)], [square(30.25, 48.25)]]})),
        'null_geometry': fc(feat(None), feat(poly(sq), code='UA-09')),
        'no_features': fc(),
        'duplicate_codes': fc(feat(poly(square(30, 48))), feat(poly(square(30.5, 48)))),
        'missing_code': fc(feat(poly(sq), props={'name': 'x'})),
        'null_code': fc(feat(poly(sq), props={'shapeISO': None})),
        'numeric_code': fc(feat(poly(sq), props={'shapeISO': 14})),
        'code_forms': fc(feat(poly(square(30, 48)), code='ua14'),
                         feat(poly(square(31, 48)), code=' UA_09 '),
                         feat(poly(square(32, 48)), code='U')),
        'cyrillic_name': fc(feat(poly(sq), name='Донецька область')),
        'out_of_range': fc(feat(poly([[30, 48], [200, 48], [200, 95], [30, 48]]))),
        'epsg3857_nocrs': fc(feat(poly([[3339584, 6106855], [3395244, 6106855],
                                        [3395244, 6190443], [3339584, 6190443],
                                        [3339584, 6106855]]))),
        'epsg3857_crs': fc(feat(poly([[3339584, 6106855], [3395244, 6106855],
                                      [3395244, 6190443], [3339584, 6190443],
                                      [3339584, 6106855]])),
                           crs='urn:ogc:def:crs:EPSG::3857'),
        'crs84': fc(feat(poly(sq)), crs='urn:ogc:def:crs:OGC:1.3:CRS84'),
        'world': fc(feat(poly([[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]))),
        'world_band': fc(feat(poly([[-180, -85], [180, -85], [180, 85], [-180, 85], [-180, -85]]))),
        'antimeridian': fc(feat(poly(square(179.5, 0))), feat(poly(square(-180, 0)), code='UA-09')),
        'pole': fc(feat(poly([[0, 89], [120, 89], [-120, 89], [0, 89]]))),
        'z_coords': fc(feat(poly([[30, 48, 1], [31, 48, 2], [31, 49, 3], [30, 48, 1]]))),
        'tiny': fc(feat(poly([[30, 48], [30.0000001, 48], [30, 48.0000001], [30, 48]]))),
        'spike': fc(feat(poly([[30, 48], [31, 48], [30.5, 48.5], [30.5, 60], [30.5, 48.5],
                               [30, 49], [30, 48]]))),
        'touching_rings': fc(feat(poly(square(30, 48, 1), [[30, 48], [30.5, 48.5], [30.5, 48], [30, 48]]))),
    }
    for name, text in cases.items():
        write('geojson', name + '.geojson', text)
    # not quite JSON
    write('geojson', 'empty_file.geojson', '')
    write('geojson', 'truncated.geojson', cases['square'][:60])
    write('geojson', 'not_json.geojson', 'this is not json')
    write('geojson', 'nan.geojson', cases['square'].replace('30.5,48]', 'NaN,48]', 1))
    write('geojson', 'inf.geojson', cases['square'].replace('30.5,48]', '1e999,48]', 1))
    write('geojson', 'feature_only.geojson', json.dumps(feat(poly(sq))))
    write('geojson', 'bare_geometry.geojson', json.dumps(poly(sq)))
    return cases


# ---------------------------------------------------------------- real data excerpts

def real_geojson():
    try:
        from osgeo import ogr
    except ImportError:
        print('no osgeo: real-data seeds skipped', file=sys.stderr)
        return []
    ogr.UseExceptions()

    def rnd(c):
        return [round(c[0], 3), round(c[1], 3)] if isinstance(c[0], (int, float)) else [rnd(x) for x in c]

    def features(path, tol, keep=None):
        out = []
        ds = ogr.Open(path)
        for f in ds.GetLayer(0):
            props = {k: f.GetField(k) for k in ('shapeISO', 'shapeName') if f.GetFieldIndex(k) >= 0}
            if keep and props.get('shapeISO') not in keep:
                continue
            g = json.loads(f.GetGeometryRef().SimplifyPreserveTopology(tol).ExportToJson())
            g['coordinates'] = rnd(g['coordinates'])
            out.append(feat(g, props=props))
        return out

    texts = []
    b = os.path.join(DATA, 'boundaries', 'geoBoundaries-UKR-ADM1_simplified.geojson')
    if os.path.exists(b):
        for f in features(b, 0.05, keep={'UA-40', 'UA-30', 'UA-14', 'UA-09', 'UA-43', 'UA-65', 'UA-23'}):
            text = fc(f)
            if len(text.encode()) <= MAX_GEOJSON:
                write('geojson', 'real_adm1_%s.geojson' % f['properties']['shapeISO'], text)
                texts.append(text)
        pair = fc(*features(b, 0.15, keep={'UA-14', 'UA-09'}))
        if len(pair.encode()) <= MAX_GEOJSON:
            write('geojson', 'real_adm1_pair.geojson', pair)
            texts.append(pair)
    for date in ('20240708', '20250901', '20260822'):
        p = os.path.join(DATA, 'control', 'deepstate', 'deepstatemap_data_%s.geojson' % date)
        if not os.path.exists(p):
            continue
        coarse = fc(*features(p, 0.3))  # for the report pairs, beside a unit
        if len(coarse) <= MAX_GEOJSON // 2:
            texts.append(coarse)
        for tol in (0.05, 0.1, 0.2, 0.4):
            text = fc(*features(p, tol))
            if len(text) <= MAX_GEOJSON:
                write('geojson', 'real_deepstate_%s.geojson' % date, text)
                texts.append(text)
                break
    return texts


# ---------------------------------------------------------------- other targets

def dates():
    d = os.path.join(DATA, 'control', 'deepstate')
    names = sorted(os.listdir(d)) if os.path.isdir(d) else []
    for n in names[:: max(1, len(names) // 40)]:  # about 40 real file names
        write('date', n, '/data/control/deepstate/' + n)
    for i, s in enumerate([
            '2025-09-01', '20250901', '2024-02-29', '2025-02-29', '1900-02-29', '2000-02-29',
            '0999-12-31', '9999-12-31', '1000-01-01', '2025-13-01', '2025-00-10', '20250230',
            'x_123456789.geojson', 'x_2025-09-011.geojson', 'a/b_20250901/c_2024-01-01.json',
            'snap_2025-09-01_v20250902.geojson', '99999999', '2025-09-01T00:00:00Z',
            b'\xff\xfe2025-09-01', '-2025-09-01', '2025--09-01', '', '/', '20250901/']):
        write('date', 'edge_%02d' % i, s)
    # raw tc_date fields (the first 12 bytes are read as three ints by tc_archive_find)
    for i, (y, m, dd) in enumerate([(2025, 9, 1), (2024, 7, 8), (2024, 7, 7), (2999, 1, 1),
                                    (-2147483648, -2147483648, -2147483648),
                                    (2147483647, 2147483647, 2147483647), (0, 0, 0),
                                    (2025, 2, 29), (2025, 10, 1)]):
        write('date', 'raw_%02d' % i, struct.pack('<iii', y, m, dd))


def names():
    b = os.path.join(DATA, 'boundaries', 'geoBoundaries-UKR-ADM1_simplified.geojson')
    seen = []
    if os.path.exists(b):
        with open(b, encoding='utf-8') as f:
            doc = json.load(f)
        for ft in doc['features']:
            for k in ('shapeName', 'shapeISO'):
                v = ft['properties'].get(k)
                if v and v not in seen:
                    seen.append(v)
    seen += ['lugansk', 'Луганська область', 'Донецкая область', 'Zaporozhye', 'Krym', 'krim',
             'ua09', 'UA_14', ' ua-65 ', 'Sevastopol city', 'Kyiv', 'oblast', 'область',
             'Kharkiv Oblast', 'kharkiv', "Dnipropetrovs'k", 'Dnipropetrovs’k Oblast',
             'Львівська', 'ҐґЄєІіЇї', 'Ӏӏ', '\u0482\u0489', 'x' * 300, 'Л' * 150, '',
             b'\xc3', b'\xe2\x80', b'\xd0', b'\xd0\x9b\xd0', b'\xf0\x9f\x98\x80 emoji', 'ab-cde', 'U', 'UA-']
    for i, s in enumerate(seen):
        write('names', 'name_%03d' % i, s)


def wkts():
    for i, s in enumerate([
            'POLYGON((30 48,31 48,31 49,30 49,30 48))',
            'POLYGON((30 48,31 49,31 48,30 49,30 48))',
            'POLYGON((30 48,32 48,32 50,30 50,30 48),(30.5 48.5,31 48.5,31 49,30.5 49,30.5 48.5))',
            'MULTIPOLYGON(((30 48,31 48,31 49,30 48)),((32 48,33 48,33 49,32 48)))',
            'GEOMETRYCOLLECTION(POLYGON((30 48,31 48,31 49,30 48)),POINT(1 2))',
            'POLYGON EMPTY', 'POINT(30 48)', 'LINESTRING(30 48,31 49)',
            'POLYGON((-180 -90,180 -90,180 90,-180 90,-180 -90))',
            'POLYGON((30 48,31 48,31 NaN,30 48))', 'POLYGON((30 48,31 48,31 4',
            'POLYGON Z((30 48 1,31 48 2,31 49 3,30 48 1))', 'POLYGON((30 48,30 48,30 48,30 48))',
            'POLYGON((0 0,1e308 0,1e308 1e308,0 0))']):
        write('wkt', 'wkt_%02d' % i, s)


def reports(cases, real):
    pairs = [
        (cases['duplicate_codes'], cases['square']),
        (cases['square'], cases['no_features']),
        (cases['with_hole'], cases['bowtie']),
        (fc(feat(poly(square(30, 48))), feat(poly(square(30.5, 48)), code='UA-09')),
         fc(feat(poly([[30.2, 47.9], [30.8, 47.9], [30.8, 48.6], [30.2, 48.6], [30.2, 47.9]]), props={}))),
        (cases['square'], cases['world']),
    ]
    if real:
        regions = [t for t in real if '"shapeISO"' in t]
        snaps = [t for t in real if '"shapeISO"' not in t]
        for r in regions:
            for s in snaps:
                if len(r.encode()) + len(s.encode()) + 1 <= MAX_GEOJSON:
                    pairs.append((r, s))
                    break
    for i, (r, s) in enumerate(pairs):
        write('report', 'pair_%02d' % i, r.encode() + b'\0' + s.encode())


def geoms():
    def ring(pts):
        return bytes([len(pts) - 3]) + b''.join(bytes([x, y]) for x, y in pts)

    def region(code, rings):
        return bytes([code, len(rings) - 1]) + b''.join(ring(r) for r in rings)

    def snap(rings):
        return bytes([len(rings) - 1]) + b''.join(ring(r) for r in rings)

    sq = [(0, 0), (100, 0), (100, 100), (0, 100)]
    seeds = {
        'one_unit_half': bytes([0]) + region(0, [sq]) + bytes([1]) + snap([[(50, 0), (200, 0), (200, 100), (50, 100)]]),
        'two_units_sliver': bytes([1]) + region(0, [sq]) + region(1, [[(100, 0), (200, 0), (200, 100), (100, 100)]])
        + bytes([1]) + snap([[(0, 0), (198, 0), (198, 100), (0, 100)]]),
        'hole': bytes([0]) + region(0, [[(0, 0), (200, 0), (200, 200), (0, 200)], [(50, 50), (150, 50), (150, 150), (50, 150)]])
        + bytes([1]) + snap([sq]),
        'bowtie': bytes([0]) + region(0, [[(0, 0), (100, 100), (100, 0), (0, 100)]]) + bytes([0]),
        'empty_snapshot': bytes([0]) + region(0, [sq]) + bytes([0]),
        'three_units': bytes([2]) + region(0, [sq]) + region(1, [[(100, 0), (200, 0), (200, 100), (100, 100)]])
        + region(2, [[(0, 100), (200, 100), (200, 200), (0, 200)]]) + bytes([2])
        + snap([[(10, 10), (190, 10), (190, 150), (10, 150)]]) + snap([[(95, 95), (105, 95), (105, 105), (95, 105)]]),
    }
    for name, b in seeds.items():
        write('geom', name, b)


def valid_and_cuts(sub, body_path, cuts):
    """The body as the seed 'valid', and cut short at each offset (negative: from the end;
    -2: the middle). Returns the body."""
    with open(body_path, 'rb') as f:
        body = f.read()
    write(sub, 'valid', body)
    for cut in cuts:
        at = len(body) // 2 if cut == -2 else cut if cut >= 0 else len(body) + cut
        write(sub, 'cut_%05d' % at, body[:at])
    return body


def caches(body_path):
    """Seeds of fuzz_cache from the body of a real entry, which the target prints:
    TC_FUZZ_DUMP_CACHE=1 build-fuzz/tests/fuzz/fuzz_cache -runs=0 2>/dev/null >body.bin"""
    body = valid_and_cuts('cache', body_path, (0, 4, 8, 40, -2, -19, -1))
    write('cache', 'count_huge', struct.pack('<I', 0xFFFFFFFF) + body[4:])
    write('cache', 'count_zero', struct.pack('<I', 0) + body[4:])
    write('cache', 'extra_byte', body + b'\0')
    # The warning count (u32 before the trailer; 0 in this entry) made huge: cache_read()
    # allocated count * 8 bytes before checking the count (found by fuzz_cache: calloc of
    # 12 GB). Kept as a regression seed.
    trailer = len(b'TCLAIMS-REGIONSET\n')
    at = len(body) - trailer - 4
    assert body[at:at + 4] == b'\0\0\0\0', 'the seed entry has warnings: update caches()'
    write('cache', 'regress_warning_count_huge', body[:at] + struct.pack('<I', 0xFFFFFFF0) + body[at + 4:])


def tiles(body_path):
    """Seeds of fuzz_tiles from the body of a real tiles file, which the target prints:
    TC_FUZZ_DUMP_TILES=1 build-fuzz/tests/fuzz/fuzz_tiles -runs=0 2>/dev/null >body.bin"""
    body = valid_and_cuts('tiles', body_path, (0, 8, 40, 72, -2, -8, -1))
    n = struct.unpack('<Q', body[:8])[0]  # the number of cells comes first
    write('tiles', 'cells_huge', struct.pack('<Q', 0xFFFFFFFFFFFF) + body[8:])
    write('tiles', 'cells_fewer', struct.pack('<Q', max(n - 1, 0)) + body[8:])
    write('tiles', 'cell_index_huge', body[:8] + struct.pack('<q', 1 << 40) + body[16:])
    write('tiles', 'polygons_huge', body[:32] + struct.pack('<Q', 1 << 60) + body[40:])
    write('tiles', 'extra_byte', body + b'\0')


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--cache-body':
        caches(sys.argv[2])
        return
    if len(sys.argv) == 3 and sys.argv[1] == '--tiles-body':
        tiles(sys.argv[2])
        return
    cases = handmade_geojson()
    real = real_geojson()
    dates()
    names()
    wkts()
    reports(cases, real)
    geoms()


if __name__ == '__main__':
    main()

/* Benchmark helper: the time GDAL alone needs to read every snapshot of a directory
 * (open, iterate the features, export each geometry as WKB), in one thread.
 *
 *   parse_all DIR          GDAL opens each file by its path (two streaming passes)
 *   parse_all --text DIR   each file's text is handed to GDAL as the data source, as
 *                          tclaims does for GeoJSON (one parse; lib/ogr_read.c)
 */
#include <dirent.h>
#include <gdal.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file as a NUL-terminated string (owned), or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    int text = argc == 3 && strcmp(argv[1], "--text") == 0;
    if (argc != 2 + text) {
        fprintf(stderr, "usage: %s [--text] SNAPSHOT_DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1 + text];
    GDALAllRegister();
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 1;
    }
    struct dirent *e;
    size_t files = 0, features = 0, bytes = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, ".geojson"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *src = text ? slurp(path) : NULL;
        if (text && !src)
            continue;
        /* as text, only the GeoJSON driver is asked, as the library does (the others would
         * probe the whole text as a file name: 10-15% of an open) */
        static const char *const geojson_only[] = {"GeoJSON", NULL};
        GDALDatasetH ds = GDALOpenEx(text ? src : path, GDAL_OF_VECTOR | GDAL_OF_READONLY,
                                     text ? geojson_only : NULL, NULL, NULL);
        if (!ds) {
            free(src);
            continue;
        }
        OGRLayerH l = GDALDatasetGetLayer(ds, 0);
        OGRFeatureH f;
        while ((f = OGR_L_GetNextFeature(l)) != NULL) {
            OGRGeometryH g = OGR_F_GetGeometryRef(f);
            if (g) {
                size_t n = (size_t)OGR_G_WkbSize(g);
                unsigned char *buf = malloc(n);
                if (buf && OGR_G_ExportToIsoWkb(g, wkbNDR, buf) == OGRERR_NONE)
                    bytes += n;
                free(buf);
            }
            OGR_F_Destroy(f);
            features++;
        }
        GDALClose(ds);
        free(src);
        files++;
    }
    closedir(d);
    printf("%zu files, %zu features, %zu WKB bytes\n", files, features, bytes);
    return 0;
}

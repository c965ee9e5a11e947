/* Benchmark helper: the time GDAL alone needs to read every snapshot of a directory
 * (open, iterate the features, export each geometry as WKB), in one thread. */
#include <dirent.h>
#include <gdal.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SNAPSHOT_DIR\n", argv[0]);
        return 2;
    }
    GDALAllRegister();
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 1;
    }
    struct dirent *e;
    size_t files = 0, features = 0, bytes = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, ".geojson"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
        if (!ds)
            continue;
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
        files++;
    }
    closedir(d);
    printf("%zu files, %zu features, %zu WKB bytes\n", files, features, bytes);
    return 0;
}

// The floor of one durable commit: write 512 bytes, then fdatasync, timed together, N times, in a file
// under DIR (give it the folder the benchmark's data folders go under, so that it is the same filesystem
// and disk as jalmd's journal). The file is first filled to 1 MiB and synced, and the writes then cycle
// through it at increasing offsets, as SQLite appends frames to a WAL file it reuses after a checkpoint:
// no write grows the file, so fdatasync flushes the data and the disk cache, not the inode.
// Usage: fsync-floor DIR [N]   → prints "fdatasync n=… bytes=512 p50_us=… p90_us=… p99_us=… min_us=…"
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BYTES 512
#define FILE_BYTES (1 << 20)
#define WARMUP 50

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: fsync-floor DIR [N]\n"); return 2; }
    long n = argc > 2 ? atol(argv[2]) : 2000;
    if (n < 1) n = 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/fsync-floor-XXXXXX", argv[1]);
    int fd = mkstemp(path);
    if (fd < 0) { perror(path); return 1; }
    unlink(path);  // the open descriptor keeps it until we exit, whatever happens
    static char block[FILE_BYTES];
    memset(block, 'x', sizeof block);
    if (write(fd, block, sizeof block) != (ssize_t)sizeof block || fsync(fd) != 0) { perror("fill"); return 1; }
    double *lat = malloc(sizeof(double) * n);
    for (long i = -WARMUP; i < n; i++) {
        off_t off = ((i + WARMUP) * BYTES) % FILE_BYTES;
        double t0 = now_us();
        if (pwrite(fd, block, BYTES, off) != BYTES || fdatasync(fd) != 0) { perror("pwrite/fdatasync"); return 1; }
        if (i >= 0) lat[i] = now_us() - t0;
    }
    qsort(lat, n, sizeof(double), cmp);
    printf("fdatasync n=%ld bytes=%d p50_us=%.1f p90_us=%.1f p99_us=%.1f min_us=%.1f\n",
           n, BYTES, lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100], lat[0]);
    close(fd);
    return 0;
}

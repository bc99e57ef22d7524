// The direct floor for io-file's small-file benchmark: the same file operations io-file does, with no
// runner in between. THREADS threads each cycle over 64 files of 1 KiB in their own directory for SECONDS:
//   write: open a temp in the same directory (O_CREAT|O_EXCL), write 1 KiB, fsync, rename over the file,
//          fsync the directory (io-file's atomic write);
//   read:  open, fstat, read, close.
// Usage: iofile-direct DIR THREADS SECONDS   → prints "write/s=... read/s=..."
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *base;
static double seconds;
static char payload[1024];

struct job { int id; int reading; long count; };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *run(void *arg) {
    struct job *j = arg;
    char dir[4096], path[4200], temp[4200];
    snprintf(dir, sizeof dir, "%s/c%d", base, j->id);
    mkdir(dir, 0755);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) { perror(dir); exit(1); }
    char buf[4096];
    double end = now() + seconds;
    long n = 0;
    while (now() < end) {
        snprintf(path, sizeof path, "f%ld.txt", n % 64);
        if (j->reading) {
            int fd = openat(dfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
            if (fd < 0) { perror("open"); exit(1); }
            struct stat st;
            fstat(fd, &st);
            while (read(fd, buf, sizeof buf) > 0) {}
            close(fd);
        } else {
            snprintf(temp, sizeof temp, ".jalm-tmp-%d-%ld", j->id, n);
            int fd = openat(dfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0644);
            if (fd < 0) { perror("open temp"); exit(1); }
            if (write(fd, payload, sizeof payload) != sizeof payload || fsync(fd) != 0) { perror("write"); exit(1); }
            close(fd);
            if (renameat(dfd, temp, dfd, path) != 0) { perror("rename"); exit(1); }
            if (fsync(dfd) != 0) { perror("fsync dir"); exit(1); }
        }
        n++;
    }
    close(dfd);
    j->count = n;
    return NULL;
}

static double phase(int threads, int reading) {
    pthread_t t[256];
    struct job jobs[256];
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){ .id = i, .reading = reading };
        pthread_create(&t[i], NULL, run, &jobs[i]);
    }
    long total = 0;
    for (int i = 0; i < threads; i++) { pthread_join(t[i], NULL); total += jobs[i].count; }
    return total / seconds;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s DIR THREADS SECONDS\n", argv[0]); return 64; }
    base = argv[1];
    int threads = atoi(argv[2]);
    seconds = atof(argv[3]);
    if (threads < 1 || threads > 256) { fprintf(stderr, "THREADS must be 1..256\n"); return 64; }
    memset(payload, 'x', sizeof payload);
    mkdir(base, 0755);
    double w = phase(threads, 0);
    double r = phase(threads, 1);
    printf("threads=%d write/s=%.0f read/s=%.0f\n", threads, w, r);
    return 0;
}

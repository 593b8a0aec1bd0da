/*
 * What MADV_POPULATE_WRITE buys over first-touch faults on this host: fresh anonymous memory
 * (as V8 gives a WebAssembly memory or an ArrayBuffer), 4 KiB pages (no huge pages), written
 * a byte every 64 (as a table's fill writes every line), either left to fault a page at a time
 * or populated first in one madvise call. The two ways alternate, ROUNDS each; medians of the
 * process's CPU (user + sys, getrusage) for each step.
 *   cc -O2 bench/probes/populate-touch.c -o /tmp/populate-touch && /tmp/populate-touch 30 21
 * (MiB, rounds)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double cpu_ms(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, n, sizeof *v, by_value);
  return v[n / 2];
}

int main(int argc, char **argv) {
  size_t bytes = (size_t)(argc > 1 ? atoi(argv[1]) : 30) << 20;
  int rounds = argc > 2 ? atoi(argv[2]) : 21;
  double *fault = calloc(rounds, sizeof *fault), *pop = calloc(rounds, sizeof *pop), *after = calloc(rounds, sizeof *after);
  for (int r = 0; r < rounds; r++) {
    for (int populate = 0; populate < 2; populate++) {
      char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return 1;
      madvise(p, bytes, MADV_NOHUGEPAGE);
      double t0 = cpu_ms();
      if (populate && madvise(p, bytes, MADV_POPULATE_WRITE) != 0) {
        perror("MADV_POPULATE_WRITE");
        return 1;
      }
      double t1 = cpu_ms();
      for (size_t i = 0; i < bytes; i += 64) p[i] = 1;
      double t2 = cpu_ms();
      if (populate) {
        pop[r] = t1 - t0;
        after[r] = t2 - t1;
      } else {
        fault[r] = t2 - t0;
      }
      munmap(p, bytes);
    }
  }
  double f = median(fault, rounds), p = median(pop, rounds), a = median(after, rounds);
  double pages = bytes / 4096.0;
  printf("%zu MiB, %d rounds: faults %.1f ms (%.0f ns a page); populate %.1f + writes %.1f = %.1f ms (%.0f ns a page); ratio %.3f\n",
         bytes >> 20, rounds, f, f * 1e6 / pages, p, a, p + a, (p + a) * 1e6 / pages, (p + a) / f);
  return 0;
}

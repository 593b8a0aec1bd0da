// The gzip objects' inflate at its best: libdeflate (the vendored native/libdeflate, built with
// the flags under test) over files held in memory, one thread, the thread's CPU time: what libuv's
// pool does for each object of a bucket (native/inflate.c async_execute) less the read, the
// hand-over and the pipeline's other threads. bench/RESULTS.md, session 18 "inflate".
//   L=native/libdeflate; cc -O2 -I$L -o /tmp/inflate-speed bench/probes/inflate-speed.c
//     $L/lib/deflate_decompress.c $L/lib/gzip_decompress.c $L/lib/crc32.c $L/lib/utils.c $L/lib/x86/cpu_features.c
//   find BUCKET -name '*.gz' | sort > /tmp/gz.txt; /tmp/inflate-speed /tmp/gz.txt ROUNDS MODE [BUFFERS [huge]]
// MODE gzip: libdeflate_gzip_decompress_ex a file (CRC-32 and size checked), the best round;
// split: the raw deflate stream and libdeflate_crc32 over its output timed apart (files with a
// 10-byte gzip head only); BUFFERS (default 1): output buffers used in turn, so that each file
// is written to memory not in this core's caches once BUFFERS x the largest file pass its L2;
// `huge`: the output buffers 2 MiB-aligned and advised MADV_HUGEPAGE before their first touch
// (file-buffers.ts lays the inflated text of objects over 1 MiB on transparent huge pages).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/mman.h>
#endif
#include "libdeflate.h"

static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: inflate-speed LIST ROUNDS gzip|split [BUFFERS [huge]]\n");
    return 2;
  }
  FILE *list = fopen(argv[1], "r");
  const int rounds = atoi(argv[2]), split = strcmp(argv[3], "split") == 0, buffers = argc > 4 ? atoi(argv[4]) : 1;
  const int huge = argc > 5 && strcmp(argv[5], "huge") == 0;
  char path[4096];
  int n = 0, cap = 0;
  unsigned char **in = NULL;
  size_t *in_len = NULL, *out_len = NULL, largest = 0, text = 0, gz = 0;
  while (list && fgets(path, sizeof path, list)) {
    path[strcspn(path, "\n")] = 0;
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    fseek(f, 0, SEEK_END);
    const long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n == cap) {
      cap = cap ? 2 * cap : 1024;
      in = realloc(in, cap * sizeof *in);
      in_len = realloc(in_len, cap * sizeof *in_len);
      out_len = realloc(out_len, cap * sizeof *out_len);
    }
    in[n] = malloc(size);
    if (size < 18 || fread(in[n], 1, size, f) != (size_t)size) return 1;
    fclose(f);
    in_len[n] = size;
    out_len[n] = in[n][size - 4] | in[n][size - 3] << 8 | in[n][size - 2] << 16 | (size_t)in[n][size - 1] << 24; // ISIZE
    if (out_len[n] > largest) largest = out_len[n];
    text += out_len[n];
    gz += size;
    n++;
  }
  unsigned char **out = malloc(buffers * sizeof *out);
  const size_t two_mib = (size_t)2 << 20, room = (largest + two_mib - 1) & ~(two_mib - 1);
  for (int b = 0; b < buffers; b++) {
    out[b] = huge ? aligned_alloc(two_mib, room) : malloc(largest);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (huge && madvise(out[b], room, MADV_HUGEPAGE) != 0) perror("madvise");
#endif
    memset(out[b], 1, largest); // backed before the clock starts
  }
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
  double best = 1e9, best_crc = 1e9;
  for (int r = 0; r < rounds; r++) {
    const double t0 = cpu_s();
    double crc_s = 0;
    for (int i = 0; i < n; i++) {
      unsigned char *o = out[i % buffers];
      if (!split) {
        size_t used;
        if (libdeflate_gzip_decompress_ex(d, in[i], in_len[i], o, out_len[i], &used, NULL) != LIBDEFLATE_SUCCESS) return 3;
        continue;
      }
      if (in[i][3] != 0) return 4; // a head with optional fields: not for this mode
      if (libdeflate_deflate_decompress(d, in[i] + 10, in_len[i] - 18, o, out_len[i], NULL) != LIBDEFLATE_SUCCESS) return 3;
      const double c0 = cpu_s();
      volatile uint32_t crc = libdeflate_crc32(0, o, out_len[i]);
      (void)crc;
      crc_s += cpu_s() - c0;
    }
    const double t = cpu_s() - t0;
    if (t < best) best = t;
    if (crc_s < best_crc) best_crc = crc_s;
  }
  printf("%d files, %.1f MB gzip, %.1f MB text, %d output buffer(s)%s: best of %d %.1f ms = %.0f MB/s of text", n, gz / 1e6, text / 1e6, buffers, huge ? " on huge pages" : "", rounds,
         best * 1e3, text / 1e6 / best);
  if (split) printf(" (CRC-32 %.1f ms of it)", best_crc * 1e3);
  printf("\n");
  return 0;
}

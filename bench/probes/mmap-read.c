// Reading files with pread() against mapping them (mmap) over a fixed window, each block's '\n's
// counted with AVX2: the probe behind bench/RESULTS.md "GCP blobs: the read moved off the parse
// thread" (on this KVM guest every mmap form cost 1.2-4.5x the read).
//   cc -O2 -mavx2 -o /tmp/mmap-read bench/probes/mmap-read.c && /tmp/mmap-read MODE FILE...
// MODE 0: pread 256 KiB blocks; 1: each block mapped MAP_FIXED|MAP_POPULATE; 2: each file mapped
// whole with MAP_POPULATE; 3: pread without the count; 4: each block mapped, faulted in.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <immintrin.h>
#define W (256 * 1024)
static unsigned long scan(const unsigned char *p, size_t n) {
  __m256i nl = _mm256_set1_epi8('\n'); unsigned long c = 0;
  for (size_t i = 0; i + 32 <= n; i += 32) c += __builtin_popcount(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256((const void*)(p+i)), nl)));
  return c;
}
static double cpu(void){ struct rusage r; getrusage(RUSAGE_SELF,&r); return r.ru_utime.tv_sec*1e3+r.ru_utime.tv_usec/1e3+r.ru_stime.tv_sec*1e3+r.ru_stime.tv_usec/1e3; }
int main(int argc, char **argv) {
  int mode = atoi(argv[1]); // 0 read, 1 mmap per block fixed, 2 mmap whole file populate, 3 read no scan
  unsigned char *win = mmap(NULL, 64<<20, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  memset(win, 0, 64<<20);
  for (int r = 0; r < 3; r++) {
  double c0 = cpu(); unsigned long lines = 0;
  for (int f = 2; f < argc; f++) {
    int fd = open(argv[f], O_RDONLY); struct stat st; fstat(fd, &st); size_t size = st.st_size;
    if (mode == 0 || mode == 3) { for (size_t pos = 0; pos < size; ) { ssize_t got = pread(fd, win, W, pos); if (got <= 0) break; if (mode==0) lines += scan(win, got); pos += got; } }
    else if (mode == 1) { for (size_t pos = 0; pos < size; pos += W) { size_t n = size - pos < W ? size - pos : W; size_t m = (n + 4095) & ~4095UL;
        void *a = mmap(win, m, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_POPULATE, fd, pos); if (a == MAP_FAILED) { perror("mmap"); return 1; } lines += scan(win, n); } 
        mmap(win, W, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0); }
    else if (mode == 4) { for (size_t pos = 0; pos < size; pos += W) { size_t n = size - pos < W ? size - pos : W; size_t m = (n + 4095) & ~4095UL;
        void *a = mmap(win, m, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED, fd, pos); if (a == MAP_FAILED) { perror("mmap"); return 1; } lines += scan(win, n); } 
        mmap(win, W, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0); }
    else { size_t m = (size + 4095) & ~4095UL; void *a = mmap(win, m, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_POPULATE, fd, 0); if (a == MAP_FAILED) { perror("mmap"); return 1; } lines += scan(win, size);
        mmap(win, m, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0); }
    close(fd);
  }
  printf("mode %d lines %lu cpu %.1f ms\n", mode, lines, cpu() - c0);
  }
  return 0;
}

/*
 * What first touches of fresh memory cost with 4 KiB pages and with transparent huge pages
 * (madvise MADV_HUGEPAGE over the whole 2 MiB pages, as the native module's adviseHugePages
 * does for the engine's batch ring): 56 MiB (the bucket's ring) calloc'd and touched a page
 * at a time, CPU ms, and the AnonHugePages it ended with.
 *   cc -O2 -o /tmp/thp-touch bench/probes/thp-touch.c && /tmp/thp-touch 0 && /tmp/thp-touch 1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <stdint.h>
static double now(){struct timespec t;clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t);return t.tv_sec*1e3+t.tv_nsec/1e6;}
int main(int argc,char**argv){
  size_t n=56u<<20; int huge=atoi(argv[1]);
  char*p=calloc(1,n);
  if(huge){ uintptr_t a=((uintptr_t)p+(2<<20)-1)&~(uintptr_t)((2<<20)-1); uintptr_t e=((uintptr_t)p+n)&~(uintptr_t)((2<<20)-1); if(madvise((void*)a,e-a,MADV_HUGEPAGE)) perror("madvise"); }
  double t=now(); for(size_t i=0;i<n;i+=4096) p[i]=1; double d=now()-t;
  FILE*f=fopen("/proc/self/smaps_rollup","r"); char l[256]; long ah=0; while(fgets(l,256,f)) if(!strncmp(l,"AnonHugePages",13)) sscanf(l+14,"%ld",&ah);
  printf("huge=%d touch 56MB: %.2f ms cpu, AnonHugePages %ld kB\n",huge,d,ah); return 0;}

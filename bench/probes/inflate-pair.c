/*
 * Two gzip objects' deflate streams decoded interleaved in one thread (a fastloop item of one,
 * then of the other), against libdeflate decoding them one after the other: whether the decode
 * leaves the core idle enough for a second stream to fill (bench/RESULTS.md, session 18
 * "inflate": 0.94-0.97x the CPU, measured, not built). Every pair is first checked byte for
 * byte against libdeflate's gzip decode. Files with a 10-byte gzip head only.
 *   G=/tmp/pair; mkdir -p $G && python3 bench/probes/inflate-pair-gen.py native/libdeflate/lib/decompress_template.h $G
 *   L=native/libdeflate; cc -O2 -I$L -I$G -o $G/pair bench/probes/inflate-pair.c
 *     $L/lib/gzip_decompress.c $L/lib/crc32.c $L/lib/utils.c $L/lib/x86/cpu_features.c
 *   find BUCKET -name '*.gz' | sort > /tmp/gz.txt; $G/pair /tmp/gz.txt ROUNDS MODE
 * MODE 0: libdeflate, one stream after the other; 1: the pair interleaved; 2: the resumable
 * decoder alone, one stream after the other (its cost without the interleave). x86-64 with BMI2.
 */
#define _GNU_SOURCE
#include "lib/deflate_decompress.c"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PH_START, PH_FAST, PH_BLOCK_DONE };
#define ST_YIELD 100
struct stream {
	struct libdeflate_decompressor *d;
	const u8 *in, *in_next, *in_end, *in_fastloop_end;
	u8 *out, *out_next, *out_end, *out_fastloop_end;
	bitbuf_t bitbuf;
	u32 bitsleft;
	size_t overread_count;
	bool is_final_block;
	int phase;
	size_t in_used;
};
#define STREAM_SAVE(ph) do { s->out_next = out_next; s->in_next = in_next; s->bitbuf = bitbuf; s->bitsleft = bitsleft; \
	s->overread_count = overread_count; s->is_final_block = is_final_block; s->phase = (ph); } while (0)

static void stream_init(struct stream *s, struct libdeflate_decompressor *d, const void *in, size_t in_nbytes, void *out, size_t out_nbytes) {
	memset(s, 0, sizeof *s);
	s->d = d;
	s->in = s->in_next = in; s->in_end = s->in + in_nbytes; s->in_fastloop_end = s->in_end - MIN(in_nbytes, FASTLOOP_MAX_BYTES_READ);
	s->out = s->out_next = out; s->out_end = s->out + out_nbytes; s->out_fastloop_end = s->out_end - MIN(out_nbytes, FASTLOOP_MAX_BYTES_WRITTEN);
	s->phase = PH_START;
}

#define FUNCNAME stream_run_bmi2
#define ATTRIBUTES _target_attribute("bmi2")
#define EXTRACT_VARBITS(word, count)  _bzhi_u64((word), (count))
#define EXTRACT_VARBITS8(word, count) _bzhi_u64((word), (count))
#include "stream_template.h"
#define EXTRACT_VARBITS(word, count)  _bzhi_u64((word), (count))
#define EXTRACT_VARBITS8(word, count) _bzhi_u64((word), (count))

#define REFILL_X(X) do { bitbuf_##X |= get_unaligned_leword(in_next_##X) << (u8)bitsleft_##X; in_next_##X += sizeof(bitbuf_t) - 1; \
	in_next_##X -= (bitsleft_##X >> 3) & 0x7; bitsleft_##X |= MAX_BITSLEFT & ~7; } while (0)
#define REFILL_A() REFILL_X(A)
#define REFILL_B() REFILL_X(B)
#define LOAD_X(X, s) struct libdeflate_decompressor * restrict d_##X = (s)->d; u8 * const out_##X = (s)->out; u8 *out_next_##X = (s)->out_next; \
	u8 * const out_fastloop_end_##X = (s)->out_fastloop_end; const u8 *in_next_##X = (s)->in_next; const u8 * const in_fastloop_end_##X = (s)->in_fastloop_end; \
	bitbuf_t bitbuf_##X = (s)->bitbuf, saved_bitbuf_##X; u32 bitsleft_##X = (s)->bitsleft; bitbuf_t litlen_tablemask_##X = BITMASK(d_##X->litlen_tablebits); u32 entry_##X
#define SAVE_X(X, s, ph) do { (s)->out_next = out_next_##X; (s)->in_next = in_next_##X; (s)->bitbuf = bitbuf_##X; (s)->bitsleft = bitsleft_##X; (s)->phase = (ph); } while (0)

/* both streams PH_FAST and within their fastloop bounds: run items of each in turn until one
   leaves its block or its bounds (returns 0 for a, 1 for b; that one is PH_BLOCK_DONE or PH_FAST),
   or -1 - which: bad data in that stream */
static _target_attribute("bmi2") int pair_run_bmi2(struct stream * restrict sa, struct stream * restrict sb) {
#undef SAFETY_CHECK
	LOAD_X(A, sa);
	LOAD_X(B, sb);
	REFILL_A();
	entry_A = d_A->u.litlen_decode_table[bitbuf_A & litlen_tablemask_A];
	REFILL_B();
	entry_B = d_B->u.litlen_decode_table[bitbuf_B & litlen_tablemask_B];
	for (;;) {
#include "item_A.h"
	next_A:
		if (unlikely(!(in_next_A < in_fastloop_end_A && out_next_A < out_fastloop_end_A))) {
			SAVE_X(A, sa, PH_FAST); SAVE_X(B, sb, PH_FAST); return 0;
		}
#include "item_B.h"
	next_B:
		if (unlikely(!(in_next_B < in_fastloop_end_B && out_next_B < out_fastloop_end_B))) {
			SAVE_X(A, sa, PH_FAST); SAVE_X(B, sb, PH_FAST); return 1;
		}
	}
eob_A:
	SAVE_X(A, sa, PH_BLOCK_DONE); SAVE_X(B, sb, PH_FAST); return 0;
eob_B:
	SAVE_X(A, sa, PH_FAST); SAVE_X(B, sb, PH_BLOCK_DONE); return 1;
bad_A:
	return -1;
bad_B:
	return -2;
}

/* results: 0 success (in_used set), else libdeflate error; ra/rb */
static void decode_pair(struct stream *a, struct stream *b, int *ra, int *rb) {
	int r0 = stream_run_bmi2(a, 1), r1 = stream_run_bmi2(b, 1);
	while (r0 == ST_YIELD && r1 == ST_YIELD) {
		int w = pair_run_bmi2(a, b);
		if (w == 0) r0 = stream_run_bmi2(a, 1);
		else if (w == 1) r1 = stream_run_bmi2(b, 1);
		else { if (w == -1) r0 = LIBDEFLATE_BAD_DATA; else r1 = LIBDEFLATE_BAD_DATA; }
	}
	while (r0 == ST_YIELD) r0 = stream_run_bmi2(a, 0);
	while (r1 == ST_YIELD) r1 = stream_run_bmi2(b, 0);
	*ra = r0; *rb = r1;
}

static double cpu(void){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  FILE*l=fopen(argv[1],"r"); int rounds=atoi(argv[2]); int mode=atoi(argv[3]);
  char path[4096]; int n=0,cap=1024; unsigned char**in=malloc(cap*sizeof*in); size_t*inl=malloc(cap*sizeof*inl); size_t*outl=malloc(cap*sizeof*outl);
  size_t maxo=0,tot=0;
  while(fgets(path,sizeof path,l)){path[strcspn(path,"\n")]=0;FILE*f=fopen(path,"rb");fseek(f,0,SEEK_END);long s=ftell(f);fseek(f,0,SEEK_SET);
    in[n]=malloc(s);if(fread(in[n],1,s,f)!=(size_t)s)return 1;fclose(f);inl[n]=s;outl[n]=in[n][s-4]|in[n][s-3]<<8|in[n][s-2]<<16|(size_t)in[n][s-1]<<24; if(outl[n]>maxo)maxo=outl[n];tot+=outl[n];n++;}
  unsigned char*o1=malloc(maxo), *o2=malloc(maxo), *ref=malloc(maxo); memset(o1,1,maxo); memset(o2,1,maxo);
  struct libdeflate_decompressor*d1=libdeflate_alloc_decompressor(), *d2=libdeflate_alloc_decompressor();
  /* check: every file's bytes equal to libdeflate's */
  for(int i=0;i+1<n;i+=2){ struct stream a,b; int ra,rb; if(in[i][3]||in[i+1][3]) return 2;
    stream_init(&a,d1,in[i]+10,inl[i]-18,o1,outl[i]); stream_init(&b,d2,in[i+1]+10,inl[i+1]-18,o2,outl[i+1]); decode_pair(&a,&b,&ra,&rb);
    size_t u; if(libdeflate_gzip_decompress_ex(d1,in[i],inl[i],ref,outl[i],&u,NULL)||ra||memcmp(ref,o1,outl[i])||a.in_used!=inl[i]-18){fprintf(stderr,"mismatch %d ra %d\n",i,ra);return 3;}
    if(libdeflate_gzip_decompress_ex(d1,in[i+1],inl[i+1],ref,outl[i+1],&u,NULL)||rb||memcmp(ref,o2,outl[i+1])||b.in_used!=inl[i+1]-18){fprintf(stderr,"mismatch %d rb %d\n",i+1,rb);return 3;} }
  double best=1e9;
  for(int r=0;r<rounds;r++){double t0=cpu();
    for(int i=0;i+1<n;i+=2){
      if(mode==0){ libdeflate_deflate_decompress_ex(d1,in[i]+10,inl[i]-18,o1,outl[i],NULL,NULL); libdeflate_deflate_decompress_ex(d2,in[i+1]+10,inl[i+1]-18,o2,outl[i+1],NULL,NULL); }
      else if(mode==2){ struct stream a; stream_init(&a,d1,in[i]+10,inl[i]-18,o1,outl[i]); stream_run_bmi2(&a,0); stream_init(&a,d2,in[i+1]+10,inl[i+1]-18,o2,outl[i+1]); stream_run_bmi2(&a,0);}
      else { struct stream a,b; int ra,rb; stream_init(&a,d1,in[i]+10,inl[i]-18,o1,outl[i]); stream_init(&b,d2,in[i+1]+10,inl[i+1]-18,o2,outl[i+1]); decode_pair(&a,&b,&ra,&rb); }
    }
    double t=cpu()-t0; if(t<best)best=t;}
  printf("mode %d: %d files %.1f MB text; best %.1f ms = %.0f MB/s\n",mode,n,tot/1e6,best*1e3,tot/1e6/best);
}
